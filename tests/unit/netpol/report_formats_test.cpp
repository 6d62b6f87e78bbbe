#include "netpol_guard/netpol/report_formats.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "netpol_guard/version.hpp"

using namespace netpol_guard;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

// Small hand-made reports: one row of each kind the formats map differently.
namespace_report row(std::string name, report_status status, deny_all_coverage coverage = {}) {
  namespace_report r;
  r.name = std::move(name);
  r.status = status;
  r.coverage = coverage;
  if (coverage.full()) r.baseline_policies = {"default-deny-all"};
  return r;
}

constexpr deny_all_coverage full{true, true};

compliance_report mixed_report() {
  compliance_report report;
  auto exempted = row("exempted", report_status::exempt);
  exempted.exemption = report_exemption{full, "ticket <OPS-12> & \"vendor's\"\x01 agent",
                                        "2099-01-01T00:00:00Z", false};
  exempted.source_file = "/repo/cluster.yaml";
  exempted.source_line = 30;
  auto legacy = row("legacy", report_status::fail, {true, false});
  legacy.source_file = "/repo/apps/legacy ns.yaml";
  legacy.source_line = 7;
  auto lapsed = row("lapsed", report_status::expired, {true, false});
  lapsed.exemption = report_exemption{{false, true}, "vendor agent", "2020-01-01T00:00:00Z", true};
  lapsed.source_file = "/repo/cluster.yaml";
  lapsed.source_line = 12;
  auto reopened = row("reopened", report_status::warn, full);
  reopened.negated_by = {"allow-all"};
  reopened.source_file = "/repo/cluster.yaml";
  reopened.source_line = 50;
  auto kube_system = row("kube-system", report_status::fail);
  kube_system.exempt = true;
  auto shop = row("shop", report_status::pass, full);
  shop.source_file = "/repo/cluster.yaml";
  shop.source_line = 1;
  report.namespaces = {exempted, kube_system, lapsed, legacy, reopened, shop};
  return report;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("xml_escape: markup as entities, forbidden characters as U+FFFD", "[report_formats]") {
  CHECK(xml_escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&apos;");
  CHECK(xml_escape(std::string("x\x01y\x1Fz\0w", 7)) == "x\xEF\xBF\xBDy\xEF\xBF\xBDz\xEF\xBF\xBDw");
  CHECK(xml_escape("tab\tnl\ncr\r") == "tab&#9;nl&#10;cr&#13;");
  // Well-formed UTF-8 passes through; broken or XML-forbidden sequences do not.
  CHECK(xml_escape("caf\xC3\xA9 \xF0\x9F\x94\x92") == "caf\xC3\xA9 \xF0\x9F\x94\x92");
  CHECK(xml_escape("\xC3") == "\xEF\xBF\xBD");                                  // truncated
  CHECK(xml_escape("\xC0\xBC") == "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '<'
  CHECK(xml_escape("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  CHECK(xml_escape("\xEF\xBF\xBE") == "\xEF\xBF\xBD");                          // U+FFFE
}

TEST_CASE("junit: one suite, one testcase per row, failures and skips counted",
          "[report_formats]") {
  const auto report = mixed_report();
  const std::string xml = render_junit(report);
  CHECK(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", 0) == 0);
  CHECK(count(xml, "<testsuite ") == 1);
  CHECK_THAT(xml, Contains("<testsuite name=\"cis-5.3.2\" tests=\"6\" failures=\"2\" errors=\"0\" "
                           "skipped=\"2\" time=\"0\">"));
  CHECK(count(xml, "<testcase classname=\"cis-5.3.2\"") == 6);
  // In the report's order.
  const auto at = [&](const char* ns) { return xml.find(std::string("name=\"namespace ") + ns); };
  CHECK(at("exempted") < at("kube-system"));
  CHECK(at("kube-system") < at("lapsed"));
  CHECK(at("legacy") < at("reopened"));
  CHECK(at("reopened") < at("shop"));
  CHECK(count(xml, "<failure ") == 2);
  CHECK(count(xml, "<skipped ") == 2);
  CHECK(count(xml, "</testcase>") == 6);

  // The failure is the text report's finding, with the fix and where it is.
  const std::string legacy_finding = xml_escape(finding_text(report.namespaces[3]));
  CHECK_THAT(legacy_finding, Contains("fix: apply default-deny-all"));
  CHECK_THAT(xml, Contains("<failure message=\"" + legacy_finding + "\" type=\"CIS-5.3.2\">" +
                           legacy_finding + "&#10;source: /repo/apps/legacy ns.yaml:7</failure>"));
  CHECK_THAT(xml, Contains("file=\"/repo/apps/legacy ns.yaml\" line=\"7\""));
  CHECK_THAT(xml, Contains("<failure message=\"[EXPIRED] 5.3.2 namespace lapsed: "));
  // kube-system is in --exempt-namespaces: skipped, and says so.
  CHECK_THAT(xml,
             Contains("<skipped message=\"exempt by --exempt-namespaces: [INFO] 5.3.2 "
                      "namespace kube-system: exempt (no default-deny ingress and egress)\"/>"));
  // The exemption's hostile reason is escaped and its control character dropped.
  CHECK_THAT(xml, Contains("until 2099-01-01T00:00:00Z (reason: ticket &lt;OPS-12&gt; &amp; "
                           "&quot;vendor&apos;s&quot;\xEF\xBF\xBD agent)\"/>"));
  CHECK(xml.find('\x01') == std::string::npos);
  // A WARN row passes and says what re-opens it.
  CHECK_THAT(xml, Contains("<system-out>[WARN] 5.3.2 namespace reopened: default-deny ingress and "
                           "egress (default-deny-all), re-opened for every pod by allow-all"));
}

TEST_CASE("junit: with --deny-allow-all a WARN row is a failure", "[report_formats]") {
  auto report = mixed_report();
  report.deny_allow_all = true;
  const std::string xml = render_junit(report);
  CHECK_THAT(xml, Contains("tests=\"6\" failures=\"3\" errors=\"0\" skipped=\"2\""));
  CHECK_THAT(xml, Contains("<failure message=\"[WARN] 5.3.2 namespace reopened:"));
  CHECK(count(xml, "<system-out>") == 0);
}

TEST_CASE("junit: an empty report is an empty passing suite", "[report_formats]") {
  const std::string xml = render_junit(compliance_report{});
  CHECK_THAT(xml, Contains("<testsuite name=\"cis-5.3.2\" tests=\"0\" failures=\"0\" errors=\"0\" "
                           "skipped=\"0\" time=\"0\">"));
}

TEST_CASE("sarif: one rule, one error result per failing row at its file and line",
          "[report_formats]") {
  const auto report = mixed_report();
  const json doc = json::parse(render_sarif(report, "/repo"));
  CHECK(doc.at("version") == "2.1.0");
  CHECK(doc.at("$schema") == "https://json.schemastore.org/sarif-2.1.0.json");
  REQUIRE(doc.at("runs").size() == 1);
  const json& run = doc.at("runs")[0];
  const json& driver = run.at("tool").at("driver");
  CHECK(driver.at("name") == "netpol-guard");
  CHECK(driver.at("version") == version_string);
  REQUIRE(driver.at("rules").size() == 1);
  const json& rule = driver.at("rules")[0];
  CHECK(rule.at("id") == "CIS-5.3.2");
  CHECK(rule.at("helpUri") == "https://www.cisecurity.org/benchmark/kubernetes");
  CHECK(rule.at("defaultConfiguration").at("level") == "error");
  CHECK_THAT(rule.at("help").at("text").get<std::string>(), Contains("default-deny-all"));
  CHECK(rule.at("properties").at("security-severity") == "7.5");

  const json& results = run.at("results");
  REQUIRE(results.size() == 2);  // lapsed (EXPIRED) and legacy (FAIL); not WARN, not exempt
  const json& lapsed = results[0];
  CHECK(lapsed.at("ruleId") == "CIS-5.3.2");
  CHECK(lapsed.at("ruleIndex") == 0);
  CHECK(lapsed.at("level") == "error");
  CHECK(lapsed.at("message").at("text") == finding_text(report.namespaces[2]));
  const json& loc = lapsed.at("locations")[0].at("physicalLocation");
  CHECK(loc.at("artifactLocation").at("uri") == "cluster.yaml");
  CHECK(loc.at("artifactLocation").at("uriBaseId") == "%SRCROOT%");
  CHECK(loc.at("region").at("startLine") == 12);
  CHECK(lapsed.at("partialFingerprints").at("netpolGuardNamespace/v1") == "lapsed");
  // A space in a path is percent-encoded.
  const json& legacy = results[1].at("locations")[0].at("physicalLocation");
  CHECK(legacy.at("artifactLocation").at("uri") == "apps/legacy%20ns.yaml");
  CHECK(legacy.at("region").at("startLine") == 7);
}

TEST_CASE("sarif: with --deny-allow-all the WARN row is a result", "[report_formats]") {
  auto report = mixed_report();
  report.deny_allow_all = true;
  const json doc = json::parse(render_sarif(report, "/repo"));
  const json& results = doc.at("runs")[0].at("results");
  REQUIRE(results.size() == 3);
  CHECK(results[2].at("properties").at("namespace") == "reopened");
  CHECK(results[2].at("locations")[0].at("physicalLocation").at("region").at("startLine") == 50);
}

TEST_CASE("sarif: an unknown line is line 1, invalid UTF-8 in a finding is replaced",
          "[report_formats]") {
  compliance_report report;
  auto r = row("broken", report_status::expired);
  r.exemption = report_exemption{full, "bad \xC3 byte", "2020-01-01T00:00:00Z", true};
  r.source_file = "m.yaml";
  report.namespaces = {r};
  const json doc = json::parse(render_sarif(report, "/repo"));
  const json& result = doc.at("runs")[0].at("results")[0];
  CHECK(result.at("locations")[0].at("physicalLocation").at("region").at("startLine") == 1);
  CHECK_THAT(result.at("message").at("text").get<std::string>(), Contains("bad \xEF\xBF\xBD byte"));
}

TEST_CASE("artifact URIs: relative under the base directory, file: URIs outside it",
          "[report_formats]") {
  auto under = to_artifact_uri("/repo/k8s/a b#c.yaml", "/repo");
  CHECK(under.uri == "k8s/a%20b%23c.yaml");
  CHECK(under.relative);
  auto given_relative = to_artifact_uri("./k8s/../k8s/ns.yaml", "/repo");
  CHECK(given_relative.uri == "k8s/ns.yaml");
  CHECK(given_relative.relative);
  auto outside = to_artifact_uri("/etc/other/ns.yaml", "/repo");
  CHECK(outside.uri == "file:///etc/other/ns.yaml");
  CHECK_FALSE(outside.relative);
  auto parent = to_artifact_uri("../up.yaml", "/repo/sub");
  CHECK(parent.uri == "file:///repo/up.yaml");
  CHECK_FALSE(parent.relative);
}
