#include "netpol_guard/server/state_gauges.hpp"

#include "netpol_guard/netpol/namespace_compliance.hpp"

namespace netpol_guard {

state_gauges namespace_gauges(const namespace_snapshot& snapshot,
                              const std::set<std::string, std::less<>>& exempt_namespaces,
                              std::chrono::sys_seconds now) {
  state_gauges g;
  // The mode does not change what is covered, so the global one is not needed.
  const evaluation_context ctx{exempt_namespaces, false, false, now};
  g.namespaces = snapshot.namespace_count();
  for (const auto& [ns, entry] : snapshot.entries()) {
    const auto c = evaluate_namespace(ns, &entry, ctx);
    if (c.exempt) continue;
    const auto covered = c.effective();
    if (!covered.full()) ++g.non_compliant;
    if (!covered.ingress) ++g.missing_ingress;
    if (!covered.egress) ++g.missing_egress;
  }
  const auto exemptions = count_exemptions(snapshot, ctx);
  g.exemptions_active = exemptions.active;
  g.exemptions_expired = exemptions.expired;
  if (exemptions.earliest_active_expiry) {
    g.earliest_exemption_expiry_seconds =
        static_cast<double>(exemptions.earliest_active_expiry->time_since_epoch().count());
  }
  return g;
}

}  // namespace netpol_guard
