#pragma once

// One remediation object sent to the apiserver: server-side apply (field
// manager netpol-guard, no force), dryRun=All for --dry-run=server, and never
// over an object that exists (it is read first, and skipped when it is there).

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "netpol_guard/kube/api_client.hpp"

namespace netpol_guard::cli {

// Each read and apply, connection included.
inline constexpr std::chrono::seconds remediate_request_timeout{30};
inline constexpr const char* remediate_field_manager = "netpol-guard";

struct object_result {
  std::string name;
  std::string result;   // created, accepted (dry run), skipped, failed
  std::string message;  // why skipped or failed: the apiserver's words
};

struct apply_totals {
  bool transport_error = false;  // no answer, or a 5xx: an error talking to the apiserver
  bool refused = false;          // any object failed
  std::size_t created = 0, skipped = 0, failed = 0;
};

// The apiserver's own words for a refusal (a Status message, an admission
// webhook's denial among them), else the start of the body or the transport error.
std::string refusal(const kube::api_reply& reply);

// Applies `object` (with `dry`, only has the apiserver validate it), unless it
// exists; counts the outcome in `totals`. `object` and `totals` must outlive
// the returned awaitable.
boost::asio::awaitable<object_result> apply_one(kube::api_transport& client,
                                                const nlohmann::json& object, bool dry,
                                                apply_totals& totals);

// "created default-deny-all", "failed x (HTTP 400: ...)".
std::string result_line(const object_result& r);

}  // namespace netpol_guard::cli
