#pragma once

// NetworkPolicy semantics: when does a policy isolate every pod of its namespace
// with no allowed traffic ("deny-all") for ingress and/or egress.
// networking.k8s.io/v1; see README "What counts as a default deny".

#include <boost/system/result.hpp>
#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

namespace netpol_guard {

// How a rule list (spec.ingress / spec.egress) appears in a policy.
enum class rule_list : unsigned char {
  absent,     // key missing or null
  empty,      // []
  non_empty,  // at least one rule; even [{}] allows traffic
};

// The handful of facts about a NetworkPolicy spec that decide coverage.
// Built from a JSON DOM (manifests, API lists) or from the streaming codec.
struct policy_spec_facts {
  bool selects_all_pods = true;     // podSelector absent, {} or with no labels/expressions
  bool has_policy_types = false;    // policyTypes present and non-empty
  bool lists_ingress_type = false;  // "Ingress" in policyTypes
  bool lists_egress_type = false;   // "Egress" in policyTypes
  rule_list ingress = rule_list::absent;
  rule_list egress = rule_list::absent;
  // The index of the first rule that allows all traffic of its direction: no
  // ports, and no peers or a peer that matches everything (see opens_all_of).
  // A rule of an unexpected shape is never allow-all; policy_validation refuses it.
  std::optional<std::size_t> ingress_allow_all;
  std::optional<std::size_t> egress_allow_all;
};

// Which directions one policy denies for every pod of its namespace.
struct deny_all_coverage {
  bool ingress = false;
  bool egress = false;

  bool any() const { return ingress || egress; }
  bool full() const { return ingress && egress; }
  friend bool operator==(const deny_all_coverage&, const deny_all_coverage&) = default;
};

// Applies the apiserver's policyTypes defaulting (absent or empty means
// ["Ingress"], plus "Egress" only when egress has at least one rule), then the
// deny-all test for each direction.
deny_all_coverage coverage_of(const policy_spec_facts& facts);

// Which directions a policy re-opens for every pod of its namespace: it selects
// every pod, the direction is in its effective policyTypes, and one of its rules
// allows all traffic. `rule` names the first such rule of each direction opened:
// "spec.ingress[0]", or "spec.ingress[0] and spec.egress[1]".
struct allow_all {
  deny_all_coverage opens;
  std::string rule;
  friend bool operator==(const allow_all&, const allow_all&) = default;
};
allow_all opens_all_of(const policy_spec_facts& facts);

// True when a label selector (metav1.LabelSelector, may be null) selects every pod:
// no matchLabels entries and no matchExpressions entries.
// An error when the selector has the wrong shape.
boost::system::result<bool, std::string> selector_selects_all(const nlohmann::json& selector);

// Reads the facts from a NetworkPolicy's `spec` (may be null or missing fields).
// An error naming the field on a wrongly typed field.
boost::system::result<policy_spec_facts, std::string> facts_from_spec(const nlohmann::json& spec);

// Which direction(s) a coverage lacks, as used in messages: "ingress", "egress",
// "ingress and egress", or "" when none.
std::string missing_directions(const deny_all_coverage& have);

}  // namespace netpol_guard
