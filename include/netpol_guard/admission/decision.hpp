#pragma once

// Value types of an admission request and response, and the pure decision.
// The decision does no I/O: the server asks it, with a namespace snapshot.

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "netpol_guard/netpol/namespace_settings.hpp"
#include "netpol_guard/netpol/namespace_snapshot.hpp"
#include "netpol_guard/netpol/policy.hpp"
#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard {

enum class review_version : unsigned char { v1, v1beta1 };

// What the decision reads of `request.object` / `request.oldObject`.
struct object_facts {
  bool present = false;  // the field was an object (not missing, not null)
  std::string name;
  std::string namespace_name;
  std::string generate_name;
  bool deleting = false;  // metadata.deletionTimestamp is set
  std::string created;    // metadata.creationTimestamp
  // Set for NetworkPolicy requests: the facts of `spec`.
  std::optional<policy_spec_facts> policy;
  // NetworkPolicy requests: the spec and the user-editable metadata (labels,
  // annotations, ownerReferences) in a canonical form. Equal for two versions
  // of an object that differ only in finalizers and bookkeeping.
  std::string content;
  // Namespace requests: the netpol-guard.k8s-security-pro.io/ label and
  // annotations of metadata.
  namespace_keys keys;
};

struct admission_request {
  review_version version = review_version::v1;
  std::string uid;
  std::string kind_group, kind_version, kind;
  std::string resource_group, resource_version, resource;
  std::string sub_resource;
  std::string name;
  std::string namespace_name;
  std::string operation;
  std::string username;
  std::vector<std::string> groups;  // userInfo.groups
  bool dry_run = false;
  object_facts object;
  object_facts old_object;
};

struct admission_response {
  bool allowed = true;
  int code = 200;       // status.code, sent only when denied
  std::string reason;   // status.reason
  std::string message;  // status.message
  std::vector<std::string> warnings;
  std::vector<std::pair<std::string, std::string>> audit_annotations;
};

struct decision_config {
  std::set<std::string, std::less<>> exempt_namespaces{rules::default_exempt_namespaces.begin(),
                                                       rules::default_exempt_namespaces.end()};
  bool audit_only = false;
  bool check_workloads = true;
  bool provision_default_deny = false;
  bool protect_baseline = true;
  // Governance: who may loosen a namespace (exempt it, or move it to warn).
  // serve builds exemption_groups as rules::default_exemption_groups plus
  // --exemption-groups.
  std::set<std::string, std::less<>> exemption_groups{rules::default_exemption_groups.begin(),
                                                      rules::default_exemption_groups.end()};
  std::set<std::string, std::less<>> exemption_users;
  std::chrono::seconds max_exemption_duration = rules::default_max_exemption_duration;
  // --deny-allow-all: a policy that re-opens a whole direction is refused.
  bool deny_allow_all = false;
};

enum class verdict : unsigned char {
  allowed,  // nothing to say
  denied,   // enforce mode rejection
  audited,  // would have been denied; allowed with a warning (audit-only)
  warned,   // allowed with an informational warning (e.g. provisioning)
};

const char* to_string(verdict v);

// What the request is, for metrics and logs: Pod, Deployment, ..., Namespace,
// NetworkPolicy, or "other".
struct request_subject {
  std::string kind;            // "Pod", "Deployment", "Namespace", "NetworkPolicy", "other"
  std::string namespace_name;  // the namespace whose baseline decides
  std::string name;            // object name, may be empty (generateName)
};

struct admission_decision {
  verdict outcome = verdict::allowed;
  request_subject subject;
  deny_all_coverage coverage;  // coverage that was (or would be) in force
  // True when the rejection rests on namespace state that a live read could
  // overturn (the server confirms before denying).
  bool depends_on_state = false;
  // Allowed only because an active exemption covers a missing direction.
  bool by_exemption = false;
  admission_response response;
};

// The pure decision. Never throws for any decoded request. `now` is the wall
// clock the request is judged at (exemption expiry, exempt-until's maximum).
admission_decision decide(const admission_request& request, const namespace_snapshot& state,
                          const decision_config& config, std::chrono::sys_seconds now);

// The warning text bound by the apiserver's rules: at most 256 bytes, no
// control characters (kubectl drops such warnings silently).
std::string to_warning(std::string_view message);

// True for an auditAnnotations key the apiserver accepts (no '/', <= 63 chars,
// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]).
bool valid_audit_annotation_key(std::string_view key);

}  // namespace netpol_guard
