// The select backend.
//
// Kernel behaviour this file copes with:
// - fd_set is a fixed FD_SETSIZE (1024) bit array and glibc's FD_SET aborts above it, but the
//   kernel accepts any nfds with bigger arrays. We keep our own bit arrays of unsigned long,
//   sized to the highest fd, and never use the FD_* macros, so fds >= FD_SETSIZE work.
// - select() overwrites its arguments: the interest sets are copied into output sets that
//   are reused between calls (no allocation per wait).
// - A closed fd in a set fails the whole call with EBADF. Instead of failing the loop (as
//   libevent does) we find the closed fds with fcntl(F_GETFD) and report them ready for
//   reading and writing, as poll's POLLNVAL would be; the program's callback sees the error.
// - pselect() takes a timespec: nanosecond timeouts, no rounding down.
#include <fcntl.h>
#include <sys/select.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>

#include "backends/backend.h"
#include "core/base.h"
#include "core/log.h"
#include "core/mm.h"

namespace reevent::backends {
namespace {

constexpr int kBits = static_cast<int>(sizeof(unsigned long) * CHAR_BIT);

struct SelectState {
    mm::Vec<unsigned long> want_r, want_w;  // interest
    mm::Vec<unsigned long> out_r, out_w;    // results of the last wait
    int maxfd = -1;
    int nready = 0;
    bool badfd = false;
};

bool test(const mm::Vec<unsigned long> &v, int fd) {
    size_t w = static_cast<size_t>(fd / kBits);
    return w < v.size() && (v[w] >> (fd % kBits)) & 1UL;
}

void *select_create_state(event_base *, int) {
    auto *st = mm::make<SelectState>();
    if (!st) errno = ENOMEM;
    return st;
}

void select_destroy(void *p) { mm::destroy(static_cast<SelectState *>(p)); }

int select_apply(void *p, int fd, core::FdSlot &, unsigned, unsigned new_mask) {
    auto *st = static_cast<SelectState *>(p);
    size_t words = static_cast<size_t>(fd / kBits) + 1;
    if (words > st->want_r.size()) {
        if (!st->want_r.resize(words) || !st->want_w.resize(words) || !st->out_r.resize(words) ||
            !st->out_w.resize(words)) {
            log::warn("select: out of memory adding fd %d", fd);
            return -1;
        }
    }
    size_t w = static_cast<size_t>(fd / kBits);
    unsigned long bit = 1UL << (fd % kBits);
    if (new_mask & kRead) st->want_r[w] |= bit; else st->want_r[w] &= ~bit;
    if (new_mask & kWrite) st->want_w[w] |= bit; else st->want_w[w] &= ~bit;
    if ((new_mask & (kRead | kWrite)) && fd > st->maxfd) st->maxfd = fd;
    if (!(new_mask & (kRead | kWrite)) && fd == st->maxfd) {
        while (st->maxfd >= 0 && !test(st->want_r, st->maxfd) && !test(st->want_w, st->maxfd))
            --st->maxfd;
    }
    return 0;
}

int select_wait_for(void *p, int64_t timeout_ns) {
    auto *st = static_cast<SelectState *>(p);
    size_t words = st->maxfd >= 0 ? static_cast<size_t>(st->maxfd / kBits) + 1 : 0;
    if (words) {
        std::memcpy(st->out_r.data(), st->want_r.data(), words * sizeof(unsigned long));
        std::memcpy(st->out_w.data(), st->want_w.data(), words * sizeof(unsigned long));
    }
    timespec ts;
    timespec *tsp = timeout_timespec(timeout_ns, ts);
    fd_set *r = words ? reinterpret_cast<fd_set *>(st->out_r.data()) : nullptr;
    fd_set *w = words ? reinterpret_cast<fd_set *>(st->out_w.data()) : nullptr;
    int n = pselect(st->maxfd + 1, r, w, nullptr, tsp, nullptr);
    st->badfd = false;
    if (n < 0) {
        st->nready = 0;
        if (errno == EINTR) return 0;
        if (errno == EBADF) {
            st->badfd = true;
            return 0;
        }
        log::warn_errno("select");
        return -1;
    }
    st->nready = n;
    return 0;
}

void select_report(void *p, event_base *base) {
    auto *st = static_cast<SelectState *>(p);
    if (st->badfd) {
        st->badfd = false;
        for (int fd = 0; fd <= st->maxfd; ++fd) {
            if ((test(st->want_r, fd) || test(st->want_w, fd)) && fcntl(fd, F_GETFD) < 0 &&
                errno == EBADF)
                core::base_io_ready(base, fd, kRead | kWrite);
        }
        return;
    }
    if (st->nready <= 0) return;
    st->nready = 0;
    const int maxfd = st->maxfd;
    size_t words = maxfd >= 0 ? static_cast<size_t>(maxfd / kBits) + 1 : 0;
    for (size_t wi = 0; wi < words; ++wi) {
        unsigned long rw = st->out_r[wi], ww = st->out_w[wi];
        unsigned long any = rw | ww;
        while (any) {
            int b = __builtin_ctzl(any);
            any &= any - 1;
            unsigned long bit = 1UL << b;
            unsigned res = ((rw & bit) ? kRead : 0u) | ((ww & bit) ? kWrite : 0u);
            core::base_io_ready(base, static_cast<int>(wi) * kBits + b, res);
        }
    }
}

}  // namespace

const Ops kSelectOps = {
    "select",
    EV_FEATURE_FDS,
    select_create_state,
    select_destroy,
    select_apply,
    select_wait_for,
    select_report,
    false,
};

const Ops *const kAllOps[] = {&kEpollOps, &kPollOps, &kSelectOps, nullptr};

}  // namespace reevent::backends
