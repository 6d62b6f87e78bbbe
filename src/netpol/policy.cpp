#include "netpol_guard/netpol/policy.hpp"

#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>
#include <string_view>

namespace netpol_guard {

namespace {

// The apiserver's policyTypes defaulting, shared by coverage_of and opens_all_of:
// Ingress always, Egress only when there are egress rules. So `egress: []`
// without policyTypes does not isolate egress.
deny_all_coverage effective_types(const policy_spec_facts& f) {
  if (!f.has_policy_types) return {true, f.egress == rule_list::non_empty};
  return {f.lists_ingress_type, f.lists_egress_type};
}

}  // namespace

deny_all_coverage coverage_of(const policy_spec_facts& f) {
  auto types = effective_types(f);
  deny_all_coverage c;
  if (f.selects_all_pods) {
    c.ingress = types.ingress && f.ingress != rule_list::non_empty;
    c.egress = types.egress && f.egress != rule_list::non_empty;
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

// Absent, null or an empty list: nothing narrows the rule.
bool empty_or_absent(const nlohmann::json& rule, const char* key) {
  auto it = rule.find(key);
  return it == rule.end() || it->is_null() || (it->is_array() && it->empty());
}

bool absent(const nlohmann::json& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() || it->is_null();
}

bool selects_all(const nlohmann::json& selector) {
  auto all = selector_selects_all(selector);
  return all && *all;
}

// 0.0.0.0/0, ::/0, or any address with prefix 0 (the host bits do not matter).
bool every_address(const nlohmann::json& cidr) {
  if (!cidr.is_string()) return false;
  std::string_view s = cidr.get_ref<const std::string&>();
  auto slash = s.find('/');
  if (slash == std::string_view::npos || s.substr(slash + 1) != "0") return false;
  boost::system::error_code ec;
  static_cast<void>(boost::asio::ip::make_address(std::string(s.substr(0, slash)), ec));
  return !ec;
}

// A peer that matches every source (destination): every pod of every namespace,
// or every address.
bool peer_matches_all(const nlohmann::json& peer) {
  if (!peer.is_object()) return false;
  if (auto ip = peer.find("ipBlock"); ip != peer.end() && !ip->is_null()) {
    if (!ip->is_object() || !absent(peer, "namespaceSelector") || !absent(peer, "podSelector")) {
      return false;
    }
    auto cidr = ip->find("cidr");
    return cidr != ip->end() && every_address(*cidr) && empty_or_absent(*ip, "except");
  }
  auto ns = peer.find("namespaceSelector");
  if (ns == peer.end() || !ns->is_object() || !selects_all(*ns)) return false;
  auto pods = peer.find("podSelector");
  return pods == peer.end() || pods->is_null() || (pods->is_object() && selects_all(*pods));
}

// The first rule that allows all traffic: no ports and no peers, or a peer that
// matches everything. Odd shapes are policy_validation's to refuse, not ours.
std::optional<std::size_t> first_allow_all(const nlohmann::json& spec, const char* list,
                                           const char* peers) {
  auto it = spec.find(list);
  if (it == spec.end() || !it->is_array()) return std::nullopt;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& rule = (*it)[i];
    if (!rule.is_object() || !empty_or_absent(rule, "ports")) continue;
    auto p = rule.find(peers);
    if (p == rule.end() || p->is_null() || (p->is_array() && p->empty())) return i;
    if (!p->is_array()) continue;
    for (const auto& peer : *p) {
      if (peer_matches_all(peer)) return i;
    }
  }
  return std::nullopt;
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
  f.ingress_allow_all = first_allow_all(spec, "ingress", "from");
  f.egress_allow_all = first_allow_all(spec, "egress", "to");
  return f;
}

std::string missing_directions(const deny_all_coverage& have) {
  if (!have.ingress && !have.egress) return "ingress and egress";
  if (!have.ingress) return "ingress";
  if (!have.egress) return "egress";
  return "";
}

allow_all opens_all_of(const policy_spec_facts& f) {
  allow_all out;
  if (!f.selects_all_pods) return out;
  auto types = effective_types(f);
  out.opens = {types.ingress && f.ingress_allow_all.has_value(),
               types.egress && f.egress_allow_all.has_value()};
  // Both rules are named when both directions open, so one fix answers both.
  if (out.opens.ingress) out.rule = "spec.ingress[" + std::to_string(*f.ingress_allow_all) + "]";
  if (out.opens.egress) {
    if (!out.rule.empty()) out.rule += " and ";
    out.rule += "spec.egress[" + std::to_string(*f.egress_allow_all) + "]";
  }
  return out;
}

}  // namespace netpol_guard
