#pragma once

// The content of one namespace's compliance report: CIS 5.3.2 evaluated for
// ingress and egress as the webhook evaluates it, in the policy-report standard
// (openreports.io/v1alpha1 Report, or its predecessor wgpolicyk8s.io/v1alpha2
// PolicyReport; both have the same fields). Pure: the time and the pod count are
// passed in, so the report writer and tests build identical content.

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netpol_guard/netpol/namespace_compliance.hpp"
#include "netpol_guard/netpol/namespace_snapshot.hpp"

namespace netpol_guard {

namespace report_fields {
inline constexpr std::string_view report_name = "netpol-guard";  // metadata.name
inline constexpr std::string_view source = "netpol-guard";
inline constexpr std::string_view policy = "cis-5.3.2";
inline constexpr std::string_view ingress_rule = "default-deny-ingress";
inline constexpr std::string_view egress_rule = "default-deny-egress";
inline constexpr std::string_view severity = "high";
inline constexpr std::string_view category = "Network Security";
// The label every report carries, so one LIST finds ours and only ours.
inline constexpr std::string_view managed_by_label = "app.kubernetes.io/managed-by";
inline constexpr std::string_view managed_by = "netpol-guard";
}  // namespace report_fields

// Which API a report is written as.
struct report_type {
  std::string_view api_version;
  std::string_view kind;
};
inline constexpr report_type openreports_report{"openreports.io/v1alpha1", "Report"};
inline constexpr report_type wgpolicy_report{"wgpolicyk8s.io/v1alpha2", "PolicyReport"};

// warn: a policy re-opens the direction and --deny-allow-all is off, so the
// webhook only warns about it (as audit reports it).
enum class report_result : unsigned char { pass, fail, skip, warn };
const char* to_string(report_result r);  // "pass", "fail", "skip", "warn"

// One result: a rule, its outcome and why. Properties are sorted by key.
struct rule_finding {
  std::string rule;
  report_result result = report_result::fail;
  std::string message;
  std::map<std::string, std::string> properties;
  friend bool operator==(const rule_finding&, const rule_finding&) = default;
};

struct report_summary {
  unsigned pass = 0, fail = 0, warn = 0, error = 0, skip = 0;
  friend bool operator==(const report_summary&, const report_summary&) = default;
};

// What a report says, timestamps aside: equal contents need no write.
struct policy_report_content {
  std::string namespace_name;
  std::vector<rule_finding> results;  // ingress, then egress
  report_summary summary() const;
  // True when a result needs the namespace's pod count (it fails or is skipped).
  bool counts_pods() const;
  friend bool operator==(const policy_report_content&, const policy_report_content&) = default;
};

// The report of namespace `ns` (entry may be null: nothing known of it).
// `unprotected_pods` is the number of its pods that are not Succeeded or
// Failed; it is written only for a direction that fails or is skipped.
policy_report_content build_policy_report(std::string_view ns, const namespace_entry* entry,
                                          const evaluation_context& ctx,
                                          std::uint64_t unprotected_pods);

// The object to apply: apiVersion, kind, metadata (name, namespace, labels),
// source, scope, summary and results, every result stamped with `now`.
nlohmann::json report_object(const policy_report_content& content, report_type type,
                             std::chrono::sys_seconds now);

// Reads a stored report (as a GET or LIST returns it) back into its content.
// nullopt when it is not one of ours in the shape report_object writes (another
// source, a missing label, an unexpected rule, a wrong summary): then it is
// rewritten. Server fields (managedFields, resourceVersion, ...) and timestamps
// are ignored.
std::optional<policy_report_content> read_policy_report(const nlohmann::json& object);

// A stable 64-bit digest of the content, so the writer keeps 8 bytes per
// namespace instead of the report.
std::uint64_t content_digest(const policy_report_content& content);

}  // namespace netpol_guard
