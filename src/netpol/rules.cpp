#include "netpol_guard/netpol/rules.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace netpol_guard::rules {

const workload_kind* find_workload(std::string_view group, std::string_view resource) {
  for (const auto& w : workload_kinds) {
    if (w.group == group && w.resource == resource) return &w;
  }
  return nullptr;
}

bool is_workload_kind(std::string_view kind) {
  return std::any_of(workload_kinds.begin(), workload_kinds.end(),
                     [&](const workload_kind& w) { return w.kind == kind; });
}

std::vector<std::string> default_exempt_list() {
  return {default_exempt_namespaces.begin(), default_exempt_namespaces.end()};
}

nlohmann::json default_deny_all_policy(const std::string& namespace_name) {
  return nlohmann::json{
      {"apiVersion", "networking.k8s.io/v1"},
      {"kind", "NetworkPolicy"},
      {"metadata",
       {{"name", template_policy_name},
        {"namespace", namespace_name},
        {"labels",
         {{"app.kubernetes.io/name", "k8s-security"},
          {"app.kubernetes.io/part-of", "k8s-security-pro"},
          {"app.kubernetes.io/managed-by", "k8s-security-pro"}}}}},
      {"spec",
       {{"podSelector", nlohmann::json::object()}, {"policyTypes", {"Ingress", "Egress"}}}}};
}

}  // namespace netpol_guard::rules
