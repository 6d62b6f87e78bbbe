#include "netpol_guard/kube/drift_event_record.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "drift_snapshots.hpp"

using namespace netpol_guard;
using namespace netpol_guard::kube;
using nlohmann::json;

namespace {

using testing::both;
using testing::ingress_only;
using testing::none;
using testing::row;
using testing::snap;

const std::chrono::sys_seconds now{std::chrono::seconds(1'800'000'000)};

}  // namespace

TEST_CASE("drift record: transitions only between namespaces present in both",
          "[kube][drift_events]") {
  compliance_tracker t({"kube-system"});
  t.rebase(*snap({{"team-a", both}, {"team-b", none}, {"kube-system", both}}));
  CHECK(t.tracked("team-a"));
  CHECK_FALSE(t.tracked("kube-system"));
  auto out = t.observe(*snap({{"team-a", ingress_only},
                              {"team-b", both},
                              {"kube-system", none},
                              {"new-open", none},
                              {"new-full", both}}),
                       now);
  REQUIRE(out.size() == 2);
  CHECK(out[0].name == "team-a");
  CHECK(out[0].reason == drift_reason::baseline_missing);
  CHECK(out[1].name == "team-b");
  CHECK(out[1].reason == drift_reason::baseline_restored);
  // The same state again: nothing.
  CHECK(t.observe(*snap({{"team-a", ingress_only}, {"team-b", both}, {"new-open", none}}), now)
            .empty());
}

TEST_CASE("drift record: a namespace first seen non-compliant is never restored",
          "[kube][drift_events]") {
  compliance_tracker t({});
  t.rebase(*snap({{"old-open", none}}));
  CHECK(t.observe(*snap({{"old-open", none}, {"new-open", none}}), now).empty());
  // Provisioned (or fixed): compliant for the first time is not a restore...
  auto out = t.observe(*snap({{"old-open", both}, {"new-open", both}}), now);
  REQUIRE(out.size() == 1);
  CHECK(out[0].name == "old-open");  // ... but one non-compliant at the baseline is
  CHECK(out[0].reason == drift_reason::baseline_restored);
  // From then on both drift like any other.
  out = t.observe(*snap({{"old-open", none}, {"new-open", none}}), now);
  REQUIRE(out.size() == 2);
  CHECK(out[0].name == "new-open");
  CHECK(out[0].reason == drift_reason::baseline_missing);
  CHECK(out[1].reason == drift_reason::baseline_missing);
  // A rebase keeps a never-compliant namespace so.
  compliance_tracker u({});
  u.rebase(*snap({}));
  CHECK(u.observe(*snap({{"fresh", none}}), now).empty());
  u.rebase(*snap({{"fresh", none}}));
  CHECK(u.observe(*snap({{"fresh", both}}), now).empty());
}

TEST_CASE("drift record: terminating and policy-only namespaces do not drift",
          "[kube][drift_events]") {
  compliance_tracker t({});
  t.rebase(*snap({{"going", both}, {"ghost", both, false, false}}));
  CHECK(t.tracked("going"));
  CHECK_FALSE(t.tracked("ghost"));
  CHECK(t.observe(*snap({{"going", none, true}, {"ghost", none, false, false}}), now).empty());
  CHECK_FALSE(t.tracked("going"));
  // Back from terminating (not possible in a cluster) reads as a new namespace.
  CHECK(t.observe(*snap({{"going", both}}), now).empty());
}

TEST_CASE("drift record: the notes say the direction, the fix and the effect on pods",
          "[kube][drift_events]") {
  namespace_entry e;
  e.known_namespace = true;
  e.baselines = {{"deny-in", ingress_only, ""}};
  CHECK(drift_note(drift_reason::baseline_missing, "team-a", e, {}, now) ==
        "CIS 5.3.2: namespace \"team-a\" has no default-deny egress NetworkPolicy, which every "
        "new Pod requires (MITRE ATT&CK T1046). Fix: apply default-deny-all, or a policy with "
        "podSelector {}, policyTypes [Egress] and no egress rules, to namespace \"team-a\". "
        "New Pods there are now refused.");
  e.baselines.clear();
  CHECK(drift_note(drift_reason::baseline_missing, "team-a", e, {}, now)
            .find("Fix: apply the template's default-deny-all (podSelector {}, policyTypes "
                  "[Ingress, Egress])") != std::string::npos);
  e.baselines = {{"default-deny-all", both, ""}};
  CHECK(drift_note(drift_reason::baseline_restored, "team-a", e, {}, now) ==
        "CIS 5.3.2: namespace \"team-a\" has default-deny ingress and egress NetworkPolicies "
        "again (default-deny-all). New Pods there are admitted again.");
}

TEST_CASE("drift record: an exemption or mode warn changes what the note says of pods",
          "[kube][drift_events]") {
  namespace_entry e;
  e.known_namespace = true;
  e.baselines = {{"deny-in", ingress_only, ""}};
  e.settings.exempt =
      exemption{{false, true}, "migration", "2030-01-01T00:00:00Z", now + std::chrono::hours(24)};
  CHECK(drift_note(drift_reason::baseline_missing, "team-a", e, {}, now)
            .ends_with("New Pods there are still admitted: an active exemption covers the "
                       "direction."));
  e.settings.exempt.reset();
  e.settings.mode = namespace_mode::warn;
  CHECK(drift_note(drift_reason::baseline_missing, "team-a", e, {}, now)
            .ends_with("New Pods there are admitted with a warning (mode warn)."));
  // The global --audit-only, with no label of the namespace's own.
  e.settings.mode = namespace_mode::unset;
  CHECK(drift_note(drift_reason::baseline_missing, "team-a", e, {}, now)
            .ends_with("New Pods there are now refused."));
  CHECK(drift_note(drift_reason::baseline_missing, "team-a", e, {}, now, true)
            .ends_with("New Pods there are admitted with a warning (mode warn)."));
}

TEST_CASE("drift record: the Event passes the apiserver's events.k8s.io/v1 rules",
          "[kube][drift_events]") {
  using namespace std::chrono;
  const system_clock::time_point t =
      system_clock::time_point(seconds(1'800'000'000)) + microseconds(42) + nanoseconds(7);
  drift_transition d{"team-a", drift_reason::baseline_missing, "lost"};
  json e = drift_event_json(d, std::string(200, 'r'), t);
  CHECK(e["apiVersion"] == "events.k8s.io/v1");
  CHECK(e["kind"] == "Event");
  CHECK(e["metadata"]["namespace"] == "default");
  CHECK(e["metadata"]["name"] == "team-a.18fae27693b4a417");
  CHECK(e["eventTime"] == "2027-01-15T08:00:00.000042Z");
  CHECK(e["reportingController"] == "netpol-guard.k8s-security-pro.io/netpol-guard");
  CHECK(e["reportingInstance"] == std::string(128, 'r'));
  CHECK(e["action"] == "Evaluate");
  CHECK(e["reason"] == "BaselineMissing");
  CHECK(e["type"] == "Warning");
  CHECK(e["regarding"] == json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"name", "team-a"}});
  CHECK(e["note"] == "lost");
  CHECK_FALSE(e.contains("series"));

  d.reason = drift_reason::baseline_restored;
  d.note = std::string(2000, 'n');
  e = drift_event_json(d, "pod-1", t);
  CHECK(e["reason"] == "BaselineRestored");
  CHECK(e["type"] == "Normal");
  CHECK(e["note"].get<std::string>().size() == 1024);
  CHECK(drift_event_json(d, "", t)["reportingInstance"] == "netpol-guard");
  CHECK(events_path() == "/apis/events.k8s.io/v1/namespaces/default/events");
}
