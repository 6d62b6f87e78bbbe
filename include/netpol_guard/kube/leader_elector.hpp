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
#include "netpol_guard/kube/leader_election_options.hpp"
#include "netpol_guard/kube/leadership.hpp"

namespace netpol_guard::kube {

class leader_elector {
 public:
  // `api`, `state` and `m` must outlive the executor's run: after stop() the
  // loop may still have one request in flight until its timeout.
  leader_elector(api_transport& api, leader_election_options options, leadership& state,
                 kube_stats& m, steady_clock_fn steady = real_steady_clock(),
                 wall_clock_fn wall = real_wall_clock());
  ~leader_elector();

  // Runs the candidate/leader loop on a strand of `ex` until stop(). Once.
  void start(boost::asio::any_io_executor ex);
  // Stops the loop; leadership is lost at once (state.lost()). Idempotent;
  // call it while the executor's context still exists.
  void stop();
  // If this replica holds the Lease, gives it up (holderIdentity cleared,
  // leaseDurationSeconds 1) so another replica takes over without waiting for
  // it to expire. Bounded by the renew deadline; failures are logged.
  // Stops the loop first (it would take the released Lease back at once).
  boost::asio::awaitable<void> release();

  // One round of client-go's tryAcquireOrRenew: true when this replica holds
  // the Lease afterwards. Public for tests.
  boost::asio::awaitable<bool> try_acquire_or_renew();

  // One turn of the loop: try_acquire_or_renew, then gain or lose leadership
  // (state, metrics, one log line); returns how long to wait before the next
  // turn. Public for tests, which drive it with fake clocks.
  boost::asio::awaitable<std::chrono::milliseconds> step();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace netpol_guard::kube
