#pragma once

// The compliance report (report.hpp) in the formats CI systems read: JUnit XML
// (GitLab, Jenkins, Azure DevOps) and SARIF 2.1.0 (GitHub code scanning). Each
// carries, per namespace, the same finding the text report prints.

#include <filesystem>
#include <string>

#include "netpol_guard/netpol/report.hpp"

namespace netpol_guard {

// The one rule both formats report against.
inline constexpr const char* cis_rule_id = "CIS-5.3.2";
inline constexpr const char* junit_suite_name = "cis-5.3.2";

// One <testsuite name="cis-5.3.2">, one <testcase> per row in the report's
// order: <failure> for a row that fails the report (compliance_report::fails),
// <skipped> for an exempt one, a passing testcase otherwise (a WARN row says in
// <system-out> what re-opens it).
std::string render_junit(const compliance_report& report);

// One result per row that fails the report, at its source_file:source_line.
// `base_dir` is what relative URIs are relative to (%SRCROOT%, the directory
// the CI job runs in): a file under it is named relative to it, any other by
// an absolute file: URI.
std::string render_sarif(const compliance_report& report, const std::filesystem::path& base_dir);

// Text made safe for XML 1.0 content and attribute values: markup characters
// as entities, characters XML 1.0 forbids (and invalid UTF-8) as U+FFFD.
std::string xml_escape(std::string_view text);

// A path as a SARIF artifactLocation: {"uri": ..., "uriBaseId": "%SRCROOT%"}
// when it is under `base_dir`, {"uri": "file:///..."} otherwise; percent-encoded.
struct artifact_uri {
  std::string uri;
  bool relative = false;
};
artifact_uri to_artifact_uri(const std::string& file, const std::filesystem::path& base_dir);

}  // namespace netpol_guard
