#pragma once

// CIS 5.3.2 for one namespace: is it exempt, which default-deny directions it has,
// and whether a pod created there is refused. The webhook's decision and the
// check/audit report both evaluate namespaces here, and word the finding with the
// phrases below, so the two cannot disagree.

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "netpol_guard/netpol/namespace_settings.hpp"
#include "netpol_guard/netpol/namespace_snapshot.hpp"
#include "netpol_guard/netpol/policy.hpp"

namespace netpol_guard {

// What an evaluation depends on beyond the namespace's own entry.
struct evaluation_context {
  const std::set<std::string, std::less<>>& exempt_namespaces;  // --exempt-namespaces
  bool audit_only = false;                                      // the global mode
  bool deny_allow_all = false;                                  // --deny-allow-all
  std::chrono::sys_seconds now{};
};

struct namespace_compliance {
  bool exempt = false;         // in --exempt-namespaces: nothing applies
  deny_all_coverage coverage;  // what its deny-all policies cover
  // A policy holds the template's name without being a deny-all.
  bool template_name_taken = false;
  // The effective mode: the namespace's valid mode label, else the global mode.
  // Never unset.
  namespace_mode mode = namespace_mode::enforce;
  deny_all_coverage exempted;              // missing directions an active exemption covers
  deny_all_coverage expired;               // missing directions whose exemption has expired
  deny_all_coverage negated;               // directions some policy re-opens for every pod
  std::optional<exemption> exempt_detail;  // the namespace's valid exemption, active or not
  std::vector<std::string> negated_by;     // names of the policies that re-open, sorted
  std::string settings_invalid;            // why its stored keys were ignored

  // The coverage that decides pods: the policies' plus the active exemption's.
  deny_all_coverage effective() const {
    return {coverage.ingress || exempted.ingress, coverage.egress || exempted.egress};
  }
  // CIS 5.3.2 in the strict sense: both directions denied by policies.
  bool compliant() const { return coverage.full(); }
  // True when a Pod (or a workload that creates pods) is refused here.
  bool refuses_pods() const { return !exempt && !effective().full(); }
  // Admitted only because of an active exemption.
  bool by_exemption() const { return !exempt && effective().full() && !coverage.full(); }
  bool enforced() const { return mode == namespace_mode::enforce; }
};

// `entry` is the namespace's entry, nullptr when nothing is known of it.
namespace_compliance evaluate_namespace(std::string_view ns, const namespace_entry* entry,
                                        const evaluation_context& ctx);

// Exemptions across a snapshot, for /metrics.
struct exemption_gauges {
  std::size_t active = 0;
  std::size_t expired = 0;
  // The earliest expiry of an active exemption; nullopt when none is active.
  std::optional<std::chrono::sys_seconds> earliest_active_expiry;
};
exemption_gauges count_exemptions(const namespace_snapshot& snapshot,
                                  const evaluation_context& ctx);

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

// The audit annotations of a request admitted by an exemption:
// cis-5.3.2-exempt, cis-5.3.2-exempt-reason, cis-5.3.2-exempt-until.
std::vector<std::pair<std::string, std::string>> exemption_annotations(
    const namespace_compliance& c);

// The finding for a policy that re-opens a whole direction:
// CIS 5.3.2: NetworkPolicy "n" spec.ingress[0] allows all ingress to every pod
// of namespace "x", which cancels its default deny (MITRE ATT&CK T1046). Fix: ...
std::string allow_all_message(std::string_view policy, const allow_all& opens, std::string_view ns);

}  // namespace netpol_guard
