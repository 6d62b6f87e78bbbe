#pragma once

// Shared by the decision's tests: fixtures, snapshots and the checks every
// denial, allowance and audit must pass. Requests go through the decoder, as the
// server's do.

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "netpol_guard/admission/decision.hpp"
#include "netpol_guard/admission/review_decoder.hpp"
#include "netpol_guard/admission/review_encoder.hpp"
#include "review_fixtures.hpp"

namespace decision_fixtures {

using namespace netpol_guard;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;

constexpr deny_all_coverage none{false, false};
constexpr deny_all_coverage ingress_only{true, false};
constexpr deny_all_coverage egress_only{false, true};
constexpr deny_all_coverage both{true, true};

using review_fixtures::fixture;

// The fake clock every decision is judged at: 2026-06-01T00:00:00Z.
inline constexpr std::chrono::sys_seconds fixture_now{std::chrono::seconds{1780272000}};

// Requests go through the decoder, as the server's do.
inline admission_request request_of(const json& review) {
  return review_fixtures::decode_ok(review);
}

struct policy_row {
  std::string ns;
  std::string name;
  deny_all_coverage coverage;
  std::string created = {};  // creationTimestamp
};

inline namespace_snapshot snapshot_of(const std::vector<policy_row>& rows,
                                      const std::vector<std::string>& terminating = {}) {
  namespace_index index;
  for (const auto& r : rows) index.upsert_policy(r.ns, r.name, r.coverage, r.created);
  for (const auto& ns : terminating) index.upsert_namespace(ns, true);
  return *index.freeze("test");
}

inline decision_config enforce() { return decision_config{}; }

inline decision_config audit_only() {
  decision_config c;
  c.audit_only = true;
  return c;
}

inline bool has_control_chars(const std::string& s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

inline void check_one_line(const std::string& message) {
  CHECK_THAT(message, StartsWith("CIS 5.3.2"));
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.find('\r') == std::string::npos);
  CHECK_FALSE(has_control_chars(message));
}

// "ingress", "egress" or "both": the message says exactly that direction.
inline void check_direction(const std::string& message, const std::string& missing) {
  if (missing == "both") {
    CHECK_THAT(message, Contains("ingress and egress"));
  } else if (missing == "ingress") {
    CHECK_THAT(message, Contains("ingress") && !Contains("egress"));
  } else {
    CHECK_THAT(message, Contains("egress") && !Contains("ingress"));
  }
}

inline void check_denied(const admission_decision& d) {
  CHECK(d.outcome == verdict::denied);
  CHECK_FALSE(d.response.allowed);
  CHECK(d.response.code == 403);
  CHECK(d.response.reason == "Forbidden");
  CHECK(d.response.warnings.empty());
  CHECK(d.response.audit_annotations.empty());
  check_one_line(d.response.message);
}

inline void check_pod_creator_denied(const admission_decision& d, const std::string& ns,
                                     const std::string& missing) {
  check_denied(d);
  const auto& m = d.response.message;
  CHECK_THAT(m, Contains("\"" + ns + "\""));
  CHECK_THAT(m, Contains("default-deny-all"));
  CHECK_THAT(m, Contains("T1046"));
  check_direction(m, missing);
  CHECK(d.depends_on_state);
}

inline void check_allowed(const admission_decision& d) {
  CHECK(d.outcome == verdict::allowed);
  CHECK(d.response.allowed);
  CHECK(d.response.message.empty());
  CHECK(d.response.warnings.empty());
  CHECK(d.response.audit_annotations.empty());
}

// Audit-only: allowed, the would-be denial as a warning and audit annotations
// the apiserver accepts.
inline void check_audited(const admission_decision& d) {
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
inline json wire(const admission_request& r, const admission_decision& d) {
  return json::parse(encode_admission_review(r, d.response));
}

inline json pod_in(const std::string& ns) {
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
    {"apps", "v1", "deployments", "Deployment"},
    {"apps", "v1", "replicasets", "ReplicaSet"},
    {"apps", "v1", "statefulsets", "StatefulSet"},
    {"apps", "v1", "daemonsets", "DaemonSet"},
    {"batch", "v1", "jobs", "Job"},
    {"batch", "v1", "cronjobs", "CronJob"},
};

inline json workload_review(const workload& w, const std::string& ns) {
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

inline json namespace_review(const std::string& name) {
  auto review = fixture("namespace-create.json");
  review["request"]["name"] = name;
  review["request"]["namespace"] = name;
  review["request"]["object"]["metadata"]["name"] = name;
  review["request"]["object"]["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
  return review;
}

}  // namespace decision_fixtures
