#pragma once

// What /metrics reads from the namespace state at scrape time, and the function
// that renders the whole exposition. The health listener computes the gauges
// and calls the renderer; the process that composes every component's stats
// (cli/process_stats) supplies it, so the server knows no other component's stats.

#include <chrono>
#include <cstddef>
#include <functional>
#include <set>
#include <string>

#include "netpol_guard/netpol/namespace_snapshot.hpp"

namespace netpol_guard {

struct state_gauges {
  std::size_t namespaces = 0;
  // Non-exempt namespaces whose pods are refused: the missing directions are
  // those neither a default deny nor an active exemption covers, so an active
  // exemption does not page and an expired one does.
  std::size_t non_compliant = 0;
  std::size_t missing_ingress = 0;
  std::size_t missing_egress = 0;
  // Namespaces with a valid exemption, by whether it has expired.
  std::size_t exemptions_active = 0;
  std::size_t exemptions_expired = 0;
  // Unix seconds of the earliest active exemption's exempt-until; 0 when none.
  double earliest_exemption_expiry_seconds = 0;
  double state_age_seconds = 0;
  bool ready = false;
};

// The gauges a snapshot gives at `now` (the scrape's wall clock); the readiness
// fields are left for the caller.
state_gauges namespace_gauges(const namespace_snapshot& snapshot,
                              const std::set<std::string, std::less<>>& exempt_namespaces,
                              std::chrono::sys_seconds now);

using metrics_renderer = std::function<std::string(const state_gauges&)>;

}  // namespace netpol_guard
