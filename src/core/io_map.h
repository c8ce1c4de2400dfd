// The fd map: what the base wants from the kernel for each file descriptor.
//
// An array indexed by fd number (O(1) lookup, no hashing). Each slot holds the head of the
// intrusive list of events on that fd (linked through the events' own ev_io_next), how
// many of them want read / write / closed / edge-triggered, the mask the backend currently
// has, and the backend's own small scratch fields (epoll generation, poll array index).
// 24 bytes per slot; libevent spends a pointer per fd plus a heap block per used fd.
//
// Changes are coalesced: a slot whose wanted mask differs from the backend's goes on the
// dirty list once, and the loop hands each dirty fd to the backend with (old, new) mask just
// before it waits. A del+add of the same fd inside one iteration thus costs one EPOLL_CTL_MOD
// (to make sure the number still names the same file: it may have been closed and reused in
// between) instead of a DEL and an ADD.
#pragma once

#include <event2/event_struct.h>

#include <cstdint>

#include "core/mm.h"

namespace reevent::core {

struct FdSlot {
    event *head;        // events on this fd
    uint16_t nread;
    uint16_t nwrite;
    uint16_t nclose;
    uint16_t net;       // events with EV_ET
    uint8_t kmask;      // mask the backend has (EV_READ|EV_WRITE|EV_CLOSED|EV_ET)
    uint8_t dirty;      // on the dirty list
    uint8_t dropped;    // interest fell to 0 since the last flush (the kernel still has kmask)
    uint8_t pad_;
    // One base has one backend, and no backend needs both: they share the word.
    union {
        uint32_t gen;   // epoll: generation stored in epoll_event.data (any start value)
        int32_t bidx;   // poll: index in the pollfd array, -1 when absent
    };
};
static_assert(sizeof(FdSlot) == 24, "keep the fd slot small (per idle fd <= libevent's)");

inline unsigned wanted_mask(const FdSlot &s) noexcept {
    unsigned m = (s.nread ? 0x02u : 0u) | (s.nwrite ? 0x04u : 0u) | (s.nclose ? 0x80u : 0u);
    if (m && s.net) m |= 0x20u;
    return m;
}

class IoMap {
public:
    IoMap() noexcept = default;
    IoMap(const IoMap &) = delete;
    IoMap &operator=(const IoMap &) = delete;

    size_t size() const noexcept { return slots_.size(); }
    FdSlot *find(int fd) noexcept {
        return fd >= 0 && static_cast<size_t>(fd) < slots_.size() ? &slots_[fd] : nullptr;
    }
    // fds at or above this are refused (get answers nullptr) without growing the map:
    // libevent caps its fd map at INT_MAX bytes, which refuses the same fds, and an fd
    // number such as INT_MAX would otherwise ask for a 48 GiB table (and fill it).
    static constexpr int kFdLimit = 1 << 27;

    // The slot for fd, growing the map; nullptr when out of memory or fd >= kFdLimit.
    FdSlot *get(int fd) noexcept {
        if (fd < 0 || fd >= kFdLimit) return nullptr;
        if (static_cast<size_t>(fd) >= slots_.size()) {
            size_t n = slots_.size() ? slots_.size() : 32;
            while (n <= static_cast<size_t>(fd)) n *= 2;
            FdSlot blank{};
            blank.bidx = -1;
            FdSlot *old = slots_.data();
            if (!slots_.resize(n, blank)) return nullptr;
            // Each fd's first event links back to its slot (le_prev): follow the move.
            if (slots_.data() != old) {
                for (size_t i = 0; i < slots_.size(); ++i)
                    if (event *h = slots_[i].head) h->ev_.ev_io.ev_io_next.le_prev = &slots_[i].head;
            }
        }
        return &slots_[fd];
    }
    FdSlot &operator[](size_t fd) noexcept { return slots_[fd]; }

    // Remembers fd for the next flush (once).
    [[nodiscard]] bool mark_dirty(int fd) noexcept {
        FdSlot &s = slots_[fd];
        if (s.dirty) return true;
        if (!dirty_.push_back(fd)) return false;
        s.dirty = 1;
        return true;
    }
    mm::Vec<int> &dirty() noexcept { return dirty_; }
    void reset() noexcept {
        slots_.reset();
        dirty_.reset();
    }

private:
    mm::Vec<FdSlot> slots_;
    mm::Vec<int> dirty_;
};

}  // namespace reevent::core
