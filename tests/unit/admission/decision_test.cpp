#include "netpol_guard/admission/decision.hpp"

#include "netpol_guard/admission/review_decoder.hpp"
#include "netpol_guard/admission/review_encoder.hpp"
#include "netpol_guard/netpol/manifest_loader.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

using namespace netpol_guard;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;

namespace {

constexpr deny_all_coverage none{false, false};
constexpr deny_all_coverage ingress_only{true, false};
constexpr deny_all_coverage egress_only{false, true};
constexpr deny_all_coverage both{true, true};

json fixture(const std::string& name) {
  std::ifstream in(std::string(NETPOL_GUARD_FIXTURES) + "/admission/" + name);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

// Requests go through the codec, as the server's do.
admission_request request_of(const json& review) {
  auto decoded = decode_admission_review(review.dump());
  if (auto* err = std::get_if<codec_error>(&decoded)) {
    FAIL("fixture does not decode: " << err->message);
  }
  return std::get<admission_request>(std::move(decoded));
}

struct policy_row {
  std::string ns;
  std::string name;
  deny_all_coverage coverage;
  std::string created = {};  // creationTimestamp
};

namespace_snapshot snapshot_of(const std::vector<policy_row>& rows,
                               const std::vector<std::string>& terminating = {}) {
  namespace_index index;
  for (const auto& r : rows) index.upsert_policy(r.ns, r.name, r.coverage, r.created);
  for (const auto& ns : terminating) index.upsert_namespace(ns, true);
  return *index.freeze("test");
}

decision_config enforce() { return decision_config{}; }

decision_config audit_only() {
  decision_config c;
  c.audit_only = true;
  return c;
}

bool has_control_chars(const std::string& s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

void check_one_line(const std::string& message) {
  CHECK_THAT(message, StartsWith("CIS 5.3.2"));
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.find('\r') == std::string::npos);
  CHECK_FALSE(has_control_chars(message));
}

// "ingress", "egress" or "both": the message says exactly that direction.
void check_direction(const std::string& message, const std::string& missing) {
  if (missing == "both") {
    CHECK_THAT(message, Contains("ingress and egress"));
  } else if (missing == "ingress") {
    CHECK_THAT(message, Contains("ingress") && !Contains("egress"));
  } else {
    CHECK_THAT(message, Contains("egress") && !Contains("ingress"));
  }
}

void check_denied(const admission_decision& d) {
  CHECK(d.outcome == verdict::denied);
  CHECK_FALSE(d.response.allowed);
  CHECK(d.response.code == 403);
  CHECK(d.response.reason == "Forbidden");
  CHECK(d.response.warnings.empty());
  CHECK(d.response.audit_annotations.empty());
  check_one_line(d.response.message);
}

void check_pod_creator_denied(const admission_decision& d, const std::string& ns,
                              const std::string& missing) {
  check_denied(d);
  const auto& m = d.response.message;
  CHECK_THAT(m, Contains("\"" + ns + "\""));
  CHECK_THAT(m, Contains("default-deny-all"));
  CHECK_THAT(m, Contains("T1046"));
  check_direction(m, missing);
  CHECK(d.depends_on_state);
}

void check_allowed(const admission_decision& d) {
  CHECK(d.outcome == verdict::allowed);
  CHECK(d.response.allowed);
  CHECK(d.response.message.empty());
  CHECK(d.response.warnings.empty());
  CHECK(d.response.audit_annotations.empty());
}

// Audit-only: allowed, the would-be denial as a warning and audit annotations
// the apiserver accepts.
void check_audited(const admission_decision& d) {
  CHECK(d.outcome == verdict::audited);
  CHECK(d.response.allowed);
  REQUIRE(d.response.warnings.size() == 1);
  const auto& w = d.response.warnings[0];
  CHECK(w.size() <= 256);
  CHECK_FALSE(has_control_chars(w));
  CHECK_THAT(w, StartsWith("CIS 5.3.2"));
  REQUIRE_FALSE(d.response.audit_annotations.empty());
  for (const auto& [key, value] : d.response.audit_annotations) {
    INFO("annotation key " << key);
    CHECK(valid_audit_annotation_key(key));
    CHECK_FALSE(value.empty());
  }
}

// The answer the apiserver would read, for checks on the wire shape.
json wire(const admission_request& r, const admission_decision& d) {
  return json::parse(encode_admission_review(r, d.response));
}

json pod_in(const std::string& ns) {
  auto review = fixture("pod-create.json");
  review["request"]["namespace"] = ns;
  review["request"]["object"]["metadata"]["namespace"] = ns;
  return review;
}

struct workload {
  const char* group;
  const char* version;
  const char* resource;
  const char* kind;
};

constexpr workload workloads[] = {
    {"apps", "v1", "deployments", "Deployment"}, {"apps", "v1", "replicasets", "ReplicaSet"},
    {"apps", "v1", "statefulsets", "StatefulSet"}, {"apps", "v1", "daemonsets", "DaemonSet"},
    {"batch", "v1", "jobs", "Job"},               {"batch", "v1", "cronjobs", "CronJob"},
};

json workload_review(const workload& w, const std::string& ns) {
  auto review = fixture("deployment-create.json");
  auto& r = review["request"];
  r["kind"] = {{"group", w.group}, {"version", w.version}, {"kind", w.kind}};
  r["requestKind"] = r["kind"];
  r["resource"] = {{"group", w.group}, {"version", w.version}, {"resource", w.resource}};
  r["requestResource"] = r["resource"];
  r["namespace"] = ns;
  r["object"]["kind"] = w.kind;
  r["object"]["apiVersion"] = std::string(w.group) + "/" + w.version;
  r["object"]["metadata"]["namespace"] = ns;
  return review;
}

json namespace_review(const std::string& name) {
  auto review = fixture("namespace-create.json");
  review["request"]["name"] = name;
  review["request"]["namespace"] = name;
  review["request"]["object"]["metadata"]["name"] = name;
  review["request"]["object"]["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
  return review;
}

}  // namespace

// ---------------------------------------------------------------------------
// Pod CREATE
// ---------------------------------------------------------------------------

TEST_CASE("Pod CREATE is allowed with full coverage from one policy", "[decision]") {
  auto r = request_of(fixture("pod-create.json"));
  auto d = decide(r, snapshot_of({{"team-c", "default-deny-all", both}}), enforce());
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
  auto d = decide(r, state, enforce());
  check_allowed(d);
  CHECK(d.coverage == both);
}

TEST_CASE("Pod CREATE is denied without a baseline, with a one-line CIS message",
          "[decision]") {
  auto r = request_of(fixture("pod-create.json"));

  SECTION("no policy at all: both directions missing") {
    auto d = decide(r, namespace_snapshot{}, enforce());
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
    auto d = decide(r, snapshot_of({{"team-c", "allow-web", none}}), enforce());
    check_pod_creator_denied(d, "team-c", "both");
  }
  SECTION("ingress covered, egress missing") {
    auto d = decide(r, snapshot_of({{"team-c", "deny-in", ingress_only}}), enforce());
    check_pod_creator_denied(d, "team-c", "egress");
    CHECK(d.coverage == ingress_only);
  }
  SECTION("egress covered, ingress missing") {
    auto d = decide(r, snapshot_of({{"team-c", "deny-out", egress_only}}), enforce());
    check_pod_creator_denied(d, "team-c", "ingress");
    CHECK(d.coverage == egress_only);
  }
  SECTION("a baseline in another namespace does not count") {
    auto d = decide(r, snapshot_of({{"team-a", "default-deny-all", both}}), enforce());
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
      std::string err;
      json policy = {{"kind", "NetworkPolicy"},
                     {"metadata", {{"name", "candidate"}, {"namespace", "team-c"}}},
                     {"spec", json::parse(spec)}};
      REQUIRE(index_policy(index, policy, err));
      auto d = decide(r, *index.freeze("t"), enforce());
      check_pod_creator_denied(d, "team-c", missing);
    }
  }
  SECTION("every empty selector form gives full coverage") {
    for (const char* selector : {R"({})", R"({"matchLabels":{}})", R"({"matchLabels":null})",
                                 R"({"matchExpressions":[]})", R"(null)"}) {
      INFO(selector);
      namespace_index index;
      std::string err;
      json policy = {{"kind", "NetworkPolicy"},
                     {"metadata", {{"name", "default-deny-all"}, {"namespace", "team-c"}}},
                     {"spec", {{"policyTypes", {"Ingress", "Egress"}}}}};
      policy["spec"]["podSelector"] = json::parse(selector);
      REQUIRE(index_policy(index, policy, err));
      check_allowed(decide(r, *index.freeze("t"), enforce()));
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
  auto d = decide(r, namespace_snapshot{}, enforce());
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

      auto denied = decide(r, namespace_snapshot{}, enforce());
      check_pod_creator_denied(denied, "team-c", "both");
      CHECK(denied.subject.kind == w.kind);
      CHECK(denied.subject.name == "web");
      CHECK_THAT(denied.response.message, Contains(w.kind));

      auto half = decide(r, snapshot_of({{"team-c", "deny-in", ingress_only}}), enforce());
      check_pod_creator_denied(half, "team-c", "egress");

      check_allowed(decide(r, snapshot_of({{"team-c", "default-deny-all", both}}), enforce()));

      decision_config off;
      off.check_workloads = false;
      auto unchecked = decide(r, namespace_snapshot{}, off);
      check_allowed(unchecked);
      CHECK(unchecked.subject.kind == w.kind);

      check_allowed(decide(r, namespace_snapshot{}, [] {
        decision_config c;
        c.exempt_namespaces = {"team-c"};
        return c;
      }()));

      auto audited = decide(r, namespace_snapshot{}, audit_only());
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
      check_allowed(decide(request_of(review), namespace_snapshot{}, enforce()));
    }
  }
}

TEST_CASE("workload rules match group and resource, not the version", "[decision]") {
  auto review = workload_review({"apps", "v1beta2", "deployments", "Deployment"}, "team-c");
  auto d = decide(request_of(review), namespace_snapshot{}, enforce());
  check_pod_creator_denied(d, "team-c", "both");

  SECTION("a same-named resource in another group is not a workload") {
    auto other = workload_review({"example.com", "v1", "deployments", "Deployment"}, "team-c");
    check_allowed(decide(request_of(other), namespace_snapshot{}, enforce()));
  }
  SECTION("other apps resources are not checked") {
    auto rev = workload_review({"apps", "v1", "controllerrevisions", "ControllerRevision"},
                               "team-c");
    auto a = decide(request_of(rev), namespace_snapshot{}, enforce());
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
    auto d = decide(r, state, enforce());
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

  auto d = decide(r, namespace_snapshot{}, enforce());
  check_denied(d);
  CHECK_THAT(d.response.message, Contains("\"team-x7k2p\""));
  CHECK(d.subject.name == "team-x7k2p");

  SECTION("and the exemption is checked against that name") {
    decision_config c;
    c.exempt_namespaces = {"team-x7k2p"};
    check_allowed(decide(r, namespace_snapshot{}, c));
  }
}

TEST_CASE("Namespace CREATE with provisioning is allowed with a warning", "[decision]") {
  decision_config c;
  c.provision_default_deny = true;
  auto r = request_of(fixture("namespace-create.json"));
  auto d = decide(r, namespace_snapshot{}, c);
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
    CHECK(decide(r, namespace_snapshot{}, c).outcome == verdict::warned);
  }
}

TEST_CASE("Namespace CREATE in audit-only is audited", "[decision]") {
  auto r = request_of(fixture("namespace-create.json"));
  auto d = decide(r, namespace_snapshot{}, audit_only());
  check_audited(d);
  CHECK_THAT(d.response.warnings[0], Contains("team-new"));
}

TEST_CASE("Namespace UPDATE and DELETE are allowed", "[decision]") {
  for (const char* op : {"UPDATE", "DELETE"}) {
    SECTION(op) {
      auto review = fixture("namespace-create.json");
      review["request"]["operation"] = op;
      review["request"]["oldObject"] = review["request"]["object"];
      if (std::string(op) == "DELETE") review["request"]["object"] = nullptr;
      check_allowed(decide(request_of(review), namespace_snapshot{}, enforce()));
    }
  }
}

// ---------------------------------------------------------------------------
// Exempt namespaces
// ---------------------------------------------------------------------------

TEST_CASE("default exempt namespaces are always allowed", "[decision]") {
  for (const char* ns : {"kube-system", "kube-public", "kube-node-lease"}) {
    SECTION(ns) {
      CHECK(decision_config{}.exempt_namespaces.count(ns) == 1);
      check_allowed(decide(request_of(pod_in(ns)), namespace_snapshot{}, enforce()));
      check_allowed(decide(request_of(pod_in(ns)), namespace_snapshot{}, audit_only()));
      check_allowed(decide(request_of(workload_review(workloads[5], ns)), namespace_snapshot{},
                           enforce()));
      check_allowed(decide(request_of(namespace_review(ns)), namespace_snapshot{}, enforce()));
    }
  }
  CHECK(decision_config{}.exempt_namespaces.size() == 3);
}

TEST_CASE("a custom exempt list replaces the default", "[decision]") {
  decision_config c;
  c.exempt_namespaces = {"ops"};
  check_allowed(decide(request_of(pod_in("ops")), namespace_snapshot{}, c));
  check_pod_creator_denied(decide(request_of(pod_in("kube-system")), namespace_snapshot{}, c),
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
  SECTION("CONNECT without a subresource") {
    base["request"]["operation"] = "CONNECT";
  }
  auto d = decide(request_of(base), namespace_snapshot{}, enforce());
  check_allowed(d);
}

TEST_CASE("pod subresources are allowed", "[decision]") {
  const std::tuple<const char*, const char*> cases[] = {
      {"ephemeralcontainers", "UPDATE"}, {"binding", "CREATE"}, {"eviction", "CREATE"},
      {"status", "UPDATE"},              {"resize", "UPDATE"},  {"attach", "CONNECT"},
      {"portforward", "CONNECT"},
  };
  for (const auto& [sub, op] : cases) {
    SECTION(std::string("pods/") + sub) {
      auto review = fixture("pod-create.json");
      review["request"]["subResource"] = sub;
      review["request"]["operation"] = op;
      check_allowed(decide(request_of(review), namespace_snapshot{}, enforce()));
      check_allowed(decide(request_of(review), namespace_snapshot{}, audit_only()));
    }
  }
  SECTION("workload subresources too") {
    auto review = workload_review(workloads[0], "team-c");
    review["request"]["subResource"] = "scale";
    review["request"]["operation"] = "UPDATE";
    check_allowed(decide(request_of(review), namespace_snapshot{}, enforce()));
  }
}

TEST_CASE("other kinds are allowed", "[decision]") {
  const std::tuple<const char*, const char*> cases[] = {
      {"", "configmaps"},         {"", "services"},   {"", "secrets"},
      {"networking.k8s.io", "networkpolicies"},       {"networking.k8s.io", "ingresses"},
      {"argoproj.io", "rollouts"}, {"", "serviceaccounts"},
  };
  for (const auto& [group, resource] : cases) {
    SECTION(std::string(group) + "/" + resource) {
      auto review = fixture("pod-create.json");
      review["request"]["resource"] = {{"group", group}, {"version", "v1"}, {"resource", resource}};
      auto d = decide(request_of(review), namespace_snapshot{}, enforce());
      check_allowed(d);
    }
  }
}

TEST_CASE("NetworkPolicy CREATE is allowed", "[decision]") {
  auto review = fixture("networkpolicy-update.json");
  review["request"]["operation"] = "CREATE";
  review["request"]["oldObject"] = nullptr;
  review["request"]["namespace"] = "team-z";
  auto d = decide(request_of(review), namespace_snapshot{}, enforce());
  check_allowed(d);
  CHECK(d.subject.kind == "NetworkPolicy");
}

TEST_CASE("an empty request is allowed, not thrown on", "[decision]") {
  admission_request r;
  admission_decision d;
  REQUIRE_NOTHROW(d = decide(r, namespace_snapshot{}, enforce()));
  check_allowed(d);
  CHECK(d.subject.kind == "other");
}

// ---------------------------------------------------------------------------
// Audit-only and dry run
// ---------------------------------------------------------------------------

TEST_CASE("audit-only never denies; the denial becomes a warning and annotations",
          "[decision]") {
  auto r = request_of(fixture("pod-create.json"));
  auto enforced = decide(r, namespace_snapshot{}, enforce());
  auto audited = decide(r, namespace_snapshot{}, audit_only());
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
    check_allowed(decide(r, snapshot_of({{"team-c", "default-deny-all", both}}), audit_only()));
  }
  SECTION("the missing direction is in an annotation") {
    auto half = decide(r, snapshot_of({{"team-c", "deny-in", ingress_only}}), audit_only());
    check_audited(half);
    bool names_egress = false;
    for (const auto& [k, v] : half.response.audit_annotations) {
      names_egress = names_egress || v == "egress";
    }
    CHECK(names_egress);
  }
}

TEST_CASE("audit-only warnings stay within the apiserver's limits for long names",
          "[decision]") {
  const std::string long_ns(63, 'n');
  auto review = pod_in(long_ns);
  const std::string long_name(253, 'p');
  review["request"]["name"] = long_name;
  review["request"]["object"]["metadata"]["name"] = long_name;
  auto r = request_of(review);
  auto d = decide(r, namespace_snapshot{}, audit_only());
  check_audited(d);

  auto denied = decide(r, namespace_snapshot{}, enforce());
  check_pod_creator_denied(denied, long_ns, "both");
}

TEST_CASE("dryRun requests are decided the same way", "[decision]") {
  auto review = fixture("pod-create.json");
  review["request"]["dryRun"] = true;
  auto r = request_of(review);
  REQUIRE(r.dry_run);
  check_pod_creator_denied(decide(r, namespace_snapshot{}, enforce()), "team-c", "both");
  check_allowed(decide(r, snapshot_of({{"team-c", "default-deny-all", both}}), enforce()));
  check_audited(decide(r, namespace_snapshot{}, audit_only()));

  auto del = fixture("networkpolicy-delete.json");
  del["request"]["dryRun"] = true;
  check_denied(decide(request_of(del), snapshot_of({{"team-a", "default-deny-all", both}}),
                      enforce()));

  auto ns = fixture("namespace-create.json");
  ns["request"]["dryRun"] = true;
  check_denied(decide(request_of(ns), namespace_snapshot{}, enforce()));
}

// ---------------------------------------------------------------------------
// Baseline protection: NetworkPolicy UPDATE and DELETE (issue 8)
// ---------------------------------------------------------------------------

namespace {

const namespace_snapshot only_baseline =
    snapshot_of({{"team-a", "default-deny-all", both}, {"team-a", "allow-web", none}});

void check_policy_change_denied(const admission_decision& d, const std::string& lost) {
  check_denied(d);
  const auto& m = d.response.message;
  CHECK_THAT(m, Contains("\"default-deny-all\""));
  CHECK_THAT(m, Contains("\"team-a\""));
  CHECK_THAT(m, Contains("oldest default-deny"));
  CHECK_THAT(m, Contains("Fix: keep it"));
  CHECK_THAT(m, Contains("T1046"));
  check_direction(m, lost);
  CHECK(d.subject.kind == "NetworkPolicy");
  CHECK(d.subject.name == "default-deny-all");
  CHECK(d.subject.namespace_name == "team-a");
}

json update_with_spec(const char* spec) {
  auto review = fixture("networkpolicy-update.json");
  review["request"]["object"]["spec"] = json::parse(spec);
  return review;
}

}  // namespace

TEST_CASE("DELETE of the only baseline is denied", "[decision]") {
  auto r = request_of(fixture("networkpolicy-delete.json"));
  auto d = decide(r, only_baseline, enforce());
  check_policy_change_denied(d, "both");
  CHECK_THAT(d.response.message, Contains("delet"));
  CHECK(d.depends_on_state);
  CHECK(d.coverage == none);

  SECTION("also when the apiserver sends no oldObject: the cached copy decides") {
    auto review = fixture("networkpolicy-delete.json");
    review["request"]["oldObject"] = nullptr;
    check_policy_change_denied(decide(request_of(review), only_baseline, enforce()), "both");
  }
  SECTION("also when the cache has not seen the policy yet: oldObject decides") {
    check_policy_change_denied(decide(r, namespace_snapshot{}, enforce()), "both");
  }
}

TEST_CASE("DELETE of one half of a split baseline names the lost direction", "[decision]") {
  auto state = snapshot_of({{"team-a", "default-deny-all", egress_only},
                            {"team-a", "deny-in", ingress_only}});
  auto review = fixture("networkpolicy-delete.json");
  review["request"]["oldObject"]["spec"]["policyTypes"] = {"Egress"};
  auto d = decide(request_of(review), state, enforce());
  check_policy_change_denied(d, "egress");
  CHECK(d.coverage == ingress_only);
}

namespace {

constexpr const char* t_old = "2026-01-01T00:00:00Z";
constexpr const char* t_new = "2026-06-01T00:00:00Z";

json delete_of(const std::string& name, const std::string& created, const char* spec) {
  auto review = fixture("networkpolicy-delete.json");
  review["request"]["name"] = name;
  review["request"]["oldObject"]["metadata"]["name"] = name;
  review["request"]["oldObject"]["metadata"]["creationTimestamp"] = created;
  review["request"]["oldObject"]["spec"] = json::parse(spec);
  return review;
}

}  // namespace

TEST_CASE("DELETE of a newer redundant baseline is allowed; the oldest one is pinned",
          "[decision]") {
  auto review = fixture("networkpolicy-delete.json");
  review["request"]["oldObject"]["metadata"]["creationTimestamp"] = t_old;
  auto state = snapshot_of({{"team-a", "default-deny-all", both, t_old},
                            {"team-a", "default-deny-all-v2", both, t_new}});
  SECTION("the oldest is refused although the newer one covers") {
    auto d = decide(request_of(review), state, enforce());
    check_policy_change_denied(d, "both");
    CHECK(d.response.message.find("oldest") != std::string::npos);
  }
  SECTION("the newer one may go: the oldest stays") {
    auto d = decide(request_of(delete_of("default-deny-all-v2", t_new,
                                         R"({"podSelector":{},"policyTypes":["Ingress","Egress"]})")),
                    state, enforce());
    check_allowed(d);
    CHECK(d.coverage == both);
  }
  SECTION("created in the same second: the name decides, the same way on every replica") {
    auto same = snapshot_of({{"team-a", "default-deny-all", both, t_old},
                             {"team-a", "default-deny-all-v2", both, t_old}});
    check_policy_change_denied(decide(request_of(review), same, enforce()), "both");
    check_allowed(decide(request_of(delete_of("default-deny-all-v2", t_old,
                                              R"({"podSelector":{},"policyTypes":["Ingress","Egress"]})")),
                         same, enforce()));
  }
  SECTION("also when the older coverage is split over two policies") {
    review["request"]["oldObject"]["metadata"]["creationTimestamp"] = t_new;
    auto split = snapshot_of({{"team-a", "default-deny-all", both, t_new},
                              {"team-a", "deny-in", ingress_only, t_old},
                              {"team-a", "deny-out", egress_only, t_old}});
    check_allowed(decide(request_of(review), split, enforce()));
  }
  SECTION("pinned per direction: the oldest ingress and the oldest egress policy") {
    review["request"]["oldObject"]["metadata"]["creationTimestamp"] = t_new;
    auto split = snapshot_of({{"team-a", "default-deny-all", both, t_new},
                              {"team-a", "deny-in", ingress_only, t_old}});
    auto d = decide(request_of(review), split, enforce());
    check_policy_change_denied(d, "egress");
    CHECK(d.coverage == ingress_only);
  }
}

// The race the pin closes: two requests judged at the same time, each against
// the same state, must never both pass when together they remove a direction.
// Every combination of three policies' coverage, ages and two concurrent
// changes (DELETE, or an UPDATE to an allow-all) is tried.
TEST_CASE("two concurrent removals can never both pass and leave a direction uncovered",
          "[decision]") {
  const deny_all_coverage kinds[] = {none, ingress_only, egress_only, both};
  const char* names[] = {"a", "b", "c"};
  const char* ages[] = {"2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:00Z"};
  auto spec_of = [](deny_all_coverage c) {
    json types = json::array();
    if (c.ingress) types.push_back("Ingress");
    if (c.egress) types.push_back("Egress");
    json spec{{"podSelector", json::object()}, {"policyTypes", {"Ingress", "Egress"}}};
    if (!c.ingress) spec["ingress"] = json::array({json::object()});
    if (!c.egress) spec["egress"] = json::array({json::object()});
    return spec.dump();
  };
  int pairs_checked = 0;
  for (int mask = 0; mask < 64; ++mask) {
    deny_all_coverage cov[3] = {kinds[mask & 3], kinds[(mask >> 2) & 3], kinds[(mask >> 4) & 3]};
    std::vector<policy_row> rows;
    for (int i = 0; i < 3; ++i) rows.push_back({"team-a", names[i], cov[i], ages[i]});
    auto state = snapshot_of(rows);
    const auto had = state.coverage("team-a");
    for (int x = 0; x < 3; ++x) {
      for (int y = x + 1; y < 3; ++y) {
        for (int op = 0; op < 4; ++op) {
          auto change = [&](int i, bool as_update) {
            auto review = delete_of(names[i], ages[i], spec_of(cov[i]).c_str());
            if (as_update) {
              auto upd = update_with_spec(spec_of(none).c_str());
              upd["request"]["name"] = names[i];
              upd["request"]["object"]["metadata"]["name"] = names[i];
              upd["request"]["oldObject"] = review["request"]["oldObject"];
              return decide(request_of(upd), state, enforce());
            }
            return decide(request_of(review), state, enforce());
          };
          const bool x_ok = change(x, (op & 1) != 0).response.allowed;
          const bool y_ok = change(y, (op & 2) != 0).response.allowed;
          deny_all_coverage left;
          for (int i = 0; i < 3; ++i) {
            if (i == x || i == y) continue;
            left.ingress = left.ingress || cov[i].ingress;
            left.egress = left.egress || cov[i].egress;
          }
          INFO("mask " << mask << " x " << x << " y " << y << " op " << op);
          if (x_ok && y_ok) {
            CHECK((!had.ingress || left.ingress));
            CHECK((!had.egress || left.egress));
          }
          ++pairs_checked;
        }
      }
    }
  }
  CHECK(pairs_checked == 64 * 3 * 4);
}

TEST_CASE("DELETE that takes away nothing is allowed", "[decision]") {
  SECTION("an allow policy") {
    auto review = fixture("networkpolicy-delete.json");
    review["request"]["name"] = "allow-web";
    review["request"]["oldObject"]["metadata"]["name"] = "allow-web";
    review["request"]["oldObject"]["spec"] =
        json::parse(R"({"podSelector":{"matchLabels":{"app":"web"}},"ingress":[{}],
                        "policyTypes":["Ingress"]})");
    check_allowed(decide(request_of(review), only_baseline, enforce()));
  }
  SECTION("in a namespace that had no coverage to lose") {
    auto review = fixture("networkpolicy-delete.json");
    review["request"]["oldObject"]["spec"]["ingress"] = json::array({json::object()});
    review["request"]["oldObject"]["spec"]["egress"] = json::array({json::object()});
    check_allowed(decide(request_of(review), namespace_snapshot{}, enforce()));
  }
}

TEST_CASE("UPDATE that weakens the baseline is denied", "[decision]") {
  SECTION("adds ingress [{}]") {
    auto d = decide(
        request_of(update_with_spec(
            R"({"podSelector":{},"policyTypes":["Ingress","Egress"],"ingress":[{}]})")),
        only_baseline, enforce());
    check_policy_change_denied(d, "ingress");
    CHECK(d.coverage == egress_only);
  }
  SECTION("adds egress [{}]") {
    auto d = decide(
        request_of(update_with_spec(
            R"({"podSelector":{},"policyTypes":["Ingress","Egress"],"egress":[{}]})")),
        only_baseline, enforce());
    check_policy_change_denied(d, "egress");
  }
  SECTION("narrows the podSelector") {
    auto d = decide(request_of(update_with_spec(
                        R"({"podSelector":{"matchLabels":{"app":"web"}},
                            "policyTypes":["Ingress","Egress"]})")),
                    only_baseline, enforce());
    check_policy_change_denied(d, "both");
  }
  SECTION("removes the Egress policyType") {
    auto d = decide(
        request_of(update_with_spec(R"({"podSelector":{},"policyTypes":["Ingress"]})")),
        only_baseline, enforce());
    check_policy_change_denied(d, "egress");
  }
  SECTION("removes the Ingress policyType") {
    auto d = decide(
        request_of(update_with_spec(R"({"podSelector":{},"policyTypes":["Egress"]})")),
        only_baseline, enforce());
    check_policy_change_denied(d, "ingress");
  }
  SECTION("drops policyTypes, leaving egress [] to the defaulting trap") {
    auto d = decide(request_of(update_with_spec(R"({"podSelector":{},"egress":[]})")),
                    only_baseline, enforce());
    check_policy_change_denied(d, "egress");
  }
  SECTION("denied from the request's own objects when the cache is empty") {
    auto d = decide(
        request_of(update_with_spec(R"({"podSelector":{},"policyTypes":["Ingress"]})")),
        namespace_snapshot{}, enforce());
    check_policy_change_denied(d, "egress");
  }
}

TEST_CASE("UPDATE that keeps coverage is allowed", "[decision]") {
  SECTION("a relabel") {
    auto d = decide(request_of(fixture("networkpolicy-update.json")), only_baseline, enforce());
    check_allowed(d);
    CHECK(d.coverage == both);
  }
  SECTION("an equivalent spec: empty selector and rule lists spelled out") {
    auto d = decide(request_of(update_with_spec(
                        R"({"podSelector":{"matchLabels":{},"matchExpressions":[]},
                            "policyTypes":["Egress","Ingress"],"ingress":[],"egress":[]})")),
                    only_baseline, enforce());
    check_allowed(d);
  }
  SECTION("a weakening that an older policy still covers") {
    auto state = snapshot_of({{"team-a", "default-deny-all", both, "2026-06-01T00:00:00Z"},
                              {"team-a", "deny-ingress-too", ingress_only, "2026-01-01T00:00:00Z"}});
    auto review =
        update_with_spec(R"({"podSelector":{},"policyTypes":["Ingress","Egress"],"ingress":[{}]})");
    review["request"]["oldObject"]["metadata"]["creationTimestamp"] = "2026-06-01T00:00:00Z";
    check_allowed(decide(request_of(review), state, enforce()));
    SECTION("but not when the other policy is the newer one") {
      review["request"]["oldObject"]["metadata"]["creationTimestamp"] = "2025-06-01T00:00:00Z";
      check_policy_change_denied(decide(request_of(review), state, enforce()), "ingress");
    }
  }
  SECTION("a change that strengthens") {
    auto review = update_with_spec(R"({"podSelector":{},"policyTypes":["Ingress","Egress"]})");
    review["request"]["oldObject"]["spec"] = json::parse(R"({"podSelector":{},"egress":[]})");
    auto state = snapshot_of({{"team-a", "default-deny-all", ingress_only}});
    check_allowed(decide(request_of(review), state, enforce()));
  }
}

TEST_CASE("policy changes in a terminating namespace are allowed", "[decision]") {
  auto del = request_of(fixture("networkpolicy-delete.json"));
  SECTION("the namespace is terminating in the state") {
    auto state = snapshot_of({{"team-a", "default-deny-all", both}}, {"team-a"});
    check_allowed(decide(del, state, enforce()));
    auto weaken = request_of(
        update_with_spec(R"({"podSelector":{},"policyTypes":["Ingress"]})"));
    check_allowed(decide(weaken, state, enforce()));
  }
  SECTION("the namespace controller is deleting in a terminating namespace") {
    auto review = fixture("networkpolicy-delete.json");
    review["request"]["userInfo"]["username"] =
        "system:serviceaccount:kube-system:namespace-controller";
    auto state = snapshot_of({{"team-a", "default-deny-all", both}}, {"team-a"});
    check_allowed(decide(request_of(review), state, enforce()));
  }
}

TEST_CASE("controllers get no exception in a namespace that is not terminating",
          "[decision]") {
  // With --use-service-account-credentials=false every controller, the garbage
  // collector included, acts as system:kube-controller-manager.
  for (const char* user : {"system:serviceaccount:kube-system:namespace-controller",
                           "system:kube-controller-manager",
                           "system:serviceaccount:kube-system:generic-garbage-collector"}) {
    INFO(user);
    auto review = fixture("networkpolicy-delete.json");
    review["request"]["userInfo"]["username"] = user;
    check_denied(decide(request_of(review), only_baseline, enforce()));
  }
}

namespace {

json terminating_update(const char* new_spec) {
  auto review = update_with_spec(new_spec);
  auto& req = review["request"];
  req["oldObject"]["metadata"]["labels"] = req["object"]["metadata"]["labels"];
  for (auto* o : {&req["object"], &req["oldObject"]}) {
    (*o)["metadata"]["deletionTimestamp"] = "2026-05-01T10:00:00Z";
    (*o)["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z";
  }
  req["oldObject"]["metadata"]["finalizers"] = {"example.com/hold"};
  req["object"]["metadata"]["finalizers"] = json::array();
  return review;
}

}  // namespace

TEST_CASE("a policy being deleted may only have its finalizers changed", "[decision]") {
  const char* same = R"({"podSelector":{},"policyTypes":["Ingress","Egress"]})";
  SECTION("finalizer removal is allowed") {
    check_allowed(decide(request_of(terminating_update(same)), only_baseline, enforce()));
    check_allowed(decide(request_of(terminating_update(same)), namespace_snapshot{}, enforce()));
  }
  SECTION("a new spec is refused: the route that kept an allow-all alive") {
    auto d = decide(request_of(terminating_update(
                        R"({"podSelector":{},"policyTypes":["Ingress","Egress"],
                            "ingress":[{}],"egress":[{}]})")),
                    only_baseline, enforce());
    check_denied(d);
    CHECK_THAT(d.response.message, Contains("being deleted") && Contains("finalizers"));
    CHECK_THAT(d.response.message, Contains("\"default-deny-all\""));
  }
  SECTION("new labels are refused too") {
    auto review = terminating_update(same);
    review["request"]["object"]["metadata"]["labels"]["owner"] = "someone-else";
    check_denied(decide(request_of(review), only_baseline, enforce()));
  }
  SECTION("audit-only warns") {
    auto d = decide(request_of(terminating_update(R"({"podSelector":{},"ingress":[{}]})")),
                    only_baseline, audit_only());
    check_audited(d);
  }
  SECTION("a DELETE of a policy already being deleted changes nothing") {
    auto review = fixture("networkpolicy-delete.json");
    review["request"]["oldObject"]["metadata"]["deletionTimestamp"] = "2026-05-01T10:00:00Z";
    check_allowed(decide(request_of(review), only_baseline, enforce()));
  }
}

TEST_CASE("a policy being deleted provides no coverage: the finalizer route", "[decision]") {
  // default-deny-all held by a finalizer and already deleted; backup is the only
  // live deny-all. The state is built the way every source builds it.
  auto policy = [](const char* name, const char* created, bool deleting) {
    json p{{"apiVersion", "networking.k8s.io/v1"},
           {"kind", "NetworkPolicy"},
           {"metadata", {{"name", name}, {"namespace", "team-a"}, {"creationTimestamp", created}}},
           {"spec", {{"podSelector", json::object()}, {"policyTypes", {"Ingress", "Egress"}}}}};
    if (deleting) {
      p["metadata"]["deletionTimestamp"] = "2026-05-01T10:00:00Z";
      p["metadata"]["finalizers"] = {"example.com/hold"};
    }
    return p;
  };
  namespace_index index;
  std::string error;
  REQUIRE(index_policy(index, policy("default-deny-all", t_old, true), error));
  REQUIRE(index_policy(index, policy("backup", t_new, false), error));
  auto state = index.freeze("test");
  CHECK(state->coverage("team-a") == both);
  REQUIRE(state->find("team-a")->baselines.size() == 1);
  CHECK(state->find("team-a")->baselines[0].name == "backup");

  SECTION("deleting backup is refused: the terminating policy does not count") {
    auto d = decide(request_of(delete_of("backup", t_new,
                                         R"({"podSelector":{},"policyTypes":["Ingress","Egress"]})")),
                    *state, enforce());
    check_denied(d);
    CHECK_THAT(d.response.message, Contains("\"backup\""));
  }
  SECTION("without backup a Pod is denied") {
    namespace_index only_terminating;
    REQUIRE(index_policy(only_terminating, policy("default-deny-all", t_old, true), error));
    auto r = request_of(pod_in("team-a"));
    check_pod_creator_denied(decide(r, *only_terminating.freeze("t"), enforce()), "team-a",
                             "both");
  }
}

TEST_CASE("a decoy default-deny-all is named in the Pod's denial", "[decision]") {
  namespace_index index;
  index.upsert_policy("team-a", "default-deny-all", ingress_only);
  auto d = decide(request_of(pod_in("team-a")), *index.freeze("t"), enforce());
  check_pod_creator_denied(d, "team-a", "egress");
  CHECK_THAT(d.response.message,
             Contains("NetworkPolicy named \"default-deny-all\" there is not a deny-all"));
  SECTION("not when the template's name holds a real deny-all") {
    index.upsert_policy("team-a", "default-deny-all", both);
    check_allowed(decide(request_of(pod_in("team-a")), *index.freeze("t"), enforce()));
    index.upsert_policy("team-a", "default-deny-all", none);
    index.upsert_policy("team-a", "deny-all", both);
    CHECK(index.freeze("t")->find("team-a")->template_name_taken);
    index.remove_policy("team-a", "default-deny-all");
    CHECK_FALSE(index.freeze("t")->find("team-a")->template_name_taken);
  }
}

TEST_CASE("baseline protection: exempt, switched off, audit-only", "[decision]") {
  SECTION("exempt namespace") {
    auto review = fixture("networkpolicy-delete.json");
    review["request"]["namespace"] = "kube-system";
    review["request"]["oldObject"]["metadata"]["namespace"] = "kube-system";
    auto state = snapshot_of({{"kube-system", "default-deny-all", both}});
    check_allowed(decide(request_of(review), state, enforce()));
  }
  SECTION("protect_baseline=false") {
    decision_config c;
    c.protect_baseline = false;
    check_allowed(decide(request_of(fixture("networkpolicy-delete.json")), only_baseline, c));
    auto narrowed = update_with_spec(R"({"podSelector":{"matchLabels":{"a":"b"}}})");
    check_allowed(decide(request_of(narrowed), only_baseline, c));
  }
  SECTION("audit-only gives a warning instead") {
    auto r = request_of(fixture("networkpolicy-delete.json"));
    auto d = decide(r, only_baseline, audit_only());
    check_audited(d);
    CHECK_THAT(d.response.warnings[0], Contains("default-deny-all"));
    auto out = wire(r, d);
    CHECK(out.at("response").at("allowed") == true);
    CHECK_FALSE(out.at("response").contains("status"));
  }
}

// ---------------------------------------------------------------------------
// Helpers bound by the apiserver's rules
// ---------------------------------------------------------------------------

namespace {

// Whether `s` is valid UTF-8 with no C0 or C1 control characters, as the
// apiserver requires of a warning (utf8.ValidString, unicode.IsControl).
bool valid_warning_text(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80            ? 1
                      : (c >> 5) == 0x6   ? 2
                      : (c >> 4) == 0xE   ? 3
                      : (c >> 3) == 0x1E  ? 4
                                          : 0;
    if (len == 0 || i + len > s.size()) return false;
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) {
      return false;  // overlong
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return false;
    i += len;
  }
  return true;
}

}  // namespace

TEST_CASE("to_warning: at most 256 bytes, no control characters", "[decision]") {
  CHECK(to_warning("CIS 5.3.2: short") == "CIS 5.3.2: short");
  CHECK(to_warning("a\nb\rc\td\x01" "e\x7f") == "a b c d e ");

  const std::string long_text = "CIS 5.3.2: " + std::string(1000, 'x');
  auto w = to_warning(long_text);
  CHECK(w.size() <= 256);
  CHECK_THAT(w, StartsWith("CIS 5.3.2: xxx"));

  SECTION("cutting never splits a UTF-8 sequence") {
    for (std::size_t pad = 240; pad < 256; ++pad) {
      std::string text = std::string(pad, 'a');
      for (int i = 0; i < 20; ++i) text += "\u00e9\u4e2d\U0001F600";
      auto cut = to_warning(text);
      INFO("pad " << pad);
      CHECK(cut.size() <= 256);
      CHECK(valid_warning_text(cut));
    }
  }
}

TEST_CASE("to_warning removes C1 control characters, which the apiserver rejects",
          "[decision]") {
  // U+0085 (NEL) and U+009B (CSI) are unicode.IsControl: kubectl never sees a
  // warning containing them.
  auto w = to_warning("CIS 5.3.2: a\u0085b\u009b[31mc");
  CHECK(valid_warning_text(w));
}

TEST_CASE("to_warning output is valid UTF-8 for any input", "[decision]") {
  auto w = to_warning(std::string("CIS 5.3.2: bad \xff\xfe bytes \xc3"));
  CHECK(valid_warning_text(w));
}

TEST_CASE("valid_audit_annotation_key follows the apiserver's rule", "[decision]") {
  for (const char* good : {"a", "Z9", "cis-5.3.2-violation", "cis-5.3.2-missing", "a_b.c-d",
                           "0"}) {
    INFO(good);
    CHECK(valid_audit_annotation_key(good));
  }
  CHECK(valid_audit_annotation_key(std::string(63, 'k')));
  for (const char* bad : {"", "-a", "a-", ".a", "a.", "_a", "a_", "a/b", "netpol-guard/x",
                          "a b", "a:b", "é"}) {
    INFO(bad);
    CHECK_FALSE(valid_audit_annotation_key(bad));
  }
  CHECK_FALSE(valid_audit_annotation_key(std::string(64, 'k')));
}

TEST_CASE("verdict names used in metrics and logs", "[decision]") {
  CHECK(std::string(to_string(verdict::allowed)) == "allowed");
  CHECK(std::string(to_string(verdict::denied)) == "denied");
  CHECK(std::string(to_string(verdict::audited)) == "audit");
  CHECK(std::string(to_string(verdict::warned)) == "warned");
}
