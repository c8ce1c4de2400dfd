// libFuzzer target: evbuffer operation sequences decoded from the input, applied to two
// buffers and mirrored on two std::string models; any difference, crash or sanitizer report
// is a finding. Covers add/prepend/drain/remove/copyout, readln in every EOL style, search,
// search_eol, ptr arithmetic, peek, pullup, moves and references between the buffers,
// reserve/commit and printf.
#include <event2/buffer.h>

#include "../conformance/support/eol_model.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

class Input {
public:
    Input(const uint8_t *d, size_t n) : d_(d), n_(n) {}
    bool more() const { return i_ < n_; }
    uint8_t byte() { return i_ < n_ ? d_[i_++] : 0; }
    size_t size(size_t max) {
        size_t v = byte();
        v = (v << 8) | byte();
        return max ? v % (max + 1) : 0;
    }
    std::string bytes(size_t n) {
        std::string s;
        while (n-- && i_ < n_) s.push_back(char(d_[i_++]));
        return s;
    }

private:
    const uint8_t *d_;
    size_t n_;
    size_t i_ = 0;
};

[[noreturn]] void fail(const char *what) {
    fprintf(stderr, "model mismatch: %s\n", what);
    abort();
}
#define CHECK(c) \
    do {         \
        if (!(c)) fail(#c); \
    } while (0)

std::string all(evbuffer *b) {
    std::string s(evbuffer_get_length(b), '\0');
    if (!s.empty()) CHECK(evbuffer_copyout(b, s.data(), s.size()) == ev_ssize_t(s.size()));
    return s;
}

int g_cleanups = 0;
void cleanup(const void *, size_t, void *) { ++g_cleanups; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Input in(data, size);
    evbuffer *buf[2] = {evbuffer_new(), evbuffer_new()};
    std::string model[2];
    std::vector<std::string *> refs;
    int added_refs = 0;
    g_cleanups = 0;
    for (int steps = 0; in.more() && steps < 2000; ++steps) {
        uint8_t op = in.byte();
        int w = op & 1;
        evbuffer *b = buf[w], *o = buf[1 - w];
        std::string &m = model[w], &om = model[1 - w];
        switch ((op >> 1) % 18) {
        case 0: {
            std::string s = in.bytes(in.size(300));
            CHECK(evbuffer_add(b, s.data(), s.size()) == 0);
            m += s;
            break;
        }
        case 1: {
            auto *s = new std::string(in.bytes(1 + in.size(300)));
            if (s->empty()) s->push_back('x');
            refs.push_back(s);
            CHECK(evbuffer_add_reference(b, s->data(), s->size(), cleanup, nullptr) == 0);
            ++added_refs;
            m += *s;
            break;
        }
        case 2: {
            std::string s = in.bytes(in.size(100));
            CHECK(evbuffer_prepend(b, s.data(), s.size()) == 0);
            m.insert(0, s);
            break;
        }
        case 3: {
            size_t n = in.size(m.size() + 4);
            CHECK(evbuffer_drain(b, n) == 0);
            m.erase(0, std::min(n, m.size()));
            break;
        }
        case 4: {
            size_t n = in.size(m.size() + 4);
            std::string out(n, '\0');
            size_t e = std::min(n, m.size());
            CHECK(evbuffer_remove(b, out.data(), n) == int(e));
            CHECK(out.compare(0, e, m, 0, e) == 0);
            m.erase(0, e);
            break;
        }
        case 5:
        case 6: {
            int st = in.byte() % 5;
            size_t eol, at = eolmodel::find_eol(m, 0, evbuffer_eol_style(st), &eol);
            size_t n = 9;
            char *l = evbuffer_readln(b, &n, evbuffer_eol_style(st));
            if (at == std::string::npos) {
                CHECK(!l && n == 0);
            } else {
                CHECK(l && n == at && std::string(l, n) == m.substr(0, at));
                free(l);
                m.erase(0, at + eol);
            }
            break;
        }
        case 7: {
            size_t start = in.size(m.size());
            std::string needle = in.bytes(1 + in.size(4));
            if (needle.empty()) break;
            evbuffer_ptr p;
            CHECK(evbuffer_ptr_set(b, &p, start, EVBUFFER_PTR_SET) == 0);
            evbuffer_ptr r = evbuffer_search(b, needle.data(), needle.size(), &p);
            size_t e = m.find(needle, start);
            CHECK(r.pos == (e == std::string::npos ? -1 : ev_ssize_t(e)));
            break;
        }
        case 8: {
            size_t start = in.size(m.size());
            int st = in.byte() % 5;
            evbuffer_ptr p;
            CHECK(evbuffer_ptr_set(b, &p, start, EVBUFFER_PTR_SET) == 0);
            size_t len = 7, elen;
            evbuffer_ptr r = evbuffer_search_eol(b, &p, &len, evbuffer_eol_style(st));
            size_t e = eolmodel::find_eol(m, start, evbuffer_eol_style(st), &elen);
            CHECK(r.pos == (e == std::string::npos ? -1 : ev_ssize_t(e)) && len == elen);
            break;
        }
        case 9: {
            evbuffer_ptr p;
            CHECK(evbuffer_ptr_set(b, &p, 0, EVBUFFER_PTR_SET) == 0);
            size_t pos = 0;
            for (int k = 0; k < 4; ++k) {
                size_t step = in.size(200);
                int r = evbuffer_ptr_set(b, &p, step, EVBUFFER_PTR_ADD);
                if (pos + step > m.size()) {
                    CHECK(r == -1);
                    break;
                }
                pos += step;
                CHECK(r == 0 && p.pos == ev_ssize_t(pos));
                char c;
                if (pos < m.size()) CHECK(evbuffer_copyout_from(b, &p, &c, 1) == 1 && c == m[pos]);
            }
            break;
        }
        case 10: {
            int nvec = int(in.byte() % 8);
            std::vector<evbuffer_iovec> v(size_t(nvec) + 1);
            ev_ssize_t len = ev_ssize_t(in.size(m.size() + 2)) - 1;
            int n = evbuffer_peek(b, len, nullptr, v.data(), nvec);
            CHECK(n >= 0);
            std::string joined;
            for (int k = 0; k < std::min(n, nvec); ++k)
                joined.append(static_cast<char *>(v[size_t(k)].iov_base), v[size_t(k)].iov_len);
            CHECK(m.compare(0, joined.size(), joined) == 0);
            break;
        }
        case 11: {
            ev_ssize_t n = ev_ssize_t(in.size(m.size() + 2)) - 1;
            unsigned char *d = evbuffer_pullup(b, n);
            size_t want = n < 0 ? m.size() : size_t(n);
            if (want > m.size()) CHECK(!d);
            else if (d) CHECK(memcmp(d, m.data(), want) == 0);
            break;
        }
        case 12:
            CHECK(evbuffer_add_buffer(b, o) == 0);
            m += om;
            om.clear();
            break;
        case 13: {
            size_t n = in.size(m.size() + 4);
            size_t e = std::min(n, m.size());
            CHECK(evbuffer_remove_buffer(b, o, n) == int(e));
            om += m.substr(0, e);
            m.erase(0, e);
            break;
        }
        case 14:
            CHECK(evbuffer_prepend_buffer(b, o) == 0);
            m.insert(0, om);
            om.clear();
            break;
        case 15:
            if (evbuffer_add_buffer_reference(b, o) == 0) m += om;
            break;
        case 16: {
            size_t want = in.size(5000);
            evbuffer_iovec v[2];
            int n = evbuffer_reserve_space(b, ev_ssize_t(want), v, 1 + (in.byte() & 1));
            CHECK(n >= 0);
            if (n == 0) break;
            size_t room = 0;
            for (int k = 0; k < n; ++k) room += v[k].iov_len;
            CHECK(room >= want);
            std::string s = in.bytes(in.size(want));
            size_t done = 0;
            for (int k = 0; k < n; ++k) {
                size_t c = std::min(v[k].iov_len, s.size() - done);
                memcpy(v[k].iov_base, s.data() + done, c);
                v[k].iov_len = c;
                done += c;
            }
            CHECK(evbuffer_commit_space(b, v, n) == 0);
            m += s;
            break;
        }
        case 17: {
            unsigned x = in.byte();
            CHECK(evbuffer_add_printf(b, "%u;", x) > 0);
            m += std::to_string(x) + ";";
            break;
        }
        }
        CHECK(evbuffer_get_length(b) == m.size() && evbuffer_get_length(o) == om.size());
        // Keep both buffers bounded: alternating add_buffer/add_buffer_reference between
        // them grows the pair like Fibonacci, and an unbounded model makes the run time
        // out on string copies instead of finding bugs.
        for (int k = 0; k < 2; ++k) {
            if (model[k].size() > 65536) {
                size_t cut = model[k].size() - 32768;
                CHECK(evbuffer_drain(buf[k], cut) == 0);
                model[k].erase(0, cut);
            }
        }
    }
    CHECK(all(buf[0]) == model[0]);
    CHECK(all(buf[1]) == model[1]);
    evbuffer_free(buf[0]);
    evbuffer_free(buf[1]);
    CHECK(g_cleanups == added_refs);
    for (auto *s : refs) delete s;
    return 0;
}
