#pragma once

// A live read of one namespace's NetworkPolicies, used to confirm a denial
// that rests on cached state. Implemented by the Kubernetes API client.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "netpol_guard/netpol/namespace_snapshot.hpp"

namespace netpol_guard {

class live_policy_reader {
 public:
  virtual ~live_policy_reader() = default;
  // The namespace's entry as the apiserver has it now; nullopt when it could not
  // be read within `timeout` (the caller then decides from the cache).
  virtual boost::asio::awaitable<std::optional<namespace_entry>> read_namespace(
      std::string ns, std::chrono::milliseconds timeout) = 0;
  // True while a namespace's default-deny-all is being provisioned: pods in it
  // may wait briefly for the policy instead of being denied.
  virtual bool provisioning(const std::string& ns) const = 0;
  // A Namespace CREATE was admitted because its baseline will be provisioned.
  virtual void namespace_admitted(const std::string& ns) = 0;
};

}  // namespace netpol_guard
