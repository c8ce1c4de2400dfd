// Where an RPC lives on the HTTP server: "/.rpc." followed by its name.
#pragma once

#include <string>

#include "http/mem.h"

namespace reevent::rpc {

inline http::OwnedStr rpc_path(const char *name) noexcept {
    constexpr std::string_view prefix = "/.rpc.";
    std::string_view n = name ? name : "";
    auto *p = static_cast<char *>(event_mm_malloc_(prefix.size() + n.size() + 1));
    if (!p) return http::OwnedStr{};
    std::memcpy(p, prefix.data(), prefix.size());
    if (!n.empty()) std::memcpy(p + prefix.size(), n.data(), n.size());
    p[prefix.size() + n.size()] = '\0';
    return http::OwnedStr{p};
}

}  // namespace reevent::rpc
