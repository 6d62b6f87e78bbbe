#include "decision_fixtures.hpp"
#include "netpol_guard/admission/decision.hpp"

// Pods and workloads under a namespace's own mode and its expiring exemption,
// judged at the fake clock fixture_now (2026-06-01T00:00:00Z).

#include <map>

using namespace decision_fixtures;
using std::chrono::hours;

namespace {

constexpr std::chrono::sys_seconds tomorrow = fixture_now + hours(24);
constexpr std::chrono::sys_seconds yesterday = fixture_now - hours(24);
const std::string tomorrow_text = "2026-06-02T00:00:00Z";
const std::string yesterday_text = "2026-05-31T00:00:00Z";
const std::string reason = "moving the ingress controller (TICKET-42)";

namespace_settings with_mode(namespace_mode m) {
  namespace_settings s;
  s.mode = m;
  return s;
}

namespace_settings exempt(deny_all_coverage dirs, std::chrono::sys_seconds until,
                          const std::string& until_text, namespace_mode m = namespace_mode::unset) {
  namespace_settings s;
  s.mode = m;
  s.exempt = exemption{dirs, reason, until_text, until};
  return s;
}

// team-a with `settings` and the policies `rows` (all in team-a).
namespace_snapshot team_a(const namespace_settings& settings,
                          const std::vector<policy_row>& rows = {}) {
  namespace_index index;
  index.upsert_namespace(namespace_record{"team-a", false, settings});
  for (const auto& r : rows) index.upsert_policy(r.ns, r.name, r.coverage, r.created);
  return *index.freeze("test");
}

std::map<std::string, std::string> annotations_of(const admission_decision& d) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : d.response.audit_annotations) {
    INFO("annotation key " << k);
    CHECK(valid_audit_annotation_key(k));
    out[k] = v;
  }
  return out;
}

// Allowed, with no warning, and the three exemption annotations.
void check_by_exemption(const admission_decision& d, const std::string& directions) {
  CHECK(d.outcome == verdict::allowed);
  CHECK(d.response.allowed);
  CHECK(d.by_exemption);
  CHECK(d.response.warnings.empty());
  CHECK(d.response.message.empty());
  const auto a = annotations_of(d);
  CHECK(a.size() == 3);
  CHECK(a.count("cis-5.3.2-exempt") == 1);
  if (a.count("cis-5.3.2-exempt") == 1) CHECK(a.at("cis-5.3.2-exempt") == directions);
  if (a.count("cis-5.3.2-exempt-reason") == 1) CHECK(a.at("cis-5.3.2-exempt-reason") == reason);
  CHECK(a.count("cis-5.3.2-exempt-reason") == 1);
  if (a.count("cis-5.3.2-exempt-until") == 1) {
    CHECK(a.at("cis-5.3.2-exempt-until") == tomorrow_text);
  }
  CHECK(a.count("cis-5.3.2-exempt-until") == 1);
}

}  // namespace

TEST_CASE("mode=enforce denies pods in an audit-only cluster", "[decision][rollout]") {
  const auto state = team_a(with_mode(namespace_mode::enforce));
  auto d = decide(request_of(pod_in("team-a")), state, audit_only(), fixture_now);
  check_pod_creator_denied(d, "team-a", "both");
  CHECK_FALSE(d.by_exemption);
  SECTION("workloads too") {
    auto w = decide(request_of(workload_review(workloads[0], "team-a")), state, audit_only(),
                    fixture_now);
    check_pod_creator_denied(w, "team-a", "both");
  }
  SECTION("a namespace without the label follows the global mode") {
    check_audited(decide(request_of(pod_in("team-b")), state, audit_only(), fixture_now));
  }
}

TEST_CASE("mode=warn audits pods in an enforcing cluster, as --audit-only does",
          "[decision][rollout]") {
  const auto state = team_a(with_mode(namespace_mode::warn));
  auto d = decide(request_of(pod_in("team-a")), state, enforce(), fixture_now);
  check_audited(d);
  const auto a = annotations_of(d);
  CHECK(a.size() == 2);
  CHECK(a.count("cis-5.3.2-violation") == 1);
  if (a.count("cis-5.3.2-missing") == 1) CHECK(a.at("cis-5.3.2-missing") == "ingress,egress");
  CHECK_THAT(d.response.warnings[0], Contains("\"team-a\""));
  // Exactly the answer --audit-only gives today.
  auto global =
      decide(request_of(pod_in("team-a")), namespace_snapshot{}, audit_only(), fixture_now);
  CHECK(d.response.warnings == global.response.warnings);
  CHECK(d.response.audit_annotations == global.response.audit_annotations);
  SECTION("a compliant namespace is simply allowed") {
    check_allowed(
        decide(request_of(pod_in("team-a")),
               team_a(with_mode(namespace_mode::warn), {{"team-a", "default-deny-all", both}}),
               enforce(), fixture_now));
  }
}

TEST_CASE("an active exemption admits pods, and says so in the audit log", "[decision][rollout]") {
  const auto state = team_a(exempt(both, tomorrow, tomorrow_text));
  for (const auto& cfg : {enforce(), audit_only()}) {
    INFO("audit_only " << cfg.audit_only);
    auto d = decide(request_of(pod_in("team-a")), state, cfg, fixture_now);
    check_by_exemption(d, "ingress,egress");
    CHECK_FALSE(d.depends_on_state);
    auto w = decide(request_of(workload_review(workloads[4], "team-a")), state, cfg, fixture_now);
    check_by_exemption(w, "ingress,egress");
  }
  SECTION("a namespace with its baseline owes nothing to its exemption") {
    auto d = decide(
        request_of(pod_in("team-a")),
        team_a(exempt(both, tomorrow, tomorrow_text), {{"team-a", "default-deny-all", both}}),
        enforce(), fixture_now);
    check_allowed(d);
    CHECK_FALSE(d.by_exemption);
  }
  SECTION("--exempt-namespaces still skips everything") {
    auto cfg = enforce();
    cfg.exempt_namespaces = {"team-a"};
    auto d = decide(request_of(pod_in("team-a")), state, cfg, fixture_now);
    check_allowed(d);
    CHECK_FALSE(d.by_exemption);
  }
}

TEST_CASE("a one-direction exemption covers that direction only", "[decision][rollout]") {
  SECTION("with a baseline for the other direction: admitted by the exemption") {
    auto d = decide(request_of(pod_in("team-a")),
                    team_a(exempt(ingress_only, tomorrow, tomorrow_text),
                           {{"team-a", "deny-egress", egress_only}}),
                    enforce(), fixture_now);
    check_by_exemption(d, "ingress");
  }
  SECTION("without one: denied for the other direction") {
    auto d = decide(request_of(pod_in("team-a")),
                    team_a(exempt(ingress_only, tomorrow, tomorrow_text)), enforce(), fixture_now);
    check_denied(d);
    CHECK(d.coverage == ingress_only);  // what is in force: the exempted direction
    CHECK_FALSE(d.by_exemption);
    CHECK(d.depends_on_state);
  }
  SECTION("audited in warn mode, missing egress") {
    auto d =
        decide(request_of(pod_in("team-a")), team_a(exempt(ingress_only, tomorrow, tomorrow_text)),
               audit_only(), fixture_now);
    check_audited(d);
    const auto a = annotations_of(d);
    REQUIRE(a.count("cis-5.3.2-missing") == 1);
    CHECK(a.at("cis-5.3.2-missing") == "egress");
  }
}

TEST_CASE("an expired exemption denies, and says when it expired", "[decision][rollout]") {
  SECTION("expired yesterday") {
    auto d = decide(request_of(pod_in("team-a")), team_a(exempt(both, yesterday, yesterday_text)),
                    enforce(), fixture_now);
    check_pod_creator_denied(d, "team-a", "both");
    CHECK_THAT(d.response.message, Contains("exemption expired at " + yesterday_text));
    CHECK_FALSE(d.by_exemption);
  }
  SECTION("now == until is expired") {
    auto d =
        decide(request_of(pod_in("team-a")),
               team_a(exempt(both, fixture_now, "2026-06-01T00:00:00Z")), enforce(), fixture_now);
    check_denied(d);
    CHECK_THAT(d.response.message, Contains("exemption expired at 2026-06-01T00:00:00Z"));
  }
  SECTION("one second before, it still admits") {
    auto d = decide(request_of(pod_in("team-a")),
                    team_a(exempt(both, fixture_now + std::chrono::seconds(1), tomorrow_text)),
                    enforce(), fixture_now);
    CHECK(d.outcome == verdict::allowed);
    CHECK(d.by_exemption);
  }
  SECTION("expired in a warn namespace: audited, with the expiry") {
    auto d = decide(request_of(pod_in("team-a")),
                    team_a(exempt(both, yesterday, yesterday_text, namespace_mode::warn)),
                    enforce(), fixture_now);
    check_audited(d);
    CHECK_THAT(d.response.audit_annotations.front().second,
               Contains("exemption expired at " + yesterday_text));
  }
  SECTION("the same exemption, judged a day earlier, admits") {
    auto d = decide(request_of(pod_in("team-a")), team_a(exempt(both, yesterday, yesterday_text)),
                    enforce(), yesterday - hours(1));
    CHECK(d.by_exemption);
  }
}
