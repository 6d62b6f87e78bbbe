#include "netpol_guard/netpol/policy.hpp"

#include <nlohmann/json.hpp>

namespace netpol_guard {

deny_all_coverage coverage_of(const policy_spec_facts& f) {
  bool ingress_type = f.lists_ingress_type;
  bool egress_type = f.lists_egress_type;
  if (!f.has_policy_types) {
    // The apiserver's defaulting: Ingress always, Egress only when there are
    // egress rules. So `egress: []` without policyTypes does not isolate egress.
    ingress_type = true;
    egress_type = f.egress == rule_list::non_empty;
  }
  deny_all_coverage c;
  if (f.selects_all_pods) {
    c.ingress = ingress_type && f.ingress != rule_list::non_empty;
    c.egress = egress_type && f.egress != rule_list::non_empty;
  }
  return c;
}

std::optional<bool> selector_selects_all(const nlohmann::json& selector, std::string& error) {
  if (selector.is_null()) return true;
  if (!selector.is_object()) {
    error = "podSelector: expected an object";
    return std::nullopt;
  }
  bool all = true;
  if (auto it = selector.find("matchLabels"); it != selector.end() && !it->is_null()) {
    if (!it->is_object()) {
      error = "podSelector.matchLabels: expected an object";
      return std::nullopt;
    }
    all = all && it->empty();
  }
  if (auto it = selector.find("matchExpressions"); it != selector.end() && !it->is_null()) {
    if (!it->is_array()) {
      error = "podSelector.matchExpressions: expected an array";
      return std::nullopt;
    }
    all = all && it->empty();
  }
  return all;
}

namespace {

std::optional<rule_list> read_rule_list(const nlohmann::json& spec, const char* key,
                                        std::string& error) {
  auto it = spec.find(key);
  if (it == spec.end() || it->is_null()) return rule_list::absent;
  if (!it->is_array()) {
    error = std::string(key) + ": expected an array";
    return std::nullopt;
  }
  return it->empty() ? rule_list::empty : rule_list::non_empty;
}

}  // namespace

std::optional<policy_spec_facts> facts_from_spec(const nlohmann::json& spec, std::string& error) {
  policy_spec_facts f;
  if (spec.is_null()) return f;
  if (!spec.is_object()) {
    error = "spec: expected an object";
    return std::nullopt;
  }
  if (auto it = spec.find("podSelector"); it != spec.end()) {
    auto all = selector_selects_all(*it, error);
    if (!all) return std::nullopt;
    f.selects_all_pods = *all;
  }
  if (auto it = spec.find("policyTypes"); it != spec.end() && !it->is_null()) {
    if (!it->is_array()) {
      error = "policyTypes: expected an array";
      return std::nullopt;
    }
    for (const auto& t : *it) {
      if (!t.is_string()) {
        error = "policyTypes: expected strings";
        return std::nullopt;
      }
      const auto& s = t.get_ref<const std::string&>();
      f.lists_ingress_type = f.lists_ingress_type || s == "Ingress";
      f.lists_egress_type = f.lists_egress_type || s == "Egress";
    }
    f.has_policy_types = !it->empty();
  }
  auto ingress = read_rule_list(spec, "ingress", error);
  if (!ingress) return std::nullopt;
  auto egress = read_rule_list(spec, "egress", error);
  if (!egress) return std::nullopt;
  f.ingress = *ingress;
  f.egress = *egress;
  return f;
}

std::string missing_directions(const deny_all_coverage& have) {
  if (!have.ingress && !have.egress) return "ingress and egress";
  if (!have.ingress) return "ingress";
  if (!have.egress) return "egress";
  return "";
}

}  // namespace netpol_guard
