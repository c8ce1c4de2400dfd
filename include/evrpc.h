/* reevent: the libevent 1.x RPC header, kept for old programs. New code includes
 * <event2/rpc.h> (and <event2/rpc_struct.h> for the structures). */
#ifndef EVENT1_EVRPC_H_INCLUDED_
#define EVENT1_EVRPC_H_INCLUDED_

#include <event.h>
#include <event2/rpc.h>
#include <event2/rpc_struct.h>
#include <event2/rpc_compat.h>

#endif /* EVENT1_EVRPC_H_INCLUDED_ */
