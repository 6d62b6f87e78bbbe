#pragma once

// The confirm read: one namespace's NetworkPolicies and its Namespace object,
// read from the apiserver now, so a denial that rests on cached state can be
// confirmed or overturned.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "netpol_guard/kube/api_client.hpp"
#include "netpol_guard/netpol/namespace_state.hpp"

namespace netpol_guard::kube {

// The namespace entry for a NetworkPolicyList (a live read).
std::optional<namespace_entry> entry_from_policy_list(const std::string& body);

class live_namespace_reader {
 public:
  // `cache` supplies what the read cannot: whether the Namespace is known
  // when its object cannot be read.
  live_namespace_reader(api_transport& api, const namespace_state& cache)
      : api_(api), cache_(cache) {}

  // nullopt when `ns` is not a DNS label or the policies could not be read.
  boost::asio::awaitable<std::optional<namespace_entry>> read(std::string ns,
                                                              std::chrono::milliseconds timeout);

 private:
  api_transport& api_;
  const namespace_state& cache_;
};

}  // namespace netpol_guard::kube
