// The report's rollout fields and states: mode, exemption, negatedBy, and the
// statuses WARN, EXEMPT (by exemption) and EXPIRED.
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "manifest_report_fixtures.hpp"
#include "netpol_guard/netpol/object.hpp"
#include "netpol_guard/netpol/report.hpp"

using namespace netpol_guard;
using namespace std::chrono;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;

namespace {

using name_set = std::set<std::string, std::less<>>;
const name_set default_exempt{"kube-system"};
const sys_seconds fixture_now = sys_days{year{2026} / January / 1};

using report_fixtures::load;
using report_fixtures::loaded;

loaded load_rollout() { return load("rollout/cluster.yaml"); }

compliance_report report_of(const loaded& in, bool audit_only = false, bool deny_allow_all = false,
                            sys_seconds now = fixture_now) {
  return report_manifests(in.objects, in.index,
                          evaluation_context{default_exempt, audit_only, deny_allow_all, now},
                          true);
}

const json& row(const json& doc, const std::string& ns) {
  for (const auto& r : doc.at("namespaces")) {
    if (r.at("namespace") == ns) return r;
  }
  FAIL("no row for namespace " << ns);
  throw std::logic_error("unreachable");
}

std::string line_of(const std::string& text, const std::string& ns) {
  const std::string key = " namespace " + ns + ":";
  auto at = text.find(key);
  REQUIRE(at != std::string::npos);
  auto start = text.rfind('\n', at);
  start = start == std::string::npos ? 0 : start + 1;
  return text.substr(start, text.find('\n', at) - start);
}

}  // namespace

TEST_CASE("JSON report: mode, exemption, negatedBy and the rollout statuses", "[report]") {
  auto in = load_rollout();
  auto doc = json::parse(render_json(report_of(in)));

  const json& enforced = row(doc, "enforced");
  CHECK(enforced.at("status") == "PASS");
  CHECK(enforced.at("mode") == "enforce");
  CHECK(enforced.at("negatedBy") == json::array());
  CHECK_FALSE(enforced.contains("exemption"));

  const json& warned = row(doc, "warned");
  CHECK(warned.at("status") == "FAIL");
  CHECK(warned.at("mode") == "warn");
  // The webhook only warns there, so check lists nothing it would reject.
  CHECK(warned.at("wouldReject") == json::array());

  const json& exempted = row(doc, "exempted");
  CHECK(exempted.at("status") == "EXEMPT");
  CHECK(exempted.at("exempt") == false);
  CHECK(exempted.at("compliant") == false);
  CHECK(exempted.at("missing") == json{"ingress", "egress"});
  CHECK(exempted.at("exemption") == json{{"directions", {"ingress", "egress"}},
                                         {"reason", "legacy batch jobs, ticket OPS-12"},
                                         {"until", "2026-03-01T00:00:00Z"},
                                         {"expired", false}});
  CHECK(exempted.at("wouldReject") == json::array());

  const json& lapsed = row(doc, "lapsed");
  CHECK(lapsed.at("status") == "EXPIRED");
  CHECK(lapsed.at("missing") == json{"egress"});
  CHECK(lapsed.at("exemption").at("directions") == json{"egress"});
  CHECK(lapsed.at("exemption").at("until") == "2025-12-31T23:59:59+00:00");
  CHECK(lapsed.at("exemption").at("expired") == true);
  CHECK(lapsed.at("wouldReject").size() == 1);

  const json& reopened = row(doc, "reopened");
  CHECK(reopened.at("status") == "WARN");
  CHECK(reopened.at("compliant") == true);
  CHECK(reopened.at("negatedBy") == json{"allow-all"});
  CHECK(reopened.at("baselinePolicies") == json{"default-deny-all"});

  const json& typo = row(doc, "typo");
  CHECK(typo.at("status") == "FAIL");
  CHECK(typo.at("mode") == "enforce");
  CHECK_THAT(typo.at("settingsInvalid").get<std::string>(), Contains("is \"Warn\""));
  CHECK_FALSE(enforced.contains("settingsInvalid"));

  const json& s = doc.at("summary");
  CHECK(s.at("pass") == 1);
  CHECK(s.at("fail") == 2);
  CHECK(s.at("exempt") == 1);
  CHECK(s.at("warn") == 1);
  CHECK(s.at("expired") == 1);
  CHECK(s.at("compliant") == false);
}

TEST_CASE("the report follows the global mode and the clock", "[report]") {
  auto in = load_rollout();
  SECTION("--audit-only: unlabelled namespaces warn, labelled ones keep their mode") {
    auto doc = json::parse(render_json(report_of(in, true)));
    CHECK(row(doc, "reopened").at("mode") == "warn");
    CHECK(row(doc, "typo").at("mode") == "warn");
    CHECK(row(doc, "enforced").at("mode") == "enforce");
    CHECK(row(doc, "lapsed").at("wouldReject") == json::array());
  }
  SECTION("at the expiry, the exemption has expired") {
    auto doc =
        json::parse(render_json(report_of(in, false, false, sys_days{year{2026} / March / 1})));
    CHECK(row(doc, "exempted").at("status") == "EXPIRED");
    CHECK(row(doc, "exempted").at("exemption").at("expired") == true);
    CHECK(row(doc, "exempted").at("wouldReject").size() == 1);
  }
  SECTION("before the lapsed one's expiry, it still covers egress") {
    auto doc = json::parse(render_json(report_of(in, false, false, fixture_now - 2s)));
    CHECK(row(doc, "lapsed").at("status") == "EXEMPT");
    CHECK(row(doc, "lapsed").at("wouldReject") == json::array());
  }
}

TEST_CASE("passed(): FAIL and EXPIRED fail; WARN only with --deny-allow-all", "[report]") {
  namespace_index index;
  index.upsert_policy("a", "default-deny-all", {true, true});
  index.upsert_policy(policy_record{"a", "allow-all", {}, "", {{true, false}, "spec.ingress[0]"}});

  auto warned = build_report(index.entries(), {}, evaluation_context{default_exempt});
  REQUIRE(warned.namespaces.size() == 1);
  CHECK(warned.namespaces[0].status == report_status::warn);
  CHECK(warned.namespaces[0].negated_by == std::vector<std::string>{"allow-all"});
  CHECK(warned.passed());
  auto warned_text = render_text(warned);
  CHECK_THAT(line_of(warned_text, "a"),
             StartsWith("[WARN]") && Contains("re-opened for every pod by allow-all"));
  CHECK_THAT(warned_text, Contains("1 checks WARN"));

  auto denied = build_report(index.entries(), {}, evaluation_context{default_exempt, false, true});
  CHECK(denied.deny_allow_all);
  CHECK(denied.namespaces[0].status == report_status::fail);
  CHECK_FALSE(denied.passed());
  CHECK_THAT(line_of(render_text(denied), "a"),
             StartsWith("[FAIL]") && Contains("re-opened for every pod by allow-all"));
  CHECK(json::parse(render_json(denied)).at("summary").at("fail") == 1);

  SECTION("a WARN row fails once --deny-allow-all is set on the report") {
    warned.deny_allow_all = true;
    CHECK_FALSE(warned.passed());
  }
  SECTION("EXPIRED fails; EXEMPT by exemption passes") {
    namespace_index ex;
    ex.upsert_namespace(namespace_record{
        "b", false, settings_from_keys({std::nullopt, "all", "why", "2026-01-01T00:00:00Z"})});
    auto before = build_report(ex.entries(), {},
                               evaluation_context{default_exempt, false, false, fixture_now - 1s});
    CHECK(before.namespaces[0].status == report_status::exempt);
    CHECK(before.passed());
    auto after = build_report(ex.entries(), {},
                              evaluation_context{default_exempt, false, false, fixture_now});
    CHECK(after.namespaces[0].status == report_status::expired);
    CHECK_FALSE(after.passed());
  }
}

TEST_CASE("text report: the EXEMPT, EXPIRED and WARN lines carry reason and until", "[report]") {
  auto in = load_rollout();
  const std::string text = render_text(report_of(in));
  CHECK_THAT(line_of(text, "exempted"), StartsWith("[EXEMPT]") &&
                                            Contains("until 2026-03-01T00:00:00Z") &&
                                            Contains("legacy batch jobs, ticket OPS-12"));
  CHECK_THAT(line_of(text, "lapsed"), StartsWith("[EXPIRED]") &&
                                          Contains("no default-deny egress") &&
                                          Contains("expired at 2025-12-31T23:59:59+00:00") &&
                                          Contains("vendor agent") && Contains("Pod/agent"));
  CHECK_THAT(line_of(text, "reopened"), StartsWith("[WARN]") && Contains("allow-all"));
  CHECK_THAT(line_of(text, "warned"),
             StartsWith("[FAIL]") && Contains("mode warn") && !Contains("would reject"));
  CHECK_THAT(line_of(text, "typo"), StartsWith("[FAIL]") && Contains("is \"Warn\""));
  CHECK_THAT(line_of(text, "enforced"), StartsWith("[PASS]"));
  CHECK_THAT(text, Contains("1 checks PASS") && Contains("2 checks FAIL") &&
                       Contains("1 namespaces exempt") && Contains("1 checks WARN") &&
                       Contains("1 checks EXPIRED"));
}
