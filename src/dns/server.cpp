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
constexpr int kMaxSuffixes = 128;  // name suffixes remembered for compression (libevent's count)

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
    // A name, compressed as libevent compresses it: before each label, the rest of the text
    // (a final dot included) is looked up among the suffixes written so far, compared byte
    // for byte; a match ends the name with a pointer. Each label written records its suffix,
    // the empty one after a final dot too (its zero byte then serves later names that end
    // in a dot). Found by tests/fuzz/dns_server_fuzz.cpp, where reevent wrote names with a
    // final dot uncompressed.
    bool name(const char *text) noexcept {
        if (std::strlen(text) > 255) return false;
        for (const char *p = text;;) {
            int target = find(p);
            if (target >= 0) return u16(0xc000 | static_cast<unsigned>(target));
            const char *dot = std::strchr(p, '.');
            size_t len = dot ? static_cast<size_t>(dot - p) : std::strlen(p);
            if (len > 63) return false;
            if (nsuffixes_ < kMaxSuffixes) {
                suffixes_[nsuffixes_] = p;
                offsets_[nsuffixes_++] = static_cast<uint16_t>(pos_);
            }
            unsigned char l = static_cast<unsigned char>(len);
            if (!bytes(&l, 1) || !bytes(p, len)) return false;
            if (!dot) break;
            p = dot + 1;
        }
        if (pos_ > 0 && buf_[pos_ - 1] == 0) return true;  // the empty last label ended it
        unsigned char zero = 0;
        return bytes(&zero, 1);
    }
    // A position to come back to when a record does not fit.
    struct Mark {
        size_t pos;
        int nsuffixes;
    };
    Mark mark() const noexcept { return {pos_, nsuffixes_}; }
    void rollback(Mark m) noexcept {
        pos_ = m.pos;
        nsuffixes_ = m.nsuffixes;
    }
    // Room for a 16-bit field to fill later.
    bool reserve16(size_t *at) noexcept {
        *at = pos_;
        return u16(0);
    }
    void fill16(size_t at, unsigned v) noexcept { put16(buf_ + at, v); }

private:
    // Where a suffix equal to text was written; -1 if none.
    int find(const char *text) const noexcept {
        for (int i = 0; i < nsuffixes_; ++i)
            if (std::strcmp(suffixes_[i], text) == 0) return offsets_[i];
        return -1;
    }

    unsigned char *buf_;
    size_t pos_ = 0;
    const char *suffixes_[kMaxSuffixes] = {};  // into the names being written
    uint16_t offsets_[kMaxSuffixes] = {};
    int nsuffixes_ = 0;
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
    // No question: libevent drops it (its zero-sized question array fails to allocate).
    // Found by tests/fuzz/dns_server_fuzz.cpp.
    if (qd == 0) return nullptr;
    Owned<ServerRequest> r(make_obj<ServerRequest>());
    if (!r) return nullptr;
    r->port = p;
    r->id = static_cast<uint16_t>((msg[0] << 8) | msg[1]);
    // libevent keeps only RD and CD of the query's flags (what the callback sees and the
    // reply echoes): no opcode, AA, TC, RA, Z, AD or rcode. Found by tests/fuzz/dns_server_fuzz.cpp.
    r->pub.flags = static_cast<int>(flags & 0x0110u);
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
