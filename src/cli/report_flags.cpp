#include "netpol_guard/cli/report_flags.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>

namespace netpol_guard::cli {

void add_report_flags(flag_set& flags, report_flags& r) {
  flags.add_string("reports", &r.reports,
                   "keep one compliance report per namespace: openreports (openreports.io "
                   "Report), policyreport (wgpolicyk8s.io PolicyReport) or off; the leader also "
                   "creates BaselineMissing/BaselineRestored Events");
  flags.add_duration("report-interval", &r.interval,
                     "write a namespace's report at most once per this interval");
  flags.add_bool("leader-elect", &r.leader_elect,
                 "elect one writer of reports and Events through a Lease (every replica keeps "
                 "answering admission)");
  flags.add_duration("leader-elect-lease-duration", &r.election.lease_duration,
                     "how long candidates wait after the leader's last renewal before taking over");
  flags.add_duration("leader-elect-renew-deadline", &r.election.renew_deadline,
                     "the leader stops writing when it could not renew for this long");
  flags.add_duration("leader-elect-retry-period", &r.election.retry_period,
                     "how often candidates try to take the Lease and the leader renews it");
  flags.add_string("leader-elect-resource-name", &r.election.lease_name, "the Lease's name");
  flags.add_string("leader-elect-resource-namespace", &r.election.lease_namespace,
                   "the Lease's namespace (default: the pod's namespace, else default)");
}

env_fn process_env() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::string default_lease_namespace(const env_fn& env, const std::string& token_namespace_file) {
  if (auto ns = env("POD_NAMESPACE"); ns && !ns->empty()) return *ns;
  std::ifstream in(token_namespace_file);
  std::string ns;
  if (in && std::getline(in, ns) && !ns.empty()) return ns;
  return "default";
}

boost::system::result<std::optional<kube::compliance_reporting_options>, std::string>
resolve_report_flags(const report_flags& r, const env_fn& env,
                     const std::string& token_namespace_file) {
  kube::compliance_reporting_options o;
  if (r.reports == "off") return std::optional<kube::compliance_reporting_options>{};
  if (r.reports == "openreports") {
    o.writer.api = kube::report_api::openreports;
  } else if (r.reports == "policyreport") {
    o.writer.api = kube::report_api::policyreport;
  } else {
    return "--reports must be openreports, policyreport or off";
  }
  if (r.interval < std::chrono::milliseconds(100))
    return "--report-interval must be at least 100ms";
  o.writer.interval = r.interval;
  o.identity = kube::leader_identity();
  if (r.leader_elect) {
    kube::leader_election_options e = r.election;
    if (e.lease_namespace.empty())
      e.lease_namespace = default_lease_namespace(env, token_namespace_file);
    e.identity = o.identity;
    if (auto wrong = kube::validate(e); !wrong.empty()) return wrong;
    // A write that starts while this replica still leads (before its renew
    // deadline) must land before any other replica may take the Lease (a lease
    // duration after that renewal): so no two leaders' writes ever overlap.
    o.writer.request_timeout = std::min(
        o.writer.request_timeout,
        std::chrono::duration_cast<std::chrono::milliseconds>(e.lease_duration - e.renew_deadline));
    o.election = std::move(e);
  }
  return std::optional<kube::compliance_reporting_options>{std::move(o)};
}

}  // namespace netpol_guard::cli
