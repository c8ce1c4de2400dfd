/* The C++ side of the two http.h functions that take or give enum evhttp_cmd_type
 * (defined in C in http_command.c): the method crosses as an unsigned integer, since an
 * unknown method's 1 << 15 is outside the value range C++ gives the enum. Hidden (not part
 * of the exported API). */
#ifndef REEVENT_CAPI_HTTP_COMMAND_H
#define REEVENT_CAPI_HTTP_COMMAND_H

#ifdef __cplusplus
extern "C" {
#endif

struct evhttp_connection;
struct evhttp_request;

/* evhttp_make_request with the method as an integer. */
int reevent_http_make_request_(struct evhttp_connection *evcon, struct evhttp_request *req,
                               unsigned type, const char *uri);

#ifdef __cplusplus
}
#endif

#endif
