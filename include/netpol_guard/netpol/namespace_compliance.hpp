#pragma once

// CIS 5.3.2 for one namespace: is it exempt, which default-deny directions it has,
// and whether a pod created there is refused. The webhook's decision and the
// check/audit report both evaluate namespaces here, and word the finding with the
// phrases below, so the two cannot disagree.

#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "netpol_guard/netpol/namespace_snapshot.hpp"
#include "netpol_guard/netpol/policy.hpp"

namespace netpol_guard {

struct namespace_compliance {
  bool exempt = false;
  deny_all_coverage coverage;  // what its deny-all policies cover
  // A policy holds the template's name without being a deny-all.
  bool template_name_taken = false;

  bool compliant() const { return coverage.full(); }
  // True when a Pod (or a workload that creates pods) is refused here.
  bool refuses_pods() const { return !exempt && !compliant(); }
};

// `entry` is the namespace's entry, nullptr when nothing is known of it.
namespace_compliance evaluate_namespace(std::string_view ns, const namespace_entry* entry,
                                        const std::set<std::string, std::less<>>& exempt);

// `"name"`: how messages quote names.
std::string in_quotes(std::string_view s);

// "no default-deny ingress NetworkPolicy": what a non-compliant namespace lacks.
std::string no_default_deny(const deny_all_coverage& have);

// The template's policy and its shape, as fix texts name it:
// "default-deny-all (podSelector {}, policyTypes [Ingress, Egress])".
std::string template_summary();

// The finding for `object` (e.g. `Pod "web"`) created in a non-compliant namespace,
// worded to read right both as a denial and as an audit-only warning.
std::string violation_message(const namespace_compliance& c, std::string_view ns,
                              std::string_view object);

}  // namespace netpol_guard
