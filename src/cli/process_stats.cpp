#include "netpol_guard/cli/process_stats.hpp"

namespace netpol_guard {
namespace {

void write_state_gauges(stats::exposition& out, const state_gauges& g) {
  out.header("netpol_guard_namespaces", "gauge", "Namespaces known to the state.");
  out.sample("netpol_guard_namespaces", "", static_cast<double>(g.namespaces));
  constexpr std::string_view noncompliant = "netpol_guard_noncompliant_namespaces";
  out.header(noncompliant, "gauge",
             "Non-exempt namespaces lacking a default deny that no active exemption stands in for, "
             "by missing direction (any, ingress, egress).");
  out.sample(noncompliant, "direction=\"any\"", static_cast<double>(g.non_compliant));
  out.sample(noncompliant, "direction=\"ingress\"", static_cast<double>(g.missing_ingress));
  out.sample(noncompliant, "direction=\"egress\"", static_cast<double>(g.missing_egress));
  out.header("netpol_guard_state_age_seconds", "gauge",
             "Seconds since the namespace state was last known current.");
  out.sample("netpol_guard_state_age_seconds", "", g.state_age_seconds);
  out.header("netpol_guard_ready", "gauge", "1 when /readyz answers ok.");
  out.sample("netpol_guard_ready", "", g.ready ? 1 : 0);
}

void write_exemption_gauges(stats::exposition& out, const state_gauges& g) {
  constexpr std::string_view exemptions = "netpol_guard_exemptions";
  out.header(exemptions, "gauge",
             "Namespaces with a valid exemption annotation, by state (active, expired).");
  out.sample(exemptions, "state=\"active\"", static_cast<double>(g.exemptions_active));
  out.sample(exemptions, "state=\"expired\"", static_cast<double>(g.exemptions_expired));
  constexpr std::string_view earliest = "netpol_guard_exemption_earliest_expiry_timestamp_seconds";
  out.header(earliest, "gauge",
             "Unix time of the earliest active exemption's exempt-until; 0 when none is active.");
  out.sample_whole(earliest, g.earliest_exemption_expiry_seconds);
}

}  // namespace

std::string process_stats::render(const state_gauges& gauges) const {
  stats::exposition out;
  admission.write_requests(out);

  // One family, one header; each component writes the reasons it counts. The
  // samples keep the order they had when one enum listed every reason, so the
  // exposition is the same as before the stats were split by component.
  stats::errors_header(out);
  admission.write_errors(out, admission_error::malformed_json, admission_error::internal);
  server.write_errors(out);
  admission.write_errors(out, admission_error::internal, admission_error::confirm_failed);
  tls.write_errors(out);
  admission.write_errors(out, admission_error::confirm_failed, admission_error::count_);
  kube.write_errors(out);
  offline.write_errors(out);

  admission.write_confirmations(out);
  kube.write_relists(out);
  tls.write_reloads(out);
  kube.write_provisioned(out);
  server.write_open_connections(out);
  tls.write_expiry(out);
  server.write_connection_limits(out);
  write_state_gauges(out, gauges);
  write_exemption_gauges(out, gauges);
  admission.write_admitted_by_exemption(out);
  kube.write_leader(out);
  kube.write_report_writes(out);
  return out.take();
}

}  // namespace netpol_guard
