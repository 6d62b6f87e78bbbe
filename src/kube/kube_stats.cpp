#include "netpol_guard/kube/kube_stats.hpp"

namespace netpol_guard::kube {

void kube_stats::write_relists(stats::exposition& out) const {
  constexpr std::string_view name = "netpol_guard_relists_total";
  out.header(name, "counter",
             "Full lists of the cluster's NetworkPolicies (first sync, 410 Expired, reconnects).");
  out.sample(name, "", static_cast<double>(relists_.value()));
}

void kube_stats::write_provisioned(stats::exposition& out) const {
  constexpr std::string_view name = "netpol_guard_provisioned_policies_total";
  out.header(name, "counter", "default-deny-all policies created in new namespaces, by result.");
  provisioned_.write(out, name);
}

void kube_stats::write_leader(stats::exposition& out) const {
  out.header("netpol_guard_leader", "gauge",
             "1 while this replica holds the leader Lease and writes reports and Events.");
  out.sample("netpol_guard_leader", "", leader_.value());
  constexpr std::string_view transitions = "netpol_guard_leader_transitions_total";
  out.header(transitions, "counter", "Times this replica gained or lost the leader Lease.");
  out.sample(transitions, "", static_cast<double>(leader_transitions_.value()));
}

void kube_stats::write_report_writes(stats::exposition& out) const {
  constexpr std::string_view reports = "netpol_guard_report_writes_total";
  out.header(reports, "counter",
             "Per-namespace compliance report writes by result (unchanged: nothing to write).");
  report_writes_.write(out, reports);
  constexpr std::string_view events = "netpol_guard_drift_events_total";
  out.header(events, "counter",
             "BaselineMissing and BaselineRestored Events created on namespaces, by result.");
  events_.write(out, events);
}

}  // namespace netpol_guard::kube
