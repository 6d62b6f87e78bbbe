#include "netpol_guard/kube/api_paths.hpp"

namespace netpol_guard::kube {

bool is_dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return s.front() != '-' && s.back() != '-';
}

std::string namespace_policies_path(std::string_view ns) {
  return "/apis/networking.k8s.io/v1/namespaces/" + std::string(ns) + "/networkpolicies";
}

std::string namespace_path(std::string_view ns) {
  return std::string(all_namespaces_path) + "/" + std::string(ns);
}

}  // namespace netpol_guard::kube
