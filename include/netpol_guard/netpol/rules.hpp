#pragma once

// The rule book: the facts of CIS 5.3.2 enforcement that more than one part of
// netpol-guard needs. Each is defined here once; the decision, check, audit,
// metrics, provisioning and the flags' defaults all read them from here.

#include <array>
#include <chrono>
#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace netpol_guard::rules {

// Workloads whose controllers create pods. Matched by group and resource, so any
// version the apiserver converts to (matchPolicy: Equivalent) is covered.
struct workload_kind {
  std::string_view group;
  std::string_view resource;
  std::string_view kind;
};
inline constexpr std::array<workload_kind, 6> workload_kinds{{
    {"apps", "deployments", "Deployment"},
    {"apps", "replicasets", "ReplicaSet"},
    {"apps", "statefulsets", "StatefulSet"},
    {"apps", "daemonsets", "DaemonSet"},
    {"batch", "jobs", "Job"},
    {"batch", "cronjobs", "CronJob"},
}};

// Pods themselves: the other kind whose CREATE the namespace's baseline gates.
inline constexpr workload_kind pod_kind{"", "pods", "Pod"};

// The workload with this group and resource, or nullptr.
const workload_kind* find_workload(std::string_view group, std::string_view resource);
// A pod creator (Pod or a workload) by group and resource, as the webhook sees
// a request; by apiVersion and kind, as `check` sees a manifest. Both read the
// same table, so a custom kind that shares a name ("Deployment" in another
// group) is a pod creator for neither.
const workload_kind* find_pod_creator(std::string_view group, std::string_view resource);
const workload_kind* find_pod_creator_kind(std::string_view api_version, std::string_view kind);
// The group of an apiVersion: "" for "v1", "apps" for "apps/v1".
std::string_view api_group(std::string_view api_version);

// Namespaces exempt unless --exempt-namespaces says otherwise.
inline constexpr std::array<std::string_view, 3> default_exempt_namespaces{
    "kube-system", "kube-public", "kube-node-lease"};
std::vector<std::string> default_exempt_list();

// The seed template's policy (manifests/policies/default-deny-all.yaml): its
// name, and the object provisioning creates in a namespace.
inline constexpr std::string_view template_policy_name = "default-deny-all";
nlohmann::json default_deny_all_policy(const std::string& namespace_name);
// Its companion manifests/policies/allow-dns-egress.yaml: egress to the cluster
// DNS (k8s-app=kube-dns in kube-system) on port 53, UDP and TCP, for every pod.
nlohmann::json allow_dns_egress_policy(const std::string& namespace_name);
// The template's labels (app.kubernetes.io/*), on every object netpol-guard creates.
nlohmann::json template_labels();

// Per-namespace rollout: the label that sets a namespace's mode, and the
// annotations of an expiring exemption. Read by the decision, check, audit and
// the shipped ValidatingWebhookConfiguration's matchCondition (which names them
// verbatim; tests/manifests/check_rendered.py ties the two).
inline constexpr std::string_view mode_label = "netpol-guard.k8s-security-pro.io/mode";
inline constexpr std::string_view exempt_annotation = "netpol-guard.k8s-security-pro.io/exempt";
inline constexpr std::string_view exempt_reason_annotation =
    "netpol-guard.k8s-security-pro.io/exempt-reason";
inline constexpr std::string_view exempt_until_annotation =
    "netpol-guard.k8s-security-pro.io/exempt-until";
inline constexpr std::size_t max_exempt_reason_chars = 256;
inline constexpr std::chrono::hours default_max_exemption_duration{2160};  // 90 days
// Who may loosen a namespace whatever --exemption-groups adds.
inline constexpr std::array<std::string_view, 1> default_exemption_groups{"system:masters"};

}  // namespace netpol_guard::rules
