#include "netpol_guard/admission/decision.hpp"

#include <tuple>

#include "decision_fixtures.hpp"
#include "netpol_guard/netpol/manifest_loader.hpp"
#include "netpol_guard/netpol/object.hpp"

// Pods, workloads and Namespaces: the CREATEs the rule is about.

using namespace decision_fixtures;

// ---------------------------------------------------------------------------
// Pod CREATE
// ---------------------------------------------------------------------------

TEST_CASE("Pod CREATE is allowed with full coverage from one policy", "[decision]") {
  auto r = request_of(fixture("pod-create.json"));
  auto d = decide(r, snapshot_of({{"team-c", "default-deny-all", both}}), enforce(), fixture_now);
  check_allowed(d);
  CHECK(d.coverage == both);
  CHECK(d.subject.kind == "Pod");
  CHECK(d.subject.namespace_name == "team-c");
  CHECK(d.subject.name == "web");
  CHECK(wire(r, d).at("response").at("allowed") == true);
}

TEST_CASE("Pod CREATE is allowed with coverage from two policies", "[decision]") {
  auto r = request_of(fixture("pod-create.json"));
  auto state = snapshot_of({{"team-c", "deny-ingress", ingress_only},
                            {"team-c", "deny-egress", egress_only},
                            {"team-c", "allow-web", none}});
  auto d = decide(r, state, enforce(), fixture_now);
  check_allowed(d);
  CHECK(d.coverage == both);
}

TEST_CASE("Pod CREATE is denied without a baseline, with a one-line CIS message", "[decision]") {
  auto r = request_of(fixture("pod-create.json"));

  SECTION("no policy at all: both directions missing") {
    auto d = decide(r, namespace_snapshot{}, enforce(), fixture_now);
    check_pod_creator_denied(d, "team-c", "both");
    CHECK(d.coverage == none);
    CHECK(d.subject.kind == "Pod");
    CHECK(d.subject.name == "web");

    auto out = wire(r, d);
    CHECK(out.at("apiVersion") == "admission.k8s.io/v1");
    CHECK(out.at("kind") == "AdmissionReview");
    CHECK(out.at("response").at("uid") == r.uid);
    CHECK(out.at("response").at("allowed") == false);
    CHECK(out.at("response").at("status").at("code") == 403);
    CHECK(out.at("response").at("status").at("reason") == "Forbidden");
    CHECK(out.at("response").at("status").at("message") == d.response.message);
  }
  SECTION("only allow policies: both directions missing") {
    auto d = decide(r, snapshot_of({{"team-c", "allow-web", none}}), enforce(), fixture_now);
    check_pod_creator_denied(d, "team-c", "both");
  }
  SECTION("ingress covered, egress missing") {
    auto d = decide(r, snapshot_of({{"team-c", "deny-in", ingress_only}}), enforce(), fixture_now);
    check_pod_creator_denied(d, "team-c", "egress");
    CHECK(d.coverage == ingress_only);
  }
  SECTION("egress covered, ingress missing") {
    auto d = decide(r, snapshot_of({{"team-c", "deny-out", egress_only}}), enforce(), fixture_now);
    check_pod_creator_denied(d, "team-c", "ingress");
    CHECK(d.coverage == egress_only);
  }
  SECTION("a baseline in another namespace does not count") {
    auto d = decide(r, snapshot_of({{"team-a", "default-deny-all", both}}), enforce(), fixture_now);
    check_pod_creator_denied(d, "team-c", "both");
  }
}

TEST_CASE("Pod CREATE against policies read from manifests (reference §4)", "[decision]") {
  // Each spec, alone in the namespace, and the direction that stays missing.
  const std::tuple<const char*, const char*> cases[] = {
      {R"({"podSelector":{},"egress":[]})", "egress"},  // the defaulting trap
      {R"({"podSelector":{},"ingress":[],"egress":[]})", "egress"},
      {R"({"podSelector":{},"policyTypes":["Ingress","Egress"],"ingress":[{}]})", "ingress"},
      {R"({"podSelector":{},"policyTypes":["Ingress","Egress"],"egress":[{}]})", "egress"},
      {R"({"podSelector":{"matchLabels":{"app":"web"}},"policyTypes":["Ingress","Egress"]})",
       "both"},
      {R"({"podSelector":{"matchExpressions":[{"key":"a","operator":"Exists"}]},
           "policyTypes":["Ingress","Egress"]})",
       "both"},
      {R"({"podSelector":{},"policyTypes":["Egress"]})", "ingress"},
      {R"({"podSelector":{},"policyTypes":["Ingress"]})", "egress"},
  };
  auto r = request_of(fixture("pod-create.json"));
  for (const auto& [spec, missing] : cases) {
    SECTION(spec) {
      namespace_index index;
      json policy = {{"kind", "NetworkPolicy"},
                     {"metadata", {{"name", "candidate"}, {"namespace", "team-c"}}},
                     {"spec", json::parse(spec)}};
      REQUIRE(index_policy(index, policy));
      auto d = decide(r, *index.freeze("t"), enforce(), fixture_now);
      check_pod_creator_denied(d, "team-c", missing);
    }
  }
  SECTION("every empty selector form gives full coverage") {
    for (const char* selector : {R"({})", R"({"matchLabels":{}})", R"({"matchLabels":null})",
                                 R"({"matchExpressions":[]})", R"(null)"}) {
      INFO(selector);
      namespace_index index;
      json policy = {{"kind", "NetworkPolicy"},
                     {"metadata", {{"name", "default-deny-all"}, {"namespace", "team-c"}}},
                     {"spec", {{"policyTypes", {"Ingress", "Egress"}}}}};
      policy["spec"]["podSelector"] = json::parse(selector);
      REQUIRE(index_policy(index, policy));
      check_allowed(decide(r, *index.freeze("t"), enforce(), fixture_now));
    }
  }
}

TEST_CASE("Pod CREATE by a controller, with generateName", "[decision]") {
  auto review = fixture("pod-create.json");
  review["request"]["name"] = "";
  review["request"]["userInfo"]["username"] =
      "system:serviceaccount:kube-system:replicaset-controller";
  review["request"]["object"]["metadata"]["name"] = "web-7d4b9c-x2k4q";
  review["request"]["object"]["metadata"]["generateName"] = "web-7d4b9c-";
  auto r = request_of(review);
  auto d = decide(r, namespace_snapshot{}, enforce(), fixture_now);
  check_pod_creator_denied(d, "team-c", "both");
  CHECK(d.subject.name == "web-7d4b9c-x2k4q");
}

// ---------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------

TEST_CASE("workloads that create pods follow the Pod rule", "[decision]") {
  for (const auto& w : workloads) {
    SECTION(std::string(w.group) + "/" + w.resource) {
      auto r = request_of(workload_review(w, "team-c"));

      auto denied = decide(r, namespace_snapshot{}, enforce(), fixture_now);
      check_pod_creator_denied(denied, "team-c", "both");
      CHECK(denied.subject.kind == w.kind);
      CHECK(denied.subject.name == "web");
      CHECK_THAT(denied.response.message, Contains(w.kind));

      auto half =
          decide(r, snapshot_of({{"team-c", "deny-in", ingress_only}}), enforce(), fixture_now);
      check_pod_creator_denied(half, "team-c", "egress");

      check_allowed(
          decide(r, snapshot_of({{"team-c", "default-deny-all", both}}), enforce(), fixture_now));

      decision_config off;
      off.check_workloads = false;
      auto unchecked = decide(r, namespace_snapshot{}, off, fixture_now);
      check_allowed(unchecked);
      CHECK(unchecked.subject.kind == w.kind);

      check_allowed(decide(
          r, namespace_snapshot{},
          [] {
            decision_config c;
            c.exempt_namespaces = {"team-c"};
            return c;
          }(),
          fixture_now));

      auto audited = decide(r, namespace_snapshot{}, audit_only(), fixture_now);
      check_audited(audited);
    }
  }
}

TEST_CASE("workloads: only CREATE is checked", "[decision]") {
  for (const char* op : {"UPDATE", "DELETE"}) {
    SECTION(op) {
      auto review = workload_review(workloads[0], "team-c");
      review["request"]["operation"] = op;
      review["request"]["oldObject"] = review["request"]["object"];
      if (std::string(op) == "DELETE") review["request"]["object"] = nullptr;
      check_allowed(decide(request_of(review), namespace_snapshot{}, enforce(), fixture_now));
    }
  }
}

TEST_CASE("workload rules match group and resource, not the version", "[decision]") {
  auto review = workload_review({"apps", "v1beta2", "deployments", "Deployment"}, "team-c");
  auto d = decide(request_of(review), namespace_snapshot{}, enforce(), fixture_now);
  check_pod_creator_denied(d, "team-c", "both");

  SECTION("a same-named resource in another group is not a workload") {
    auto other = workload_review({"example.com", "v1", "deployments", "Deployment"}, "team-c");
    check_allowed(decide(request_of(other), namespace_snapshot{}, enforce(), fixture_now));
  }
  SECTION("other apps resources are not checked") {
    auto rev =
        workload_review({"apps", "v1", "controllerrevisions", "ControllerRevision"}, "team-c");
    auto a = decide(request_of(rev), namespace_snapshot{}, enforce(), fixture_now);
    check_allowed(a);
    CHECK(a.subject.kind == "other");
  }
}

// ---------------------------------------------------------------------------
// Namespace CREATE
// ---------------------------------------------------------------------------

TEST_CASE("Namespace CREATE is denied in enforce mode", "[decision]") {
  auto r = request_of(fixture("namespace-create.json"));
  // Even a stale entry claiming coverage cannot help a brand-new namespace.
  for (const auto& state :
       {namespace_snapshot{}, snapshot_of({{"team-new", "default-deny-all", both}})}) {
    auto d = decide(r, state, enforce(), fixture_now);
    check_denied(d);
    const auto& m = d.response.message;
    CHECK_THAT(m, Contains("\"team-new\""));
    CHECK_THAT(m, Contains("T1046"));
    CHECK_THAT(m, Contains("--provision-default-deny"));
    CHECK_THAT(m, Contains("exempt"));
    CHECK(d.subject.kind == "Namespace");
    CHECK(d.subject.name == "team-new");
    CHECK(d.subject.namespace_name == "team-new");
    // Not a question of cached state: a live read cannot change it.
    CHECK_FALSE(d.depends_on_state);
  }
}

TEST_CASE("Namespace CREATE with generateName takes the name from the object", "[decision]") {
  auto review = fixture("namespace-create.json");
  review["request"]["name"] = "";
  review["request"]["namespace"] = "";
  review["request"]["object"]["metadata"]["name"] = "team-x7k2p";
  review["request"]["object"]["metadata"]["generateName"] = "team-";
  auto r = request_of(review);

  auto d = decide(r, namespace_snapshot{}, enforce(), fixture_now);
  check_denied(d);
  CHECK_THAT(d.response.message, Contains("\"team-x7k2p\""));
  CHECK(d.subject.name == "team-x7k2p");

  SECTION("and the exemption is checked against that name") {
    decision_config c;
    c.exempt_namespaces = {"team-x7k2p"};
    check_allowed(decide(r, namespace_snapshot{}, c, fixture_now));
  }
}

TEST_CASE("Namespace CREATE with provisioning is allowed with a warning", "[decision]") {
  decision_config c;
  c.provision_default_deny = true;
  auto r = request_of(fixture("namespace-create.json"));
  auto d = decide(r, namespace_snapshot{}, c, fixture_now);
  CHECK(d.outcome == verdict::warned);
  CHECK(d.response.allowed);
  CHECK(d.response.audit_annotations.empty());
  REQUIRE(d.response.warnings.size() == 1);
  const auto& w = d.response.warnings[0];
  CHECK(w.size() <= 256);
  CHECK_FALSE(has_control_chars(w));
  CHECK_THAT(w, StartsWith("CIS 5.3.2") && Contains("default-deny-all") && Contains("team-new"));

  auto out = wire(r, d);
  CHECK(out.at("response").at("allowed") == true);
  CHECK(out.at("response").at("warnings").size() == 1);
  CHECK_FALSE(out.at("response").contains("status"));

  SECTION("provisioning wins over audit-only: nothing to audit") {
    c.audit_only = true;
    CHECK(decide(r, namespace_snapshot{}, c, fixture_now).outcome == verdict::warned);
  }
}

TEST_CASE("Namespace CREATE in audit-only is audited", "[decision]") {
  auto r = request_of(fixture("namespace-create.json"));
  auto d = decide(r, namespace_snapshot{}, audit_only(), fixture_now);
  check_audited(d);
  CHECK_THAT(d.response.warnings[0], Contains("team-new"));
}

TEST_CASE("Namespace UPDATE and DELETE are allowed when no netpol-guard key changes",
          "[decision]") {
  for (const char* op : {"UPDATE", "DELETE"}) {
    SECTION(op) {
      auto review = fixture("namespace-create.json");
      review["request"]["operation"] = op;
      review["request"]["oldObject"] = review["request"]["object"];
      if (std::string(op) == "DELETE") review["request"]["object"] = nullptr;
      check_allowed(decide(request_of(review), namespace_snapshot{}, enforce(), fixture_now));
    }
  }
}

// ---------------------------------------------------------------------------
// Exempt namespaces
// ---------------------------------------------------------------------------

TEST_CASE("a decoy default-deny-all is named in the Pod's denial", "[decision]") {
  namespace_index index;
  index.upsert_policy("team-a", "default-deny-all", ingress_only);
  auto d = decide(request_of(pod_in("team-a")), *index.freeze("t"), enforce(), fixture_now);
  check_pod_creator_denied(d, "team-a", "egress");
  CHECK_THAT(d.response.message,
             Contains("NetworkPolicy named \"default-deny-all\" there is not a deny-all"));
  SECTION("not when the template's name holds a real deny-all") {
    index.upsert_policy("team-a", "default-deny-all", both);
    check_allowed(decide(request_of(pod_in("team-a")), *index.freeze("t"), enforce(), fixture_now));
    index.upsert_policy("team-a", "default-deny-all", none);
    index.upsert_policy("team-a", "deny-all", both);
    CHECK(index.freeze("t")->find("team-a")->template_name_taken);
    index.remove_policy("team-a", "default-deny-all");
    CHECK_FALSE(index.freeze("t")->find("team-a")->template_name_taken);
  }
}
