/* evhttp_request_get_command and evhttp_make_request, in C: a request read with a method
 * libevent 2.1.12 does not know carries its private EVHTTP_REQ_UNKNOWN_ (1 << 15) in the
 * public `type` member, and C's enum evhttp_cmd_type holds any value of its integer type,
 * where C++'s does not (src/http keeps the method as an integer; see http/request.h). */
#include <event2/http.h>
#include <event2/http_struct.h>

#include "capi/http_command.h"

enum evhttp_cmd_type evhttp_request_get_command(const struct evhttp_request *req) {
    return req ? req->type : (enum evhttp_cmd_type)0;
}

int evhttp_make_request(struct evhttp_connection *evcon, struct evhttp_request *req,
                        enum evhttp_cmd_type type, const char *uri) {
    return reevent_http_make_request_(evcon, req, (unsigned)type, uri);
}
