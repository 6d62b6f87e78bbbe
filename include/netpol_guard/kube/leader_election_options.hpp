#pragma once

// The leader elector's settings, as kube components name their flags, with
// client-go's rules for them, and the identity a replica campaigns under.

#include <chrono>
#include <string>

namespace netpol_guard::kube {

// client-go's JitterFactor: a candidate waits a retry period plus up to 1.2 more.
inline constexpr double leader_election_jitter = 1.2;

struct leader_election_options {
  std::chrono::milliseconds lease_duration{std::chrono::seconds(15)};
  std::chrono::milliseconds renew_deadline{std::chrono::seconds(10)};
  std::chrono::milliseconds retry_period{std::chrono::seconds(2)};
  std::string lease_name = "netpol-guard";
  std::string lease_namespace;  // required
  std::string identity;         // required: leader_identity()
};

// Empty when the options are usable, else one line naming the flag, with
// client-go's rules: lease duration > renew deadline > 1.2 x retry period
// (its jitter factor), retry period > 0, the name a DNS subdomain, the
// namespace a DNS label, the identity non-empty.
std::string validate(const leader_election_options& o);

// POD_NAME from the downward API, else the hostname, then "_" and a random
// suffix (client-go: hostname + "_" + UUID), so two replicas never share one.
std::string leader_identity();

}  // namespace netpol_guard::kube
