// C API of <event2/buffer_compat.h>: the libevent 1.4 style evbuffer calls.
#include <event2/buffer.h>
#include <event2/buffer_compat.h>

#include "buffer/evbuffer.h"

extern "C" {

char *evbuffer_readline(struct evbuffer *buffer) {
    return buffer ? buffer->readln(nullptr, EVBUFFER_EOL_ANY) : nullptr;
}

int evbuffer_setcb(struct evbuffer *buffer, evbuffer_cb cb, void *cbarg) {
    return buffer ? buffer->setcb(cb, cbarg) : -1;
}

unsigned char *evbuffer_find(struct evbuffer *buffer, const unsigned char *what, size_t len) {
    return buffer ? buffer->find(what, len) : nullptr;
}

}  // extern "C"
