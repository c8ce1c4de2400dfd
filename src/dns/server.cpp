// See server.h.
#include "dns/server.h"

#include <event2/util.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "dns/wire.h"

namespace reevent::dns {
namespace {

constexpr size_t kMaxReply = 512;  // a plain UDP reply; more is cut and flagged TC
constexpr int kMaxPointers = 64;   // names remembered for compression

void put16(unsigned char *p, unsigned v) noexcept {
    p[0] = static_cast<unsigned char>((v >> 8) & 0xff);
    p[1] = static_cast<unsigned char>(v & 0xff);
}

// Writes a reply message, compressing names against the ones already in it.
class Writer {
public:
    explicit Writer(unsigned char *buf) noexcept : buf_(buf) {}
    size_t size() const noexcept { return pos_; }

    bool bytes(const void *p, size_t n) noexcept {
        if (pos_ + n > kMaxReply) return false;
        if (n) std::memcpy(buf_ + pos_, p, n);
        pos_ += n;
        return true;
    }
    bool u16(unsigned v) noexcept {
        unsigned char b[2];
        put16(b, v);
        return bytes(b, 2);
    }
    bool u32(uint32_t v) noexcept {
        unsigned char b[4] = {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
                              static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
        return bytes(b, 4);
    }
    // A name: its labels up to the longest suffix already written, then a pointer there.
    bool name(const char *text) noexcept {
        const char *labels[128];
        size_t lens[128];
        int n = 0;
        for (const char *p = text; *p;) {
            const char *dot = std::strchr(p, '.');
            size_t len = dot ? static_cast<size_t>(dot - p) : std::strlen(p);
            if (len == 0 || len > 63 || n == 128) return false;
            labels[n] = p;
            lens[n++] = len;
            p += len;
            if (*p == '.') ++p;
        }
        for (int i = 0; i < n; ++i) {
            int target = find(labels[i]);
            if (target >= 0) {
                if (!write_labels(labels, lens, i)) return false;
                return u16(0xc000 | static_cast<unsigned>(target));
            }
        }
        if (!write_labels(labels, lens, n)) return false;
        unsigned char zero = 0;
        return bytes(&zero, 1);
    }
    // A position to come back to when a record does not fit.
    struct Mark {
        size_t pos;
        int npointers;
    };
    Mark mark() const noexcept { return {pos_, npointers_}; }
    void rollback(Mark m) noexcept {
        pos_ = m.pos;
        npointers_ = m.npointers;
    }
    // Room for a 16-bit field to fill later.
    bool reserve16(size_t *at) noexcept {
        *at = pos_;
        return u16(0);
    }
    void fill16(size_t at, unsigned v) noexcept { put16(buf_ + at, v); }

private:
    bool write_labels(const char *const *labels, const size_t *lens, int count) noexcept {
        for (int i = 0; i < count; ++i) {
            if (pos_ < 0x4000 && npointers_ < kMaxPointers) pointers_[npointers_++] = static_cast<uint16_t>(pos_);
            unsigned char len = static_cast<unsigned char>(lens[i]);
            if (!bytes(&len, 1) || !bytes(labels[i], lens[i])) return false;
        }
        return true;
    }
    // The offset of a name written earlier equal (ignoring case) to suffix; -1 if none.
    int find(const char *suffix) const noexcept {
        for (int i = 0; i < npointers_; ++i) {
            char text[kMaxName + 1];
            size_t p = pointers_[i];
            if (read_name(buf_, pos_, &p, text, sizeof text) && evutil_ascii_strcasecmp(text, suffix) == 0)
                return pointers_[i];
        }
        return -1;
    }

    unsigned char *buf_;
    size_t pos_ = 0;
    uint16_t pointers_[kMaxPointers] = {};
    int npointers_ = 0;
};

bool write_record(Writer &w, const ServerRecord &rec) noexcept {
    if (!w.name(rec.name.get()) || !w.u16(rec.type) || !w.u16(rec.cls) || !w.u32(rec.ttl)) return false;
    size_t len_at;
    if (!w.reserve16(&len_at)) return false;
    size_t start = w.size();
    if (rec.is_name ? !w.name(rec.data.get()) : !w.bytes(rec.data.get(), rec.datalen)) return false;
    w.fill16(len_at, static_cast<unsigned>(w.size() - start));
    return true;
}

// The reply to r into buf; its length. A reply that does not fit ends with the last whole
// record, has TC set, and counts only the records it holds.
size_t build_reply(const ServerRequest *r, int err, unsigned char *buf) noexcept {
    Writer w(buf);
    unsigned flags = static_cast<unsigned>(r->pub.flags) | 0x8000u | static_cast<unsigned>(err);
    w.u16(r->id);
    size_t flags_at;
    w.reserve16(&flags_at);
    w.u16(static_cast<unsigned>(r->pub.nquestions));
    size_t counts_at[3];
    for (size_t &at : counts_at) w.reserve16(&at);
    bool cut = false;
    for (int i = 0; i < r->pub.nquestions && !cut; ++i) {
        const evdns_server_question *q = r->pub.questions[i];
        cut = !w.name(q->name) || !w.u16(static_cast<unsigned>(q->type)) ||
              !w.u16(static_cast<unsigned>(q->dns_question_class));
    }
    for (int s = 0; s < 3 && !cut; ++s) {
        unsigned count = 0;
        for (const ServerRecord *rec = r->sections[s]; rec; rec = rec->next) {
            Writer::Mark m = w.mark();
            if (!write_record(w, *rec)) {
                w.rollback(m);
                cut = true;
                break;
            }
            ++count;
        }
        w.fill16(counts_at[s], count);
    }
    w.fill16(flags_at, (flags | (cut ? 0x0200u : 0u)) & 0xffffu);
    return w.size();
}

void free_port(ServerPort *p) noexcept { destroy_obj(p); }

void release_port(ServerPort *p) noexcept {
    if (--p->refs == 0) free_port(p);
}

// Takes r off its port (the port may go with it) and frees it.
void finish_request(ServerRequest *r) noexcept {
    ServerPort *p = r->port;
    destroy_obj(r);
    release_port(p);
}

// Sends r's built reply; true when it went out (or failed for good), false to retry.
bool try_send(ServerRequest *r) noexcept {
    ssize_t n = sendto(r->port->fd, r->reply, r->reply_len, MSG_NOSIGNAL,
                       reinterpret_cast<const sockaddr *>(&r->addr), r->addrlen);
    return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

void on_writable(evutil_socket_t, short, void *arg) noexcept {
    auto *p = static_cast<ServerPort *>(arg);
    p->refs++;  // the port outlives the loop below even if its last request goes
    while (ServerRequest *r = p->unsent) {
        if (!try_send(r)) break;
        p->unsent = r->next_unsent;
        if (!p->unsent) p->unsent_tail = nullptr;
        finish_request(r);
    }
    if (!p->unsent) event_del(p->write_ev);
    release_port(p);
}

// A query into a new request; null if the packet is not a well-formed query.
ServerRequest *parse_query(ServerPort *p, const unsigned char *msg, size_t len) noexcept {
    if (len < 12) return nullptr;
    unsigned flags = (unsigned{msg[2]} << 8) | msg[3];
    if (flags & 0x8000) return nullptr;  // a response, not a query
    int qd = (msg[4] << 8) | msg[5];
    Owned<ServerRequest> r(make_obj<ServerRequest>());
    if (!r) return nullptr;
    r->port = p;
    r->id = static_cast<uint16_t>((msg[0] << 8) | msg[1]);
    r->pub.flags = static_cast<int>(flags);
    if (qd > 0) {
        r->pub.questions = static_cast<evdns_server_question **>(event_mm_calloc_(static_cast<size_t>(qd),
                                                                                  sizeof(evdns_server_question *)));
        if (!r->pub.questions) return nullptr;
    }
    size_t pos = 12;
    for (int i = 0; i < qd; ++i) {
        char name[kMaxName + 1];
        if (!read_name(msg, len, &pos, name, sizeof name) || pos + 4 > len) return nullptr;
        size_t n = std::strlen(name);
        auto *q = static_cast<evdns_server_question *>(
            event_mm_malloc_(offsetof(evdns_server_question, name) + n + 1));
        if (!q) return nullptr;
        q->type = (msg[pos] << 8) | msg[pos + 1];
        q->dns_question_class = (msg[pos + 2] << 8) | msg[pos + 3];
        std::memcpy(q->name, name, n + 1);
        pos += 4;
        r->pub.questions[r->pub.nquestions++] = q;
    }
    return r.release();
}

void on_readable(evutil_socket_t fd, short, void *arg) noexcept {
    auto *p = static_cast<ServerPort *>(arg);
    p->refs++;  // a callback may close the port
    for (int i = 0; i < 64 && !p->closing; ++i) {
        unsigned char msg[1500];
        sockaddr_storage from{};
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, msg, sizeof msg, MSG_DONTWAIT, reinterpret_cast<sockaddr *>(&from), &fromlen);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        ServerRequest *r = parse_query(p, msg, static_cast<size_t>(n));
        if (!r) continue;  // not a query we can read: no answer, as libevent
        std::memcpy(&r->addr, &from, fromlen);
        r->addrlen = fromlen;
        p->refs++;
        p->callback(&r->pub, p->user_data);
    }
    release_port(p);
}

}  // namespace

ServerPort::~ServerPort() {
    if (read_ev) event_free(read_ev);
    if (write_ev) event_free(write_ev);
    if (fd >= 0) close(fd);  // the port owns the socket from here on, as in libevent
}

ServerRecord::~ServerRecord() = default;

ServerRequest::~ServerRequest() {
    for (int i = 0; i < pub.nquestions; ++i) event_mm_free_(pub.questions[i]);
    event_mm_free_(pub.questions);
    for (ServerRecord *&head : sections) {
        while (head) {
            ServerRecord *next = head->next;
            destroy_obj(head);
            head = next;
        }
    }
    event_mm_free_(reply);
}

ServerPort *open_port(event_base *eb, int fd, evdns_request_callback_fn_type cb, void *user) noexcept {
    Owned<ServerPort> p(make_obj<ServerPort>());
    if (!p) return nullptr;
    p->ev_base = eb;
    p->callback = cb;
    p->user_data = user;
    p->read_ev = event_new(eb, fd, EV_READ | EV_PERSIST, on_readable, p.get());
    p->write_ev = event_new(eb, fd, EV_WRITE | EV_PERSIST, on_writable, p.get());
    if (!p->read_ev || !p->write_ev || event_add(p->read_ev, nullptr) != 0) return nullptr;
    p->fd = fd;  // owned only once the port exists
    return p.release();
}

void close_port(ServerPort *p) noexcept {
    if (p->closing) return;
    p->closing = true;
    event_del(p->read_ev);
    release_port(p);
}

int add_record(ServerRequest *r, int section, const char *name, int type, int cls, int ttl, int datalen,
               bool is_name, const char *data) noexcept {
    if (r->reply || section < 0 || section > 2 || !name || !data) return -1;
    if (!is_name && datalen < 0) return -1;
    Owned<ServerRecord> rec(make_obj<ServerRecord>());
    if (!rec) return -1;
    rec->name = dup_str(name);
    rec->type = static_cast<uint16_t>(type);
    rec->cls = static_cast<uint16_t>(cls);
    rec->ttl = static_cast<uint32_t>(ttl);
    rec->is_name = is_name;
    if (is_name) {
        rec->data = dup_str(data);
    } else {
        rec->datalen = static_cast<size_t>(datalen);
        rec->data.reset(static_cast<char *>(event_mm_malloc_(rec->datalen ? rec->datalen : 1)));
        if (rec->data && datalen) std::memcpy(rec->data.get(), data, rec->datalen);
    }
    if (!rec->name || !rec->data) return -1;
    *r->tails[section] = rec.release();
    r->tails[section] = &(*r->tails[section])->next;
    return 0;
}

void set_flags(ServerRequest *r, int flags) noexcept {
    r->pub.flags &= ~(EVDNS_FLAGS_AA | EVDNS_FLAGS_RD);
    r->pub.flags |= flags;
}

int respond(ServerRequest *r, int err) noexcept {
    if (r->reply) return -1;  // already answered, waiting to be sent
    r->reply = static_cast<unsigned char *>(event_mm_malloc_(kMaxReply));
    if (!r->reply) return -1;
    r->reply_len = build_reply(r, err, r->reply);
    ServerPort *p = r->port;
    if (!p->unsent && try_send(r)) {
        finish_request(r);
        return 0;
    }
    // The socket is full: sent in order once it is writable.
    if (p->unsent_tail)
        p->unsent_tail->next_unsent = r;
    else
        p->unsent = r;
    p->unsent_tail = r;
    event_add(p->write_ev, nullptr);
    return 0;
}

int drop(ServerRequest *r) noexcept {
    if (r->reply) return -1;
    finish_request(r);
    return 0;
}

int requesting_addr(const ServerRequest *r, sockaddr *sa, int len) noexcept {
    if (!sa || len < static_cast<int>(r->addrlen)) return -1;
    std::memcpy(sa, &r->addr, r->addrlen);
    return static_cast<int>(r->addrlen);
}

}  // namespace reevent::dns
