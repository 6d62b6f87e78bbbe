#pragma once

// Gives new namespaces the template's default-deny-all: an idempotent create
// with retries, a 409 (AlreadyExists) checked for a policy under the template's
// name that is not a deny-all, and the set of namespaces whose baseline is on
// its way (pods there may wait briefly instead of being denied).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "netpol_guard/kube/api_client.hpp"
#include "netpol_guard/kube/clock.hpp"
#include "netpol_guard/kube/kube_stats.hpp"
#include "netpol_guard/kube/live_state_source.hpp"

namespace netpol_guard::kube {

struct provisioner_options {
  bool enabled = false;
  std::set<std::string, std::less<>> exempt_namespaces;  // never provisioned
  // How long a namespace counts as "being provisioned" after it was marked.
  std::chrono::seconds pending_window{30};
  int max_attempts = 8;
  std::chrono::milliseconds first_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds request_timeout{5000};
};

class baseline_provisioner final : public live_state_listener {
 public:
  baseline_provisioner(api_transport& api, provisioner_options options, kube_stats& m,
                       steady_clock_fn now = real_steady_clock());

  // Creates run on `ex` (set before the live source starts).
  void start(boost::asio::any_io_executor ex) { executor_ = std::move(ex); }

  // True while `ns` was marked within the pending window and has no full baseline yet.
  bool provisioning(const std::string& ns) const;
  // A Namespace CREATE was admitted: pods created right after it may wait.
  void namespace_admitted(const std::string& ns);

  // Provisions namespaces that are new: a watch ADDED event, one that appeared
  // between two lists, or one whose CREATE this replica admitted. Namespaces
  // that existed before netpol-guard started are never given a deny-all behind
  // their owners' backs (`audit` lists them).
  void namespace_appeared(const appeared_namespace& n) override;
  // A namespace fully covered is no longer pending.
  void published(const namespace_snapshot& next) override;

  // The create itself, with retries (spawned by namespace_appeared).
  boost::asio::awaitable<void> provision(std::string ns);

 private:
  bool wanted(const std::string& ns) const;
  boost::asio::awaitable<void> check_existing_template(const std::string& ns,
                                                       const std::string& collection);
  // A user's policy holds the template's name without denying both directions.
  void report_conflict(const std::string& ns, const deny_all_coverage& c);

  api_transport& api_;
  provisioner_options options_;
  kube_stats& stats_;
  steady_clock_fn now_;
  boost::asio::any_io_executor executor_;
  mutable std::mutex mutex_;
  std::map<std::string, std::chrono::steady_clock::time_point> pending_;
};

}  // namespace netpol_guard::kube
