#include "netpol_guard/netpol/report.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "manifest_report_fixtures.hpp"
#include "netpol_guard/admission/decision.hpp"
#include "netpol_guard/netpol/object.hpp"
#include "netpol_guard/netpol/rules.hpp"

using namespace netpol_guard;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

using name_set = std::set<std::string, std::less<>>;
using strings = std::vector<std::string>;

const name_set default_exempt{"kube-system", "kube-public", "kube-node-lease"};
// Every report and decision here is judged at this time.
constexpr std::chrono::sys_seconds fixture_now{std::chrono::seconds{1'750'000'000}};

evaluation_context at_fixture_now(const name_set& exempt) {
  return evaluation_context{exempt, false, false, fixture_now};
}

using report_fixtures::load;
using report_fixtures::loaded;

loaded parse(const std::string& text) {
  auto objs = parse_manifests(text, "inline.yaml");
  INFO((objs ? "" : objs.error().what()));
  REQUIRE(objs.has_value());
  auto index = index_manifests(*objs);
  INFO((index ? "" : index.error().what()));
  REQUIRE(index.has_value());
  return {std::move(*objs), std::move(*index)};
}

const json& row(const json& doc, const std::string& ns) {
  for (const auto& r : doc.at("namespaces")) {
    if (r.at("namespace") == ns) return r;
  }
  FAIL("no row for namespace " << ns);
  throw std::logic_error("unreachable");
}

strings would_reject(const json& r) {
  strings out;
  for (const auto& w : r.at("wouldReject")) {
    out.push_back(w.at("kind").get<std::string>() + "/" + w.at("name").get<std::string>());
  }
  return out;
}

strings row_names(const json& doc) {
  strings out;
  for (const auto& r : doc.at("namespaces")) out.push_back(r.at("namespace").get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("JSON report: the contract fields per namespace", "[report]") {
  auto in = load("report/cluster.yaml");
  auto report = report_manifests(in.objects, in.index, at_fixture_now(default_exempt), true);
  auto doc = json::parse(render_json(report));

  // Every namespace that appears, sorted; the ClusterRole adds none.
  CHECK(row_names(doc) == strings{"kube-system", "team-a", "team-b", "team-c", "team-e"});

  const json& a = row(doc, "team-a");
  CHECK(a.at("denyAllIngress") == true);
  CHECK(a.at("denyAllEgress") == true);
  CHECK(a.at("compliant") == true);
  CHECK(a.at("baselinePolicies") == json{"default-deny-all"});
  CHECK(a.at("exempt") == false);
  CHECK(would_reject(a).empty());

  const json& b = row(doc, "team-b");
  CHECK(b.at("denyAllIngress") == true);
  CHECK(b.at("denyAllEgress") == false);
  CHECK(b.at("compliant") == false);
  CHECK(b.at("baselinePolicies") == json{"deny-ingress"});
  CHECK(b.at("policyCount") == 2);
  CHECK(b.at("missing") == json{"egress"});
  CHECK(would_reject(b) == strings{"Pod/api", "StatefulSet/db"});

  const json& c = row(doc, "team-c");
  CHECK(c.at("compliant") == true);
  CHECK(c.at("baselinePolicies") == json{"deny-in", "deny-out"});

  const json& e = row(doc, "team-e");
  CHECK(e.at("denyAllIngress") == false);
  CHECK(e.at("denyAllEgress") == false);
  CHECK(e.at("compliant") == false);
  CHECK(e.at("baselinePolicies") == json::array());
  CHECK(would_reject(e) ==
        strings{"CronJob/nightly", "Job/once", "DaemonSet/agent", "ReplicaSet/rs"});

  const json& k = row(doc, "kube-system");
  CHECK(k.at("exempt") == true);
  CHECK(k.at("compliant") == false);
  CHECK(would_reject(k).empty());

  CHECK_FALSE(report.passed());
  CHECK(doc.at("summary").at("compliant") == false);
  CHECK(doc.at("summary").at("fail") == 2);
  CHECK(doc.at("summary").at("pass") == 2);
  CHECK(doc.at("summary").at("exempt") == 1);
}

TEST_CASE("workloads are listed only with check_workloads", "[report]") {
  auto in = load("report/cluster.yaml");
  auto report = report_manifests(in.objects, in.index, at_fixture_now(default_exempt), false);
  auto doc = json::parse(render_json(report));
  CHECK(would_reject(row(doc, "team-b")) == strings{"Pod/api"});
  CHECK(would_reject(row(doc, "team-e")).empty());
}

TEST_CASE("passed() ignores exempt namespaces only", "[report]") {
  auto in = parse(R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-all, namespace: team-a}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: v1
kind: Pod
metadata: {name: coredns, namespace: kube-system}
)");
  SECTION("an exempt namespace without a baseline does not fail the check") {
    auto report = report_manifests(in.objects, in.index, at_fixture_now(default_exempt), true);
    CHECK(report.passed());
    auto doc = json::parse(render_json(report));
    CHECK(doc.at("summary").at("compliant") == true);
    CHECK(row(doc, "kube-system").at("status") == "EXEMPT");
    CHECK(row(doc, "team-a").at("status") == "PASS");
  }
  SECTION("without the exemption it does") {
    auto report = report_manifests(in.objects, in.index, at_fixture_now(name_set{}), true);
    CHECK_FALSE(report.passed());
    auto doc = json::parse(render_json(report));
    CHECK(row(doc, "kube-system").at("status") == "FAIL");
    CHECK(would_reject(row(doc, "kube-system")) == strings{"Pod/coredns"});
  }
  SECTION("an exempt set of custom names") {
    auto report = report_manifests(in.objects, in.index, at_fixture_now(name_set{"team-a"}), true);
    CHECK_FALSE(report.passed());
    auto doc = json::parse(render_json(report));
    CHECK(row(doc, "team-a").at("exempt") == true);
    CHECK(row(doc, "kube-system").at("exempt") == false);
  }
}

TEST_CASE("a Namespace object alone makes a failing row", "[report]") {
  auto in = parse("apiVersion: v1\nkind: Namespace\nmetadata: {name: lonely}\n");
  auto report = report_manifests(in.objects, in.index, at_fixture_now(default_exempt), true);
  REQUIRE(report.namespaces.size() == 1);
  CHECK(report.namespaces[0].name == "lonely");
  CHECK_FALSE(report.namespaces[0].compliant());
  CHECK_FALSE(report.passed());
  auto doc = json::parse(render_json(report));
  CHECK(row(doc, "lonely").at("missing") == json{"ingress", "egress"});
}

TEST_CASE("an empty report passes", "[report]") {
  compliance_report empty;
  CHECK(empty.passed());
  auto doc = json::parse(render_json(empty));
  CHECK(doc.at("namespaces") == json::array());
}

TEST_CASE("build_report: rows from entries plus extra namespaces", "[report]") {
  namespace_index index;
  index.upsert_policy("b", "deny-egress", {false, true});
  index.upsert_namespace("a", false);
  auto report = build_report(index.entries(), name_set{"c", "b"}, at_fixture_now(name_set{"c"}));
  REQUIRE(report.namespaces.size() == 3);
  CHECK(report.namespaces[0].name == "a");
  CHECK(report.namespaces[1].name == "b");
  CHECK(report.namespaces[1].coverage == deny_all_coverage{false, true});
  CHECK(report.namespaces[1].baseline_policies == strings{"deny-egress"});
  CHECK(report.namespaces[1].policy_count == 1);
  CHECK(report.namespaces[2].name == "c");
  CHECK(report.namespaces[2].exempt);
  CHECK_FALSE(report.passed());
}

TEST_CASE("text report: one PASS or FAIL line per namespace", "[report]") {
  auto in = load("report/cluster.yaml");
  auto report = report_manifests(in.objects, in.index, at_fixture_now(default_exempt), true);
  const std::string text = render_text(report);

  auto line_of = [&](const std::string& ns) {
    const std::string key = " namespace " + ns + ":";
    auto at = text.find(key);
    REQUIRE(at != std::string::npos);
    auto start = text.rfind('\n', at);
    start = start == std::string::npos ? 0 : start + 1;
    return text.substr(start, text.find('\n', at) - start);
  };
  CHECK_THAT(line_of("team-a"),
             Catch::Matchers::StartsWith("[PASS]") && Contains("default-deny-all"));
  CHECK_THAT(line_of("team-c"), Catch::Matchers::StartsWith("[PASS]"));
  CHECK_THAT(line_of("team-b"), Catch::Matchers::StartsWith("[FAIL]") && Contains("egress") &&
                                    Contains("Pod/api") && Contains("default-deny-all"));
  CHECK_THAT(line_of("team-e"),
             Catch::Matchers::StartsWith("[FAIL]") && Contains("ingress and egress"));
  CHECK_THAT(line_of("kube-system"), !Catch::Matchers::StartsWith("[FAIL]") &&
                                         !Catch::Matchers::StartsWith("[PASS]") &&
                                         Contains("exempt"));
  CHECK_THAT(text, Contains("2 checks PASS") && Contains("2 checks FAIL"));
}

TEST_CASE("built-in cluster-scoped kinds do not make namespace default appear", "[report]") {
  // Only namespaced objects belong to a namespace; kubectl does not put a
  // RuntimeClass or a ValidatingAdmissionPolicy in "default".
  const std::pair<const char*, const char*> kinds[] = {
      {"ClusterRole", "rbac.authorization.k8s.io/v1"},
      {"StorageClass", "storage.k8s.io/v1"},
      {"PriorityClass", "scheduling.k8s.io/v1"},
      {"RuntimeClass", "node.k8s.io/v1"},
      {"CSIDriver", "storage.k8s.io/v1"},
      {"ValidatingAdmissionPolicy", "admissionregistration.k8s.io/v1"},
      {"ValidatingAdmissionPolicyBinding", "admissionregistration.k8s.io/v1"},
      {"ClusterRoleBinding", "rbac.authorization.k8s.io/v1"}};
  for (const auto& [kind, version] : kinds) {
    SECTION(kind) {
      auto in = parse(std::string("apiVersion: ") + version + "\nkind: " + kind +
                      "\nmetadata: {name: cluster-wide}\n");
      auto report = report_manifests(in.objects, in.index, at_fixture_now(default_exempt), true);
      CHECK(report.namespaces.empty());
      CHECK(report.passed());
    }
  }
}

TEST_CASE("a decoy default-deny-all is reported in text and JSON", "[report]") {
  namespace_index index;
  index.upsert_policy("decoy", "default-deny-all", {true, false});
  index.upsert_policy("fine", "default-deny-all", {true, true});
  auto report = build_report(index.entries(), name_set{}, at_fixture_now(name_set{}));
  const std::string text = render_text(report);
  CHECK_THAT(text, Contains("namespace decoy: no default-deny egress") &&
                       Contains("the NetworkPolicy named default-deny-all is not a deny-all"));
  auto doc = json::parse(render_json(report));
  CHECK(row(doc, "decoy").at("templateNameTaken") == true);
  CHECK_FALSE(row(doc, "fine").contains("templateNameTaken"));
}

// `check` promises to list exactly what the webhook would refuse: every Pod and
// workload in the manifests goes through the decision, and is refused there
// when, and only when, the report lists it.
TEST_CASE("check's would-reject lists are the webhook decision's denials", "[report]") {
  auto in = load("report/cluster.yaml");
  const auto report = report_manifests(in.objects, in.index, at_fixture_now(default_exempt), true);
  const auto snapshot = in.index.freeze("manifests");
  decision_config config;
  config.exempt_namespaces = default_exempt;

  std::size_t decided = 0, denied = 0;
  for (const auto& m : in.objects) {
    const std::string kind = m.object.at("kind").get<std::string>();
    admission_request r;
    if (kind == "Pod") {
      r.resource = "pods";
    } else if (auto w = std::find_if(rules::workload_kinds.begin(), rules::workload_kinds.end(),
                                     [&](const auto& k) { return k.kind == kind; });
               w != rules::workload_kinds.end()) {
      r.resource_group = std::string(w->group);
      r.resource = std::string(w->resource);
    } else {
      continue;
    }
    r.uid = "u";
    r.operation = "CREATE";
    r.namespace_name = object_namespace(m.object);
    r.object.present = true;
    r.object.name = object_name(m.object);

    const auto d = decide(r, *snapshot, config, fixture_now);
    bool listed = false;
    for (const auto& row : report.namespaces) {
      if (row.name != r.namespace_name) continue;
      for (const auto& [k, name] : row.would_reject) {
        listed = listed || (k == kind && name == r.object.name);
      }
    }
    INFO(kind << " " << r.namespace_name << "/" << r.object.name);
    CHECK((d.outcome == verdict::denied) == listed);
    ++decided;
    denied += d.outcome == verdict::denied ? 1 : 0;
  }
  // The fixture has both outcomes, so the comparison above means something.
  CHECK(decided > denied);
  CHECK(denied >= 6);
}

// The webhook's rules match apps/v1 Deployments, never a custom resource that
// happens to be called Deployment; `check` must list the one it would refuse only.
// (The loader refuses such kinds in the groups it knows; an object that reached
// the report some other way must still be judged by group and kind.)
TEST_CASE("would-reject counts pod creators by group and kind, as the webhook does", "[report]") {
  auto in = parse(R"(apiVersion: v1
kind: Namespace
metadata: {name: team-c}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: team-c}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: team-c}
)");
  in.objects.push_back({"inline.yaml#4",
                        json::parse(R"({"apiVersion":"example.com/v1","kind":"Deployment",
                       "metadata":{"name":"custom","namespace":"team-c"}})"),
                        0});
  in.objects.push_back({"inline.yaml#5", json::parse(R"({"apiVersion":"example.com/v1","kind":"Pod",
                       "metadata":{"name":"not-a-pod","namespace":"team-c"}})"),
                        0});
  auto report = report_manifests(in.objects, in.index, at_fixture_now(default_exempt), true);
  auto doc = json::parse(render_json(report));
  CHECK(would_reject(row(doc, "team-c")) == strings{"Deployment/web", "Pod/api"});
}
