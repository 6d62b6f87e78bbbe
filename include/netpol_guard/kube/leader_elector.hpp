#pragma once

// Leader election over a coordination.k8s.io/v1 Lease, as client-go's
// leaderelection package does it: a candidate takes a Lease that is absent,
// released, or not renewed for its leaseDuration (as observed on the local
// steady clock, never by comparing wall clocks); the leader renews it every
// retry period and steps down when no renewal succeeded within the renew
// deadline. Updates carry the resourceVersion read, so two candidates never
// both win. Unlike kube components, a replica that loses the Lease does not
// exit: it keeps serving admission and stays a candidate.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "netpol_guard/kube/api_client.hpp"
#include "netpol_guard/kube/clock.hpp"
#include "netpol_guard/kube/kube_stats.hpp"
#include "netpol_guard/kube/leadership.hpp"

namespace netpol_guard::kube {

struct leader_election_options {
  std::chrono::milliseconds lease_duration{std::chrono::seconds(15)};
  std::chrono::milliseconds renew_deadline{std::chrono::seconds(10)};
  std::chrono::milliseconds retry_period{std::chrono::seconds(2)};
  std::string lease_name = "netpol-guard";
  std::string lease_namespace;  // required
  std::string identity;         // required: leader_identity()
};

// Empty when the options are usable, else one line naming the flag, with
// client-go's rules: lease duration > renew deadline > retry period > 0, the
// name a DNS subdomain, the namespace a DNS label.
std::string validate(const leader_election_options& o);

// POD_NAME from the downward API, else the hostname, then "_" and a random
// suffix (client-go: hostname + "_" + UUID), so two replicas never share one.
std::string leader_identity();

class leader_elector {
 public:
  leader_elector(api_transport& api, leader_election_options options, leadership& state,
                 kube_stats& m, steady_clock_fn steady = real_steady_clock(),
                 wall_clock_fn wall = real_wall_clock());
  ~leader_elector();

  // Runs the candidate/leader loop on `ex` until stop().
  void start(boost::asio::any_io_executor ex);
  // Stops the loop; leadership is lost at once (state.lost()).
  void stop();
  // If this replica holds the Lease, gives it up (holderIdentity cleared,
  // leaseDurationSeconds 1) so another replica takes over without waiting for
  // it to expire. Bounded by the request timeout; failures are logged.
  boost::asio::awaitable<void> release();

  // One round of client-go's tryAcquireOrRenew: true when this replica holds
  // the Lease afterwards. Public for tests.
  boost::asio::awaitable<bool> try_acquire_or_renew();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace netpol_guard::kube
