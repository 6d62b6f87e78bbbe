#pragma once

// What brings a non-compliant namespace into line: the NetworkPolicies that
// `remediate` creates in a live cluster and `check --fix` writes for a
// repository. Both render the objects here, from the one definition that
// provisioning creates (rules::default_deny_all_policy), so the three cannot
// disagree.

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "netpol_guard/netpol/policy.hpp"
#include "netpol_guard/netpol/report.hpp"

namespace netpol_guard {

// The names of the per-direction policies, used when only one direction is
// missing, or when the template's name is held by a policy that is not a deny-all.
inline constexpr std::string_view deny_ingress_policy_name = "default-deny-ingress";
inline constexpr std::string_view deny_egress_policy_name = "default-deny-egress";
inline constexpr std::string_view dns_egress_policy_name = "allow-dns-egress";

// The directions remediation must deny for a report row: those its policies
// miss and no active exemption covers. None for an --exempt-namespaces row, a
// compliant one, or one whose only fault is an allow-all policy (WARN, or FAIL
// under --deny-allow-all): adding a deny-all does not fix a policy that re-opens.
deny_all_coverage directions_to_deny(const namespace_report& row);

struct remediation_plan {
  std::string namespace_name;
  deny_all_coverage deny;               // what the objects deny (directions_to_deny)
  std::vector<nlohmann::json> objects;  // NetworkPolicies to create, in order
  // Non-empty when a name remediation needs is held by another policy: nothing
  // may be created there without modifying an existing object, which
  // remediation never does. `objects` is then empty.
  std::string conflict;
  bool needed() const { return deny.any(); }
};

// The plan for `row`, given the names of the NetworkPolicies already in the
// namespace. Both directions missing: the template's default-deny-all (or, when
// its name is taken, default-deny-ingress + default-deny-egress); one missing:
// the policy for exactly that direction. With `with_dns_egress`, when egress is
// denied by the plan, manifests/policies/allow-dns-egress.yaml as well (unless a
// policy of that name is there already).
remediation_plan plan_remediation(const namespace_report& row,
                                  const std::set<std::string, std::less<>>& existing_policy_names,
                                  bool with_dns_egress);

// One NetworkPolicy denying exactly the directions of `deny` in `ns`, named
// default-deny-ingress or default-deny-egress, with the template's labels.
nlohmann::json deny_direction_policy(const std::string& ns, bool ingress);

// The objects as a multi-document YAML stream ("---" between documents), in the
// form `kubectl apply -f` reads.
std::string render_yaml(const std::vector<nlohmann::json>& objects);
// One object as block YAML (no leading "---").
std::string to_yaml(const nlohmann::json& object);

}  // namespace netpol_guard
