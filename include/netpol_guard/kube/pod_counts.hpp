#pragma once

// How many pods a report calls unprotected: pods that are not Succeeded or
// Failed (the ones that still run, or will), counted from paged LISTs. Only the
// count per namespace is kept, never the pods.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "netpol_guard/kube/api_client.hpp"
#include "netpol_guard/netpol/namespace_snapshot.hpp"

namespace netpol_guard::kube {

using pod_count_map = std::unordered_map<std::string, std::uint64_t, string_hash, std::equal_to<>>;

struct pod_counts {
  bool ok = false;
  std::string error;     // why not, for the log
  pod_count_map counts;  // namespaces without such pods are absent
};

// The pods of the whole cluster (`ns` empty) or of namespace `ns` (a DNS
// label), 500 a page, every page within `timeout`.
boost::asio::awaitable<pod_counts> count_pods(api_transport& api, std::string_view ns,
                                              std::chrono::milliseconds timeout);

// `s` escaped for a URL query value (continue tokens are base64).
std::string query_escape(std::string_view s);

}  // namespace netpol_guard::kube
