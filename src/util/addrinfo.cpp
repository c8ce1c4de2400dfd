// getaddrinfo wrapper; see addrinfo.h.
//
// On Linux every EVUTIL_AI_* flag is the native AI_* value, so the system resolver does the
// work, exactly as libevent 2.1 does on this platform (numeric hosts, a null node with or
// without AI_PASSIVE, AI_ADDRCONFIG and service names all behave as glibc defines them).
#include "util/addrinfo.h"

#include <netdb.h>

#include <cstring>

#include "core/mm.h"

namespace reevent::util {
namespace {

// libevent marks lists it allocated itself with this ai_flags bit and strips it from
// callers' hints before the system sees them. reevent's evdns_getaddrinfo (libevent_extra)
// sets it on the lists it builds on the memory hooks; freeaddrinfo releases those itself.
constexpr int kLibeventAllocatedFlag = static_cast<int>(0x80000000u);

}  // namespace

int getaddrinfo(const char *node, const char *service, const addrinfo *hints_in,
                addrinfo **res) noexcept {
    if (!res) return EAI_FAIL;
    *res = nullptr;
    addrinfo hints;
    if (hints_in) {
        std::memcpy(&hints, hints_in, sizeof hints);
    } else {
        // Null hints are zero hints, not glibc's AI_V4MAPPED|AI_ADDRCONFIG default.
        std::memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
    }
    hints.ai_flags &= ~kLibeventAllocatedFlag;
    return ::getaddrinfo(node, service, &hints, res);
}

void freeaddrinfo(addrinfo *ai) noexcept {
    if (!ai) return;
    if (!(ai->ai_flags & kLibeventAllocatedFlag)) {
        ::freeaddrinfo(ai);
        return;
    }
    // One block per entry (the sockaddr follows the addrinfo), the canonical name apart.
    while (ai) {
        addrinfo *next = ai->ai_next;
        mm::free(ai->ai_canonname);
        mm::free(ai);
        ai = next;
    }
}

const char *gai_strerror(int err) noexcept {
    // libevent's own wording for the codes it knows, the C library's for the rest.
    switch (err) {
        case -90001: return "Request canceled";  // EVUTIL_EAI_CANCEL
        case 0: return "No error";
        case EAI_ADDRFAMILY: return "address family for nodename not supported";
        case EAI_AGAIN: return "temporary failure in name resolution";
        case EAI_BADFLAGS: return "invalid value for ai_flags";
        case EAI_FAIL: return "non-recoverable failure in name resolution";
        case EAI_FAMILY: return "ai_family not supported";
        case EAI_MEMORY: return "memory allocation failure";
        case EAI_NODATA: return "no address associated with nodename";
        case EAI_NONAME: return "nodename nor servname provided, or not known";
        case EAI_SERVICE: return "servname not supported for ai_socktype";
        case EAI_SOCKTYPE: return "ai_socktype not supported";
        case EAI_SYSTEM: return "system error";
        default: return ::gai_strerror(err);
    }
}

}  // namespace reevent::util
