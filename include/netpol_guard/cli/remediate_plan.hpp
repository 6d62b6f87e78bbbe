#pragma once

// What `netpol-guard remediate` would do to a live cluster, from one read of
// it: per target namespace the remediation plan and its impact (the running
// pods that lose traffic, the policies already there), and the dry run's
// output (YAML with the impact as comments, or one JSON document). Pure: the
// cluster's objects come in as JSON, so tests drive it without an apiserver.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "netpol_guard/netpol/remediation.hpp"
#include "netpol_guard/netpol/report.hpp"

namespace netpol_guard::cli {

// At most this many running pods are named per namespace; the rest are counted.
inline constexpr std::size_t max_listed_pods = 20;

struct namespace_remediation {
  remediation_plan plan;
  std::vector<std::string> running_pods;       // not Succeeded or Failed, sorted
  std::vector<std::string> existing_policies;  // the namespace's NetworkPolicies, sorted
};

struct remediation_selection {
  std::vector<namespace_remediation> targets;  // in the report's (name) order
  std::vector<std::string> terminating;        // would need it, skipped: being deleted
  std::vector<std::string> untouched;          // named in --namespaces, nothing to do
  std::size_t object_count() const;
};

// The targets: every row of `report` whose plan is needed (restricted to
// `only` when it is not empty), given the cluster's Namespaces, NetworkPolicies
// and Pods. A terminating namespace is skipped.
remediation_selection select_remediations(const compliance_report& report,
                                          const std::vector<nlohmann::json>& namespaces,
                                          const std::vector<nlohmann::json>& policies,
                                          const std::vector<nlohmann::json>& pods,
                                          const std::vector<std::string>& only,
                                          bool with_dns_egress);

// The names in `only` that are no row of `report`, in `only`'s order.
std::vector<std::string> unknown_namespaces(const compliance_report& report,
                                            const std::vector<std::string>& only);

// "ingress and egress", "ingress" or "egress".
std::string directions_text(const deny_all_coverage& d);

// The dry run as a multi-document YAML stream `kubectl apply -f -` reads:
// each namespace's impact as `#` comment lines before its objects, a summary
// comment last.
std::string render_remediation_yaml(const remediation_selection& s);
// The dry run as one JSON document: {"namespaces": [...], "summary": {...}}.
nlohmann::json remediation_json(const remediation_selection& s);

}  // namespace netpol_guard::cli
