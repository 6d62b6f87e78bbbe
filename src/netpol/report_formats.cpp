#include "netpol_guard/netpol/report_formats.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "netpol_guard/netpol/namespace_compliance.hpp"
#include "netpol_guard/version.hpp"

namespace netpol_guard {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the well-formed UTF-8 sequence at s[i] and its code point, or
// 0 when it is not one (overlong, surrogate, truncated, out of range).
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  std::size_t len = 0;
  char32_t min = 0;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// XML 1.0's Char production.
bool xml_char(char32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

std::string attr(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + xml_escape(value) + "\"";
}

// The report's finding for a row, with where it is when known.
std::string finding_with_source(const namespace_report& n) {
  std::string text = finding_text(n);
  if (!n.source_file.empty()) {
    text += "\nsource: " + n.source_file;
    if (n.source_line > 0) text += ":" + std::to_string(n.source_line);
  }
  return text;
}

std::string skip_reason(const namespace_report& n) {
  if (n.exempt) return "exempt by --exempt-namespaces: " + finding_text(n);
  return finding_text(n);  // "covered by its exemption of ... until ... (reason: ...)"
}

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '/';
}

std::string percent_encode(std::string_view path) {
  std::string out;
  for (char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c)) {
      out += ch;
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

constexpr const char* rule_help =
    "Every namespace needs a NetworkPolicy that selects all of its pods and denies all ingress "
    "and all egress (policyTypes [Ingress, Egress], no rules), so that only traffic an allow "
    "policy names is admitted. Apply the template default-deny-all "
    "(manifests/policies/default-deny-all.yaml) to the namespace, or run `netpol-guard check "
    "--fix DIR` on the manifests, or `netpol-guard remediate` against the cluster; then add "
    "allow policies for the traffic the pods need (allow-dns-egress for DNS).";

nlohmann::ordered_json sarif_rule() {
  nlohmann::ordered_json rule;
  rule["id"] = cis_rule_id;
  rule["name"] = "DefaultDenyNetworkPolicy";
  rule["shortDescription"] = {
      {"text", "Every namespace has a default-deny NetworkPolicy for ingress and egress"}};
  rule["fullDescription"] = {
      {"text",
       "CIS Kubernetes Benchmark 5.3.2: ensure that all namespaces have NetworkPolicies "
       "defined. Without a default deny, every pod in the namespace accepts connections from, "
       "and may connect to, every other pod in the cluster and beyond."}};
  rule["help"] = {
      {"text", rule_help},
      {"markdown",
       "**CIS 5.3.2**: every namespace needs a NetworkPolicy that selects all pods "
       "(`podSelector: {}`) with `policyTypes: [Ingress, Egress]` and no rules.\n\n"
       "Fix: apply `default-deny-all` (`manifests/policies/default-deny-all.yaml`), or run "
       "`netpol-guard check --fix DIR` on the manifests or `netpol-guard remediate` against the "
       "cluster, then allow what the pods need (`allow-dns-egress` for DNS)."}};
  rule["helpUri"] = "https://www.cisecurity.org/benchmark/kubernetes";
  rule["defaultConfiguration"] = {{"level", "error"}};
  rule["properties"] = {{"tags", {"security", "CIS-5.3.2", "MITRE-ATT&CK-T1046"}},
                        {"security-severity", "7.5"}};
  return rule;
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const std::size_t len = decode_utf8(text, i, cp);
    if (len == 0 || !xml_char(cp)) {
      out += replacement;
      i += len == 0 ? 1 : len;
      continue;
    }
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      // As references, so attribute-value normalisation keeps them.
      case '\t':
        out += "&#9;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string render_junit(const compliance_report& report) {
  std::size_t failures = 0, skipped = 0;
  std::string cases;
  for (const auto& n : report.namespaces) {
    cases += "    <testcase" + attr("classname", junit_suite_name) +
             attr("name", "namespace " + n.name) + attr("time", "0");
    if (!n.source_file.empty()) {
      cases += attr("file", n.source_file);
      if (n.source_line > 0) cases += attr("line", std::to_string(n.source_line));
    }
    cases += ">\n";
    if (report.fails(n)) {
      ++failures;
      cases += "      <failure" + attr("message", finding_text(n)) + attr("type", cis_rule_id) +
               ">" + xml_escape(finding_with_source(n)) + "</failure>\n";
    } else if (n.exempt || n.status == report_status::exempt) {
      ++skipped;
      cases += "      <skipped" + attr("message", skip_reason(n)) + "/>\n";
    } else if (n.status != report_status::pass || !n.settings_invalid.empty()) {
      // A WARN row passes, but its baseline is re-opened: say by what.
      cases += "      <system-out>" + xml_escape(finding_text(n)) + "</system-out>\n";
    }
    cases += "    </testcase>\n";
  }
  const std::string counts = attr("tests", std::to_string(report.namespaces.size())) +
                             attr("failures", std::to_string(failures)) + attr("errors", "0") +
                             attr("skipped", std::to_string(skipped)) + attr("time", "0");
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites" + attr("name", "netpol-guard") +
         counts + ">\n  <testsuite" + attr("name", junit_suite_name) + counts + ">\n" + cases +
         "  </testsuite>\n</testsuites>\n";
}

artifact_uri to_artifact_uri(const std::string& file, const std::filesystem::path& base_dir) {
  namespace fs = std::filesystem;
  const fs::path p(file);
  const fs::path abs = (p.is_absolute() ? p : base_dir / p).lexically_normal();
  const fs::path rel = abs.lexically_relative(base_dir.lexically_normal());
  const std::string r = rel.generic_string();
  if (!rel.empty() && r != "." && r.rfind("..", 0) != 0) return {percent_encode(r), true};
  return {"file://" + percent_encode(abs.generic_string()), false};
}

std::string render_sarif(const compliance_report& report, const std::filesystem::path& base_dir) {
  using ojson = nlohmann::ordered_json;
  ojson results = ojson::array();
  for (const auto& n : report.namespaces) {
    // A WARN row that passes is no finding (its namespace is compliant); the
    // text and JUnit reports show it.
    if (!report.fails(n)) continue;
    ojson result;
    result["ruleId"] = cis_rule_id;
    result["ruleIndex"] = 0;
    result["level"] = "error";
    result["message"] = {{"text", finding_text(n)}};
    if (!n.source_file.empty()) {
      const auto where = to_artifact_uri(n.source_file, base_dir);
      ojson artifact = {{"uri", where.uri}};
      if (where.relative) artifact["uriBaseId"] = "%SRCROOT%";
      result["locations"] =
          ojson::array({{{"physicalLocation",
                          {{"artifactLocation", std::move(artifact)},
                           {"region", {{"startLine", n.source_line > 0 ? n.source_line : 1}}}}}}});
    }
    // Stable across edits that move the namespace's lines.
    result["partialFingerprints"] = {{"netpolGuardNamespace/v1", n.name}};
    result["properties"] = {{"namespace", n.name},
                            {"status", to_string(n.exempt ? report_status::exempt : n.status)}};
    results.push_back(std::move(result));
  }
  ojson driver;
  driver["name"] = "netpol-guard";
  driver["version"] = version_string;
  driver["informationUri"] = "https://github.com/k8s-security-pro/netpol-guard";
  driver["rules"] = ojson::array({sarif_rule()});
  ojson run;
  run["tool"] = {{"driver", std::move(driver)}};
  run["columnKind"] = "utf16CodeUnits";
  run["results"] = std::move(results);
  ojson doc;
  doc["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json";
  doc["version"] = "2.1.0";
  doc["runs"] = ojson::array({std::move(run)});
  // Annotation text is the user's: invalid UTF-8 becomes U+FFFD, not an exception.
  return doc.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
}

}  // namespace netpol_guard
