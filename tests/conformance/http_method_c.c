/* C helpers of http_method_test.cpp: an unknown method's 1 << 15 is outside the value range
 * C++ gives enum evhttp_cmd_type, so the test hands methods to and from libevent's two
 * enum-typed functions here, in C, as plain integers. */
#include <event2/http.h>

unsigned conf_http_get_command(const struct evhttp_request *req) {
    return (unsigned)evhttp_request_get_command(req);
}

int conf_http_make_request(struct evhttp_connection *evcon, struct evhttp_request *req,
                           unsigned method, const char *uri) {
    return evhttp_make_request(evcon, req, (enum evhttp_cmd_type)method, uri);
}
