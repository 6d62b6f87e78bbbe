#pragma once

// Keeps one compliance report per namespace, named netpol-guard, in that
// namespace: an openreports.io/v1alpha1 Report or a wgpolicyk8s.io/v1alpha2
// PolicyReport with the CIS 5.3.2 results for ingress and egress. Only the
// leader writes; a write happens only when the content changed (timestamps
// aside), at most once per namespace per interval, rate-limited with backoff,
// by server-side apply with field manager netpol-guard. A full resync runs
// when leadership is gained and every resync period. When the CRD is not
// served it warns once, counts it, and looks again later; nothing else is
// affected.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "netpol_guard/kube/api_client.hpp"
#include "netpol_guard/kube/clock.hpp"
#include "netpol_guard/kube/kube_stats.hpp"
#include "netpol_guard/kube/leadership.hpp"
#include "netpol_guard/kube/live_state_source.hpp"
#include "netpol_guard/netpol/namespace_state.hpp"

namespace netpol_guard::kube {

enum class report_api { openreports, policyreport };

struct report_writer_options {
  report_api api = report_api::openreports;
  std::chrono::milliseconds interval{std::chrono::seconds(10)};  // --report-interval
  std::chrono::milliseconds resync{std::chrono::minutes(10)};
  std::chrono::milliseconds crd_retry{std::chrono::minutes(3)};
  std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
  // The evaluation the webhook makes, so a report says what admission does.
  std::set<std::string, std::less<>> exempt_namespaces;
  bool audit_only = false;
  bool deny_allow_all = false;
};

class report_writer final : public live_state_listener {
 public:
  report_writer(api_transport& api, const namespace_state& state, report_writer_options options,
                const leadership& leader, kube_stats& m,
                steady_clock_fn steady = real_steady_clock(),
                wall_clock_fn wall = real_wall_clock());
  ~report_writer() override;

  // "Both lists are in" (lock-free; before start()). Until it says so nothing is
  // planned: a Namespace list that lands before the policy list would otherwise
  // report every namespace as failing for an interval.
  void set_sync_probe(std::function<bool()> lists_in);

  // Runs the writer loop on `ex` until stop().
  void start(boost::asio::any_io_executor ex);
  void stop();

  void namespace_appeared(const appeared_namespace&) override {}
  // Cheap (called under the live source's lock): wakes the loop.
  void published(const namespace_snapshot& next) override;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace netpol_guard::kube
