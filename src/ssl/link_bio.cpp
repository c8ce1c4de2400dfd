// The BIO method over a bufferevent's evbuffers (see link_bio.h).
#include "ssl/link_bio.h"

#include <event2/buffer.h>

#include <pthread.h>

#include <climits>
#include <new>

#include "core/mm_abi.h"

namespace reevent::ssl {

namespace {

BIO_METHOD *g_method = nullptr;
int g_type = 0;
pthread_once_t g_once = PTHREAD_ONCE_INIT;

Link *data_of(BIO *b) noexcept { return static_cast<Link *>(BIO_get_data(b)); }

int link_write(BIO *b, const char *in, int len) {
    BIO_clear_retry_flags(b);
    Link *l = data_of(b);
    if (!l || !l->under || len < 0) return -1;
    if (len == 0) return 0;
    // The underlying's output grows without bound here; the TLS bufferevent itself stops
    // feeding SSL_write while that output holds enough (ssl_bev.cpp).
    if (evbuffer_add(l->under->pub.output, in, static_cast<size_t>(len)) != 0) return -1;
    return len;
}

int link_read(BIO *b, char *out, int len) {
    BIO_clear_retry_flags(b);
    Link *l = data_of(b);
    if (!l || !l->under || !out || len <= 0) return 0;
    int n = evbuffer_remove(l->under->pub.input, out, static_cast<size_t>(len));
    if (n > 0) return n;
    if (l->eof) return 0;
    BIO_set_retry_read(b);
    return -1;
}

int link_puts(BIO *b, const char *s) {
    size_t n = 0;
    while (s[n]) ++n;
    return link_write(b, s, n > INT_MAX ? INT_MAX : static_cast<int>(n));
}

long link_ctrl(BIO *b, int cmd, long num, void *ptr) {
    Link *l = data_of(b);
    switch (cmd) {
        case BIO_CTRL_GET_CLOSE:
            return BIO_get_shutdown(b);
        case BIO_CTRL_SET_CLOSE:
            BIO_set_shutdown(b, static_cast<int>(num));
            return 1;
        case BIO_CTRL_PENDING:
            return l && l->under ? static_cast<long>(evbuffer_get_length(l->under->pub.input)) : 0;
        case BIO_CTRL_WPENDING:
            return l && l->under ? static_cast<long>(evbuffer_get_length(l->under->pub.output))
                                 : 0;
        case BIO_CTRL_FLUSH:
        case BIO_CTRL_DUP:
            return 1;
        case BIO_CTRL_EOF:
            return l && l->eof && evbuffer_get_length(l->under->pub.input) == 0;
        case BIO_C_GET_FD: {
            // SSL_get_fd() on the SSL of a TLS bufferevent answers with the socket below.
            if (!l || !l->under) return -1;
            int fd = l->under->pub.be_ops->get_fd(l->under);
            if (ptr) *static_cast<int *>(ptr) = fd;
            return fd;
        }
        default:
            return 0;
    }
}

int link_create(BIO *b) {
    BIO_set_init(b, 1);
    BIO_set_data(b, nullptr);
    return 1;
}

int link_destroy(BIO *b) {
    if (Link *l = data_of(b)) {
        BIO_set_data(b, nullptr);
        if (l->owner && l->gone) l->gone(l->owner);
        if (l->under) {
            l->kit->lock(l->under);
            l->kit->decref_and_unlock(l->under);
        }
        l->~Link();
        event_mm_free_(l);
    }
    return 1;
}

void make_method() {
    // A "descriptor" BIO: SSL_get_fd() finds it and asks it for the socket below.
    const int type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR;
    BIO_METHOD *m = BIO_meth_new(type, "bufferevent");
    if (!m) return;
    g_type = type;
    BIO_meth_set_write(m, link_write);
    BIO_meth_set_read(m, link_read);
    BIO_meth_set_puts(m, link_puts);
    BIO_meth_set_ctrl(m, link_ctrl);
    BIO_meth_set_create(m, link_create);
    BIO_meth_set_destroy(m, link_destroy);
    g_method = m;
}

}  // namespace

BIO *link_bio_new(bev::Bev *under, const bev::Kit *kit) noexcept {
    pthread_once(&g_once, make_method);
    if (!g_method) return nullptr;
    void *mem = event_mm_malloc_(sizeof(Link));
    if (!mem) return nullptr;
    Link *l = ::new (mem) Link();
    BIO *b = BIO_new(g_method);
    if (!b) {
        l->~Link();
        event_mm_free_(l);
        return nullptr;
    }
    kit->lock(under);
    ++under->refcnt;
    kit->unlock(under);
    l->under = under;
    l->kit = kit;
    l->bio = b;
    BIO_set_data(b, l);
    return b;
}

Link *link_of(BIO *bio) noexcept {
    if (!bio || !g_method || BIO_method_type(bio) != g_type) return nullptr;
    return data_of(bio);
}

}  // namespace reevent::ssl
