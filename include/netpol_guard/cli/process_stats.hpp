#pragma once

// Every component's stats, owned once per process and rendered as /metrics.
// Components get a reference to their own struct only; this composition knows
// the order of the families in the exposition and nothing else.

#include <cstddef>
#include <string>

#include "netpol_guard/admission/admission_stats.hpp"
#include "netpol_guard/kube/kube_stats.hpp"
#include "netpol_guard/netpol/offline_state_stats.hpp"
#include "netpol_guard/server/server_stats.hpp"
#include "netpol_guard/server/state_gauges.hpp"
#include "netpol_guard/server/tls_stats.hpp"

namespace netpol_guard {

struct process_stats {
  admission_stats admission;
  server_stats server;
  tls_stats tls;
  kube::kube_stats kube;
  offline_state_stats offline;

  // Text exposition; `gauges` supplies the state-derived values.
  std::string render(const state_gauges& gauges) const;
};

}  // namespace netpol_guard
