#include "netpol_guard/netpol/remediation.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>

#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard {

namespace {

// A plain scalar YAML reads back as this same string: it starts with a letter,
// holds only [A-Za-z0-9._/-] and is no YAML 1.1 boolean or null word. Anything
// else ("53", "true", "", "a: b") is written double-quoted.
bool plain_safe(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s.front()))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '/' &&
        c != '-')
      return false;
  }
  std::string lower(s);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static constexpr std::string_view words[] = {"y",   "n",    "yes",   "no",  "on",
                                               "off", "true", "false", "null"};
  for (auto w : words) {
    if (lower == w) return false;
  }
  return true;
}

void emit(YAML::Emitter& out, const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object:
      if (v.empty()) {  // no block form: {}
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        break;
      }
      out << YAML::BeginMap;
      for (const auto& [k, item] : v.items()) {
        out << YAML::Key << k << YAML::Value;
        emit(out, item);
      }
      out << YAML::EndMap;
      break;
    case nlohmann::json::value_t::array:
      if (v.empty()) {  // no block form: []
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        break;
      }
      out << YAML::BeginSeq;
      for (const auto& item : v) emit(out, item);
      out << YAML::EndSeq;
      break;
    case nlohmann::json::value_t::string:
      if (!plain_safe(v.get_ref<const std::string&>())) out << YAML::DoubleQuoted;
      out << v.get_ref<const std::string&>();
      break;
    case nlohmann::json::value_t::boolean:
      out << v.get<bool>();
      break;
    case nlohmann::json::value_t::number_integer:
      out << v.get<std::int64_t>();
      break;
    case nlohmann::json::value_t::number_unsigned:
      out << v.get<std::uint64_t>();
      break;
    case nlohmann::json::value_t::number_float:
      out << v.get<double>();
      break;
    default:
      out << YAML::Null;
      break;
  }
}

}  // namespace

std::string to_yaml(const nlohmann::json& object) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  emit(out, object);
  std::string s = out.c_str();
  if (s.empty() || s.back() != '\n') s += '\n';
  return s;
}

std::string render_yaml(const std::vector<nlohmann::json>& objects) {
  std::string out;
  for (const auto& o : objects) out += "---\n" + to_yaml(o);
  return out;
}

deny_all_coverage directions_to_deny(const namespace_report& row) {
  if (row.exempt) return {};
  deny_all_coverage active_exemption;
  if (row.exemption && !row.exemption->expired) active_exemption = row.exemption->directions;
  return {!row.coverage.ingress && !active_exemption.ingress,
          !row.coverage.egress && !active_exemption.egress};
}

nlohmann::json deny_direction_policy(const std::string& ns, bool ingress) {
  return nlohmann::json{{"apiVersion", "networking.k8s.io/v1"},
                        {"kind", "NetworkPolicy"},
                        {"metadata",
                         {{"name", ingress ? deny_ingress_policy_name : deny_egress_policy_name},
                          {"namespace", ns},
                          {"labels", rules::template_labels()}}},
                        {"spec",
                         {{"podSelector", nlohmann::json::object()},
                          {"policyTypes", {ingress ? "Ingress" : "Egress"}}}}};
}

remediation_plan plan_remediation(const namespace_report& row,
                                  const std::set<std::string, std::less<>>& existing_policy_names,
                                  bool with_dns_egress) {
  remediation_plan plan;
  plan.namespace_name = row.name;
  plan.deny = directions_to_deny(row);
  if (!plan.needed()) return plan;
  const auto taken = [&](std::string_view name) { return existing_policy_names.contains(name); };
  if (plan.deny.full() && !taken(rules::template_policy_name)) {
    plan.objects.push_back(rules::default_deny_all_policy(row.name));
  } else {
    for (bool ingress : {true, false}) {
      if (!(ingress ? plan.deny.ingress : plan.deny.egress)) continue;
      const std::string_view name = ingress ? deny_ingress_policy_name : deny_egress_policy_name;
      if (taken(name)) {
        plan.objects.clear();
        plan.conflict = "a NetworkPolicy named " + std::string(name) +
                        " is there but does not deny all " + (ingress ? "ingress" : "egress") +
                        "; replace it (remediation never modifies an existing object)";
        return plan;
      }
      plan.objects.push_back(deny_direction_policy(row.name, ingress));
    }
  }
  if (with_dns_egress && plan.deny.egress && !taken(dns_egress_policy_name)) {
    plan.objects.push_back(rules::allow_dns_egress_policy(row.name));
  }
  return plan;
}

}  // namespace netpol_guard
