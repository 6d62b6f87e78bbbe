#pragma once

// The CIS 5.3.2 compliance report shared by `check` (manifests) and `audit`
// (live cluster). Its JSON field names are a contract.

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "netpol_guard/netpol/manifest_loader.hpp"
#include "netpol_guard/netpol/namespace_compliance.hpp"
#include "netpol_guard/netpol/namespace_snapshot.hpp"

namespace netpol_guard {

// A row's verdict. EXEMPT is --exempt-namespaces, or a namespace whose active
// exemption covers what its policies miss; WARN is compliant but re-opened by an
// allow-all policy (FAIL with --deny-allow-all); EXPIRED is not compliant
// because an exemption of a missing direction has expired.
enum class report_status : unsigned char { pass, fail, exempt, warn, expired };
const char* to_string(report_status s);  // "PASS", "FAIL", "EXEMPT", "WARN", "EXPIRED"

// The namespace's exemption as the report shows it.
struct report_exemption {
  deny_all_coverage directions;
  std::string reason;
  std::string until;  // as written
  bool expired = false;
  friend bool operator==(const report_exemption&, const report_exemption&) = default;
};

struct namespace_report {
  std::string name;
  bool exempt = false;  // in --exempt-namespaces
  deny_all_coverage coverage;
  std::vector<std::string> baseline_policies;
  std::uint32_t policy_count = 0;
  // Pods and workloads the webhook would reject (check): {kind, name}.
  std::vector<std::pair<std::string, std::string>> would_reject;
  // Pods running unprotected (audit): set when counted.
  std::optional<std::size_t> unprotected_pods;
  // A policy named default-deny-all is there but is not a deny-all.
  bool template_name_taken = false;
  namespace_mode mode = namespace_mode::enforce;  // the effective mode
  std::optional<report_exemption> exemption;
  std::vector<std::string> negated_by;  // policies that re-open a direction, sorted
  std::string settings_invalid;         // why its mode label or exemption was ignored
  report_status status = report_status::fail;
  // check: where the namespace is in the manifests, the file and 1-based line of
  // its Namespace object, else of its first object (empty/0 when unknown or live).
  std::string source_file;
  std::size_t source_line = 0;

  bool compliant() const { return coverage.full(); }
};

struct compliance_report {
  std::vector<namespace_report> namespaces;  // sorted by name
  // Set from --deny-allow-all: a negated namespace fails instead of warning.
  bool deny_allow_all = false;
  // True when `row` is FAIL or EXPIRED, or WARN with deny_allow_all (never when
  // it is in --exempt-namespaces): the rows that make the report fail.
  bool fails(const namespace_report& row) const;
  // False when a row fails.
  bool passed() const;
};

// One row per namespace in `entries`, plus `extra_namespaces` (namespaces that
// only appear through other objects), judged as `ctx` says (global mode,
// --deny-allow-all, and `now` for exemptions).
compliance_report build_report(const namespace_map& entries,
                               const std::set<std::string, std::less<>>& extra_namespaces,
                               const evaluation_context& ctx);
// The report for manifests: every namespace that appears, and the Pods and
// workloads that would be rejected in non-compliant ones.
compliance_report report_manifests(const std::vector<manifest_object>& objects,
                                   const namespace_index& index, const evaluation_context& ctx,
                                   bool check_workloads);

// The finding for one row, as render_text prints it (without the newline):
// "[STATUS] 5.3.2 namespace NAME: what it has or misses; fix: ...". JUnit and
// SARIF (report_formats.hpp) carry the same text.
std::string finding_text(const namespace_report& row);

std::string render_text(const compliance_report& report);
std::string render_json(const compliance_report& report);

}  // namespace netpol_guard
