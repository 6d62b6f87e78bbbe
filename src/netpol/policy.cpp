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

boost::system::result<bool, std::string> selector_selects_all(const nlohmann::json& selector) {
  if (selector.is_null()) return true;
  if (!selector.is_object()) {
    return std::string("podSelector: expected an object");
  }
  bool all = true;
  if (auto it = selector.find("matchLabels"); it != selector.end() && !it->is_null()) {
    if (!it->is_object()) {
      return std::string("podSelector.matchLabels: expected an object");
    }
    all = all && it->empty();
  }
  if (auto it = selector.find("matchExpressions"); it != selector.end() && !it->is_null()) {
    if (!it->is_array()) {
      return std::string("podSelector.matchExpressions: expected an array");
    }
    all = all && it->empty();
  }
  return all;
}

namespace {

boost::system::result<rule_list, std::string> read_rule_list(const nlohmann::json& spec,
                                                             const char* key) {
  auto it = spec.find(key);
  if (it == spec.end() || it->is_null()) return rule_list::absent;
  if (!it->is_array()) {
    return std::string(key) + ": expected an array";
  }
  return it->empty() ? rule_list::empty : rule_list::non_empty;
}

}  // namespace

boost::system::result<policy_spec_facts, std::string> facts_from_spec(const nlohmann::json& spec) {
  policy_spec_facts f;
  if (spec.is_null()) return f;
  if (!spec.is_object()) {
    return std::string("spec: expected an object");
  }
  if (auto it = spec.find("podSelector"); it != spec.end()) {
    auto all = selector_selects_all(*it);
    if (!all) return all.error();
    f.selects_all_pods = *all;
  }
  if (auto it = spec.find("policyTypes"); it != spec.end() && !it->is_null()) {
    if (!it->is_array()) {
      return std::string("policyTypes: expected an array");
    }
    for (const auto& t : *it) {
      if (!t.is_string()) {
        return std::string("policyTypes: expected strings");
      }
      const auto& s = t.get_ref<const std::string&>();
      f.lists_ingress_type = f.lists_ingress_type || s == "Ingress";
      f.lists_egress_type = f.lists_egress_type || s == "Egress";
    }
    f.has_policy_types = !it->empty();
  }
  auto ingress = read_rule_list(spec, "ingress");
  if (!ingress) return ingress.error();
  auto egress = read_rule_list(spec, "egress");
  if (!egress) return egress.error();
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

// STEP-0 STUB: issue 13 part A implements this.
allow_all opens_all_of(const policy_spec_facts&) { return {}; }

}  // namespace netpol_guard
