#include "decision_fixtures.hpp"
#include "netpol_guard/admission/decision.hpp"

// What the rule leaves alone: exemptions, other operations and kinds; audit-only and dryRun.

using namespace decision_fixtures;

TEST_CASE("default exempt namespaces are always allowed", "[decision]") {
  for (const char* ns : {"kube-system", "kube-public", "kube-node-lease"}) {
    SECTION(ns) {
      CHECK(decision_config{}.exempt_namespaces.count(ns) == 1);
      check_allowed(decide(request_of(pod_in(ns)), namespace_snapshot{}, enforce(), fixture_now));
      check_allowed(
          decide(request_of(pod_in(ns)), namespace_snapshot{}, audit_only(), fixture_now));
      check_allowed(decide(request_of(workload_review(workloads[5], ns)), namespace_snapshot{},
                           enforce(), fixture_now));
      check_allowed(
          decide(request_of(namespace_review(ns)), namespace_snapshot{}, enforce(), fixture_now));
    }
  }
  CHECK(decision_config{}.exempt_namespaces.size() == 3);
}

TEST_CASE("a custom exempt list replaces the default", "[decision]") {
  decision_config c;
  c.exempt_namespaces = {"ops"};
  check_allowed(decide(request_of(pod_in("ops")), namespace_snapshot{}, c, fixture_now));
  check_pod_creator_denied(
      decide(request_of(pod_in("kube-system")), namespace_snapshot{}, c, fixture_now),
      "kube-system", "both");
}

// ---------------------------------------------------------------------------
// Everything else
// ---------------------------------------------------------------------------

TEST_CASE("Pod UPDATE, DELETE and CONNECT are allowed", "[decision]") {
  auto base = fixture("pod-create.json");
  SECTION("UPDATE") {
    base["request"]["operation"] = "UPDATE";
    base["request"]["oldObject"] = base["request"]["object"];
  }
  SECTION("DELETE") {
    base["request"]["operation"] = "DELETE";
    base["request"]["oldObject"] = base["request"]["object"];
    base["request"]["object"] = nullptr;
  }
  SECTION("CONNECT pods/exec") {
    base["request"]["operation"] = "CONNECT";
    base["request"]["subResource"] = "exec";
    base["request"]["object"] = {{"kind", "PodExecOptions"}, {"apiVersion", "v1"}};
  }
  SECTION("CONNECT without a subresource") { base["request"]["operation"] = "CONNECT"; }
  auto d = decide(request_of(base), namespace_snapshot{}, enforce(), fixture_now);
  check_allowed(d);
}

TEST_CASE("pod subresources are allowed", "[decision]") {
  const std::tuple<const char*, const char*> cases[] = {
      {"ephemeralcontainers", "UPDATE"},
      {"binding", "CREATE"},
      {"eviction", "CREATE"},
      {"status", "UPDATE"},
      {"resize", "UPDATE"},
      {"attach", "CONNECT"},
      {"portforward", "CONNECT"},
  };
  for (const auto& [sub, op] : cases) {
    SECTION(std::string("pods/") + sub) {
      auto review = fixture("pod-create.json");
      review["request"]["subResource"] = sub;
      review["request"]["operation"] = op;
      check_allowed(decide(request_of(review), namespace_snapshot{}, enforce(), fixture_now));
      check_allowed(decide(request_of(review), namespace_snapshot{}, audit_only(), fixture_now));
    }
  }
  SECTION("workload subresources too") {
    auto review = workload_review(workloads[0], "team-c");
    review["request"]["subResource"] = "scale";
    review["request"]["operation"] = "UPDATE";
    check_allowed(decide(request_of(review), namespace_snapshot{}, enforce(), fixture_now));
  }
}

TEST_CASE("other kinds are allowed", "[decision]") {
  const std::tuple<const char*, const char*> cases[] = {
      {"", "configmaps"},
      {"", "services"},
      {"", "secrets"},
      {"networking.k8s.io", "networkpolicies"},
      {"networking.k8s.io", "ingresses"},
      {"argoproj.io", "rollouts"},
      {"", "serviceaccounts"},
  };
  for (const auto& [group, resource] : cases) {
    SECTION(std::string(group) + "/" + resource) {
      auto review = fixture("pod-create.json");
      review["request"]["resource"] = {{"group", group}, {"version", "v1"}, {"resource", resource}};
      auto d = decide(request_of(review), namespace_snapshot{}, enforce(), fixture_now);
      check_allowed(d);
    }
  }
}

TEST_CASE("NetworkPolicy CREATE is allowed", "[decision]") {
  auto review = fixture("networkpolicy-update.json");
  review["request"]["operation"] = "CREATE";
  review["request"]["oldObject"] = nullptr;
  review["request"]["namespace"] = "team-z";
  auto d = decide(request_of(review), namespace_snapshot{}, enforce(), fixture_now);
  check_allowed(d);
  CHECK(d.subject.kind == "NetworkPolicy");
}

TEST_CASE("an empty request is allowed, not thrown on", "[decision]") {
  admission_request r;
  admission_decision d;
  REQUIRE_NOTHROW(d = decide(r, namespace_snapshot{}, enforce(), fixture_now));
  check_allowed(d);
  CHECK(d.subject.kind == "other");
}

// ---------------------------------------------------------------------------
// Audit-only and dry run
// ---------------------------------------------------------------------------

TEST_CASE("audit-only never denies; the denial becomes a warning and annotations", "[decision]") {
  auto r = request_of(fixture("pod-create.json"));
  auto enforced = decide(r, namespace_snapshot{}, enforce(), fixture_now);
  auto audited = decide(r, namespace_snapshot{}, audit_only(), fixture_now);
  check_audited(audited);
  CHECK(audited.coverage == none);

  // The same text: short enough to pass whole.
  REQUIRE(enforced.response.message.size() <= 256);
  CHECK(audited.response.warnings[0] == enforced.response.message);

  auto out = wire(r, audited);
  const auto& resp = out.at("response");
  CHECK(resp.at("allowed") == true);
  CHECK_FALSE(resp.contains("status"));
  CHECK(resp.at("warnings").size() == 1);
  CHECK(resp.at("auditAnnotations").is_object());
  CHECK_FALSE(resp.at("auditAnnotations").empty());

  SECTION("a covered namespace gives nothing to audit") {
    check_allowed(
        decide(r, snapshot_of({{"team-c", "default-deny-all", both}}), audit_only(), fixture_now));
  }
  SECTION("the missing direction is in an annotation") {
    auto half =
        decide(r, snapshot_of({{"team-c", "deny-in", ingress_only}}), audit_only(), fixture_now);
    check_audited(half);
    bool names_egress = false;
    for (const auto& [k, v] : half.response.audit_annotations) {
      names_egress = names_egress || v == "egress";
    }
    CHECK(names_egress);
  }
}

TEST_CASE("audit-only warnings stay within the apiserver's limits for long names", "[decision]") {
  const std::string long_ns(63, 'n');
  auto review = pod_in(long_ns);
  const std::string long_name(253, 'p');
  review["request"]["name"] = long_name;
  review["request"]["object"]["metadata"]["name"] = long_name;
  auto r = request_of(review);
  auto d = decide(r, namespace_snapshot{}, audit_only(), fixture_now);
  check_audited(d);

  auto denied = decide(r, namespace_snapshot{}, enforce(), fixture_now);
  check_pod_creator_denied(denied, long_ns, "both");
}

TEST_CASE("dryRun requests are decided the same way", "[decision]") {
  auto review = fixture("pod-create.json");
  review["request"]["dryRun"] = true;
  auto r = request_of(review);
  REQUIRE(r.dry_run);
  check_pod_creator_denied(decide(r, namespace_snapshot{}, enforce(), fixture_now), "team-c",
                           "both");
  check_allowed(
      decide(r, snapshot_of({{"team-c", "default-deny-all", both}}), enforce(), fixture_now));
  check_audited(decide(r, namespace_snapshot{}, audit_only(), fixture_now));

  auto del = fixture("networkpolicy-delete.json");
  del["request"]["dryRun"] = true;
  check_denied(decide(request_of(del), snapshot_of({{"team-a", "default-deny-all", both}}),
                      enforce(), fixture_now));

  auto ns = fixture("namespace-create.json");
  ns["request"]["dryRun"] = true;
  check_denied(decide(request_of(ns), namespace_snapshot{}, enforce(), fixture_now));
}
