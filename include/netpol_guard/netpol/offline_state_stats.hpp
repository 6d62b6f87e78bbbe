#pragma once

// The offline (--policies files) state's stats: reloads refused, among
// netpol_guard_errors_total. A refused reload keeps the last good state.

#include <cstdint>

#include "netpol_guard/telemetry/stats.hpp"

namespace netpol_guard {

enum class offline_state_error : unsigned char { policy_reload, count_ };

class offline_state_stats {
 public:
  void count_error(offline_state_error e) { errors_.inc(static_cast<std::size_t>(e)); }
  // This component's samples of netpol_guard_errors_total.
  void write_errors(stats::exposition& out) const { errors_.write(out, stats::errors_metric); }

 private:
  stats::labelled_counter<1> errors_{"reason", {"policy_reload"}};
};

}  // namespace netpol_guard
