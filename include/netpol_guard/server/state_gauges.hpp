#pragma once

// What /metrics reads from the namespace state at scrape time, and the function
// that renders the whole exposition. The health listener computes the gauges
// and calls the renderer; the process that composes every component's stats
// (cli/process_stats) supplies it, so the server knows no other component's stats.

#include <cstddef>
#include <functional>
#include <string>

namespace netpol_guard {

struct state_gauges {
  std::size_t namespaces = 0;
  std::size_t non_compliant = 0;
  std::size_t missing_ingress = 0;
  std::size_t missing_egress = 0;
  double state_age_seconds = 0;
  bool ready = false;
};

using metrics_renderer = std::function<std::string(const state_gauges&)>;

}  // namespace netpol_guard
