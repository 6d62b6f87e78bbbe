#pragma once

// Namespace state from a live cluster: reflectors for NetworkPolicies and
// Namespaces feed one namespace_index (the same index the offline source
// builds), and every full list and every batch of watch events publishes an
// immutable snapshot. Baselines lost between two snapshots are logged as drift.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "netpol_guard/kube/kube_stats.hpp"
#include "netpol_guard/kube/reflector.hpp"
#include "netpol_guard/netpol/namespace_state.hpp"

namespace netpol_guard::kube {

// How a namespace came to be seen.
enum class namespace_appearance { first_list, new_in_relist, watch_added };

struct appeared_namespace {
  std::string name;
  namespace_appearance how = namespace_appearance::first_list;
  bool terminating = false;
  bool has_template = false;  // a policy named default-deny-all exists in it
  // ... and does not deny both directions (a user's policy under the template's name).
  bool template_taken = false;
  deny_all_coverage template_coverage;  // what that policy does deny
};

// Told what the live source learns (the baseline provisioner listens).
class live_state_listener {
 public:
  virtual ~live_state_listener() = default;
  // Every Namespace of the first list, those new in a later list, and watch
  // ADDED events; called after the change is published.
  virtual void namespace_appeared(const appeared_namespace& n) = 0;
  // Each snapshot before it is published, in publish order.
  virtual void published(const namespace_snapshot& next) = 0;
};

struct live_state_options {
  std::chrono::milliseconds max_state_age{std::chrono::minutes(2)};
  std::set<std::string, std::less<>> exempt_namespaces;  // never reported as drift
  reflector_options reflect;
};

// A namespace whose baseline directions shrank from `before` to `after`.
struct baseline_drift {
  std::string name;
  deny_all_coverage lost;
  friend bool operator==(const baseline_drift&, const baseline_drift&) = default;
};
// Drift between two snapshots, sorted by namespace. Nothing before the first
// full sync (an empty source), and nothing for exempt or terminating namespaces.
std::vector<baseline_drift> drift_between(const namespace_snapshot& before,
                                          const namespace_snapshot& after,
                                          const std::set<std::string, std::less<>>& exempt);

class live_state_source final : public namespace_state {
 public:
  live_state_source(list_watch_source& policies, list_watch_source& namespaces,
                    live_state_options options, kube_stats& m,
                    live_state_listener* listener = nullptr);
  ~live_state_source() override;

  // Runs both reflectors on `ex` until stop().
  void start(boost::asio::any_io_executor ex);
  void stop();

  std::shared_ptr<const namespace_snapshot> snapshot() const override { return cell_.load(); }
  state_readiness readiness() const override;
  // Both kinds listed at least once. Lock-free: listeners may ask from published().
  bool synced() const;

 private:
  class policy_sink;
  class namespace_sink;
  void publish();
  void publish_locked();
  void appeared(const std::string& name, bool terminating, namespace_appearance how);

  live_state_options options_;
  live_state_listener* listener_;
  snapshot_cell cell_;
  // Two reflectors update the index from different threads; a snapshot is
  // built and published under this lock so an older one never replaces a newer.
  mutable std::mutex mutex_;
  namespace_index index_;
  std::unique_ptr<policy_sink> policy_sink_;
  std::unique_ptr<namespace_sink> namespace_sink_;
  std::unique_ptr<reflector> policy_reflector_, namespace_reflector_;
};

}  // namespace netpol_guard::kube
