#pragma once

// The reports' side of `serve`, composed of its three jobs: leader election (or
// leading alone), the per-namespace report writer and the drift Events. Only
// the leader writes; admission never waits on any of it.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "netpol_guard/kube/api_client.hpp"
#include "netpol_guard/kube/drift_events.hpp"
#include "netpol_guard/kube/kube_stats.hpp"
#include "netpol_guard/kube/leader_elector.hpp"
#include "netpol_guard/kube/leadership.hpp"
#include "netpol_guard/kube/report_writer.hpp"
#include "netpol_guard/netpol/namespace_state.hpp"

namespace netpol_guard::kube {

struct compliance_reporting_options {
  report_writer_options writer;
  // nullopt: --leader-elect=false, this replica writes alone.
  std::optional<leader_election_options> election;
  std::string identity;  // the Events' reportingInstance
};

class compliance_reporting {
 public:
  compliance_reporting(api_transport& api, const namespace_state& state,
                       compliance_reporting_options options, kube_stats& m);

  // What the live source must tell (before it starts).
  live_state_listener& writer() { return writer_; }
  live_state_listener& events() { return events_; }

  // "Both lists are in" (lock-free), so the drift Events take the full
  // state as their baseline and no report is written from half of it. Before start().
  void set_sync_probe(const std::function<bool()>& lists_in) {
    events_.set_sync_probe(lists_in);
    writer_.set_sync_probe(lists_in);
  }

  void start(boost::asio::any_io_executor ex);
  // Stops writing at once, then gives the Lease up so another replica takes
  // over without waiting for it to expire.
  boost::asio::awaitable<void> shutdown();
  // Stops all three at once, without giving the Lease up (after the io_context
  // stopped, or when shutdown() had no time): call it while the io_context
  // still exists, then destroy its pending handlers, then this.
  void stop();

 private:
  leadership leader_;
  std::unique_ptr<leader_elector> elector_;
  report_writer writer_;
  drift_events events_;
};

}  // namespace netpol_guard::kube
