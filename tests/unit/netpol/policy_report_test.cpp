#include "netpol_guard/netpol/policy_report.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

using namespace netpol_guard;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::set<std::string, std::less<>> exempt{"kube-system"};
const std::chrono::sys_seconds now{std::chrono::seconds(1'800'000'000)};

evaluation_context ctx() {
  return evaluation_context{
      .exempt_namespaces = exempt, .audit_only = false, .deny_allow_all = false, .now = now};
}

namespace_entry entry(std::vector<baseline_policy> baselines) {
  namespace_entry e;
  e.known_namespace = true;
  e.baselines = std::move(baselines);
  return e;
}

exemption exempt_ingress(std::chrono::sys_seconds until, std::string until_text) {
  return exemption{.directions = {true, false},
                   .reason = "migration ticket 42",
                   .until_text = std::move(until_text),
                   .until = until};
}

}  // namespace

TEST_CASE("a compliant namespace passes both rules", "[policy_report]") {
  auto e = entry({{"b-deny", {true, true}, ""}, {"a-ingress", {true, false}, ""}});
  auto r = build_policy_report("team-a", &e, ctx(), 7);
  REQUIRE(r.results.size() == 2);
  CHECK(r.results[0].rule == "default-deny-ingress");
  CHECK(r.results[1].rule == "default-deny-egress");
  CHECK(r.results[0].result == report_result::pass);
  CHECK(r.results[1].result == report_result::pass);
  CHECK(r.results[0].properties ==
        std::map<std::string, std::string>{{"baselinePolicies", "a-ingress,b-deny"},
                                           {"unprotectedPods", "0"}});
  CHECK(r.results[1].properties.at("baselinePolicies") == "b-deny");
  CHECK(r.results[0].message ==
        "CIS 5.3.2: namespace \"team-a\" denies all ingress by default (NetworkPolicy "
        "\"a-ingress\", \"b-deny\").");
  CHECK(r.summary() == report_summary{.pass = 2, .fail = 0, .warn = 0, .error = 0, .skip = 0});
  CHECK_FALSE(r.counts_pods());
}

TEST_CASE("a missing direction fails with the webhook's message and the fix", "[policy_report]") {
  auto e = entry({{"ing", {true, false}, ""}});
  auto r = build_policy_report("team-a", &e, ctx(), 3);
  CHECK(r.results[0].result == report_result::pass);
  CHECK(r.results[1].result == report_result::fail);
  auto c = evaluate_namespace("team-a", &e, ctx());
  CHECK(r.results[1].message == violation_message(c, "team-a", "a Pod"));
  CHECK(r.results[1].message.find("no default-deny egress NetworkPolicy") != std::string::npos);
  CHECK(r.results[1].message.find("Fix: apply default-deny-all") != std::string::npos);
  // No baseline covers egress: the property is left out, the pods are counted.
  CHECK(r.results[1].properties == std::map<std::string, std::string>{{"unprotectedPods", "3"}});
  CHECK(r.summary() == report_summary{.pass = 1, .fail = 1, .warn = 0, .error = 0, .skip = 0});
  CHECK(r.counts_pods());
}

TEST_CASE("an empty namespace fails both rules", "[policy_report]") {
  auto e = entry({});
  auto r = build_policy_report("empty", &e, ctx(), 0);
  CHECK(r.results[0].result == report_result::fail);
  CHECK(r.results[1].result == report_result::fail);
  CHECK(r.results[0].message.find("no default-deny ingress and egress NetworkPolicy") !=
        std::string::npos);
  CHECK(r.summary().fail == 2);
}

TEST_CASE("an allow-all policy that re-opens a direction warns, or fails with --deny-allow-all",
          "[policy_report]") {
  auto e = entry({{"deny", {true, true}, ""}});
  e.negating.push_back({"open-up", {true, false}, "spec.ingress[0]"});
  // As the webhook treats it: a warning unless --deny-allow-all.
  auto warned = build_policy_report("team-a", &e, ctx(), 5);
  CHECK(warned.results[0].result == report_result::warn);
  CHECK(warned.summary().warn == 1);
  CHECK(warned.summary().fail == 0);
  auto denying = ctx();
  denying.deny_allow_all = true;
  auto r = build_policy_report("team-a", &e, denying, 5);
  CHECK(r.results[0].result == report_result::fail);
  CHECK(r.summary().fail == 1);
  CHECK(r.results[0].message ==
        allow_all_message("open-up", allow_all{{true, false}, "spec.ingress[0]"}, "team-a"));
  CHECK(r.results[0].properties.at("allowAllPolicies") == "open-up");
  CHECK(r.results[0].properties.at("unprotectedPods") == "5");
  CHECK(r.results[1].result == report_result::pass);
}

TEST_CASE("an active exemption skips the missing direction, an expired one fails",
          "[policy_report]") {
  auto e = entry({{"eg", {false, true}, ""}});
  SECTION("active") {
    e.settings.exempt = exempt_ingress(now + 1h, "2027-01-15T08:00:00Z");
    auto r = build_policy_report("legacy", &e, ctx(), 4);
    CHECK(r.results[0].result == report_result::skip);
    CHECK(r.results[0].message ==
          "CIS 5.3.2: namespace \"legacy\" has no default-deny ingress NetworkPolicy but is "
          "exempt until 2027-01-15T08:00:00Z: migration ticket 42.");
    CHECK(r.results[0].properties ==
          std::map<std::string, std::string>{{"exemptReason", "migration ticket 42"},
                                             {"exemptUntil", "2027-01-15T08:00:00Z"},
                                             {"unprotectedPods", "4"}});
    CHECK(r.results[1].result == report_result::pass);
    CHECK(r.summary() == report_summary{.pass = 1, .fail = 0, .warn = 0, .error = 0, .skip = 1});
  }
  SECTION("expired") {
    e.settings.exempt = exempt_ingress(now - 1h, "2027-01-15T06:00:00Z");
    auto r = build_policy_report("legacy", &e, ctx(), 4);
    CHECK(r.results[0].result == report_result::fail);
    CHECK(r.results[0].message.find("its exemption expired at 2027-01-15T06:00:00Z") !=
          std::string::npos);
    CHECK_FALSE(r.results[0].properties.contains("exemptReason"));
  }
}

TEST_CASE("a namespace in --exempt-namespaces is skipped", "[policy_report]") {
  auto e = entry({});
  auto r = build_policy_report("kube-system", &e, ctx(), 9);
  CHECK(r.results[0].result == report_result::skip);
  CHECK(r.results[1].result == report_result::skip);
  CHECK(r.results[1].message ==
        "CIS 5.3.2: namespace \"kube-system\" is in --exempt-namespaces; netpol-guard does not "
        "check its egress.");
  CHECK(r.summary() == report_summary{.pass = 0, .fail = 0, .warn = 0, .error = 0, .skip = 2});
}

TEST_CASE("the report object has the standard's fields, for both APIs", "[policy_report]") {
  auto e = entry({{"ing", {true, false}, ""}});
  auto content = build_policy_report("team-a", &e, ctx(), 2);
  auto type = GENERATE(openreports_report, wgpolicy_report);
  json o = report_object(content, type, now);
  CHECK(o["apiVersion"] == std::string(type.api_version));
  CHECK(o["kind"] == std::string(type.kind));
  CHECK(o["metadata"] == json{{"name", "netpol-guard"},
                              {"namespace", "team-a"},
                              {"labels",
                               {{"app.kubernetes.io/managed-by", "netpol-guard"},
                                {"app.kubernetes.io/part-of", "k8s-security-pro"}}}});
  // wgpolicyk8s.io's PolicyReport has no report-level source (server-side apply
  // refuses a field its schema does not declare); its results carry it.
  if (type.api_version.starts_with("openreports.io/")) {
    CHECK(o["source"] == "netpol-guard");
  } else {
    CHECK_FALSE(o.contains("source"));
  }
  CHECK(o["scope"] == json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"name", "team-a"}});
  CHECK(o["summary"] == json{{"pass", 1}, {"fail", 1}, {"warn", 0}, {"error", 0}, {"skip", 0}});
  REQUIRE(o["results"].size() == 2);
  const auto& egress = o["results"][1];
  CHECK(egress["source"] == "netpol-guard");
  CHECK(egress["policy"] == "cis-5.3.2");
  CHECK(egress["rule"] == "default-deny-egress");
  CHECK(egress["category"] == "Network Security");
  CHECK(egress["severity"] == "high");
  CHECK(egress["result"] == "fail");
  CHECK(egress["scored"] == true);
  CHECK(egress["timestamp"] == json{{"seconds", 1'800'000'000}, {"nanos", 0}});
  CHECK(egress["properties"] == json{{"unprotectedPods", "2"}});
  CHECK(egress["message"] == content.results[1].message);
}

TEST_CASE("a stored report reads back into its content, timestamps and server fields aside",
          "[policy_report]") {
  auto e = entry({{"ing", {true, false}, ""}});
  auto content = build_policy_report("team-a", &e, ctx(), 2);
  json stored = report_object(content, openreports_report, now);
  stored["metadata"]["resourceVersion"] = "12345";
  stored["metadata"]["managedFields"] = json::array({{{"manager", "netpol-guard"}}});
  stored["metadata"]["creationTimestamp"] = "2027-01-01T00:00:00Z";
  stored["results"][0]["timestamp"]["seconds"] = 1;
  auto back = read_policy_report(stored);
  REQUIRE(back);
  CHECK(*back == content);
  CHECK(content_digest(*back) == content_digest(content));

  SECTION("a changed result is a different content") {
    auto other = build_policy_report("team-a", &e, ctx(), 3);
    CHECK_FALSE(other == content);
    CHECK(content_digest(other) != content_digest(content));
  }
  SECTION("a wrong summary is rewritten") {
    stored["summary"]["fail"] = 0;
    CHECK_FALSE(read_policy_report(stored));
  }
  SECTION("another source's report is not ours") {
    stored["source"] = "kyverno";
    CHECK_FALSE(read_policy_report(stored));
  }
  SECTION("a report without our label is rewritten") {
    stored["metadata"]["labels"].erase("app.kubernetes.io/managed-by");
    CHECK_FALSE(read_policy_report(stored));
  }
  SECTION("a PolicyReport, without the report-level source, reads back") {
    json policy_report = report_object(content, wgpolicy_report, now);
    auto pr = read_policy_report(policy_report);
    REQUIRE(pr);
    CHECK(*pr == content);
  }
  SECTION("an unknown result is rewritten") {
    stored["results"][1]["result"] = "error";
    CHECK_FALSE(read_policy_report(stored));
  }
  SECTION("not an object at all") { CHECK_FALSE(read_policy_report(json("text"))); }
}
