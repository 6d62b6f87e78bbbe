#pragma once

// The apiserver paths netpol-guard reads and writes, built in one place.

#include <string>
#include <string_view>

namespace netpol_guard::kube {

inline constexpr std::string_view all_policies_path = "/apis/networking.k8s.io/v1/networkpolicies";
inline constexpr std::string_view all_namespaces_path = "/api/v1/namespaces";
inline constexpr std::string_view all_pods_path = "/api/v1/pods";

// Namespace names go into URL paths: only RFC 1123 labels are accepted.
bool is_dns_label(std::string_view s);

// The NetworkPolicy collection of namespace `ns` (a DNS label).
std::string namespace_policies_path(std::string_view ns);
// The Namespace object `ns` (a DNS label).
std::string namespace_path(std::string_view ns);

}  // namespace netpol_guard::kube
