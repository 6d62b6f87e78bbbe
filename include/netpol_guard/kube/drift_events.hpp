#pragma once

// events.k8s.io/v1 Events on a Namespace when its CIS 5.3.2 state changes:
// BaselineMissing (Warning) when it stops having a default deny for both
// directions, BaselineRestored (Normal) when it has them again. Transitions
// only: the state found at start, or when leadership is gained, is the
// baseline and makes no Event. Only the leader creates them; each transition
// makes one Event (deduplicated), never one per denied request.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "netpol_guard/kube/api_client.hpp"
#include "netpol_guard/kube/clock.hpp"
#include "netpol_guard/kube/kube_stats.hpp"
#include "netpol_guard/kube/leadership.hpp"
#include "netpol_guard/kube/live_state_source.hpp"

namespace netpol_guard::kube {

struct drift_events_options {
  std::set<std::string, std::less<>> exempt_namespaces;  // never get Events
  std::string reporting_instance;                        // the leader identity
  std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
  bool audit_only = false;  // the global --audit-only: notes say pods get a warning
};

class drift_events final : public live_state_listener {
 public:
  drift_events(api_transport& api, drift_events_options options, const leadership& leader,
               kube_stats& m, wall_clock_fn wall = real_wall_clock());
  ~drift_events() override;

  // Creates run on `ex` (set before the live source starts) until stop().
  void start(boost::asio::any_io_executor ex);
  void stop();

  void namespace_appeared(const appeared_namespace&) override {}
  // Called under the live source's lock, in publish order: compares with the
  // previous snapshot and queues the Events of the transitions (bounded).
  void published(const namespace_snapshot& next) override;

  // A transition is sent once the new state has held this long; a namespace
  // that flaps back within it makes no Event.
  static constexpr std::chrono::milliseconds default_coalesce_window{std::chrono::seconds(10)};
  // Events waiting to be sent; beyond it a transition is dropped and counted.
  static constexpr std::size_t default_max_pending = 1000;
  void set_coalesce_window(std::chrono::milliseconds window);
  void set_retry_backoff(std::chrono::milliseconds backoff);
  void set_max_pending(std::size_t n);
  // Whether both the NetworkPolicy and the Namespace lists are in (the live
  // source's reflectors synced); until then every snapshot is the baseline.
  // Must not take the live source's lock. Without it, the first snapshot that
  // holds both a Namespace and a policy is taken as the last baseline.
  void set_sync_probe(std::function<bool()> lists_in);
  std::size_t pending() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace netpol_guard::kube
