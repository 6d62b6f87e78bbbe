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

const workload_kind* find_pod_creator(std::string_view group, std::string_view resource) {
  if (group == pod_kind.group && resource == pod_kind.resource) return &pod_kind;
  return find_workload(group, resource);
}

std::string_view api_group(std::string_view api_version) {
  auto slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string_view{} : api_version.substr(0, slash);
}

const workload_kind* find_pod_creator_kind(std::string_view api_version, std::string_view kind) {
  const std::string_view group = api_group(api_version);
  if (group == pod_kind.group && kind == pod_kind.kind) return &pod_kind;
  for (const auto& w : workload_kinds) {
    if (w.group == group && w.kind == kind) return &w;
  }
  return nullptr;
}

std::vector<std::string> default_exempt_list() {
  return {default_exempt_namespaces.begin(), default_exempt_namespaces.end()};
}

nlohmann::json template_labels() {
  return nlohmann::json{{"app.kubernetes.io/name", "k8s-security"},
                        {"app.kubernetes.io/part-of", "k8s-security-pro"},
                        {"app.kubernetes.io/managed-by", "k8s-security-pro"}};
}

nlohmann::json default_deny_all_policy(const std::string& namespace_name) {
  return nlohmann::json{
      {"apiVersion", "networking.k8s.io/v1"},
      {"kind", "NetworkPolicy"},
      {"metadata",
       {{"name", template_policy_name},
        {"namespace", namespace_name},
        {"labels", template_labels()}}},
      {"spec",
       {{"podSelector", nlohmann::json::object()}, {"policyTypes", {"Ingress", "Egress"}}}}};
}

nlohmann::json allow_dns_egress_policy(const std::string& namespace_name) {
  using nlohmann::json;
  const json port_udp{{"protocol", "UDP"}, {"port", 53}};
  const json port_tcp{{"protocol", "TCP"}, {"port", 53}};
  const json peer{
      {"namespaceSelector", {{"matchLabels", {{"kubernetes.io/metadata.name", "kube-system"}}}}},
      {"podSelector", {{"matchLabels", {{"k8s-app", "kube-dns"}}}}}};
  return json{{"apiVersion", "networking.k8s.io/v1"},
              {"kind", "NetworkPolicy"},
              {"metadata",
               {{"name", "allow-dns-egress"},
                {"namespace", namespace_name},
                {"labels", template_labels()}}},
              {"spec",
               {{"podSelector", json::object()},
                {"policyTypes", {"Egress"}},
                {"egress", json::array({json{{"to", json::array({peer})},
                                             {"ports", json::array({port_udp, port_tcp})}}})}}}};
}

}  // namespace netpol_guard::rules
