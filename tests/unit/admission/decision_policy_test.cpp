#include "decision_fixtures.hpp"
#include "netpol_guard/admission/decision.hpp"
#include "netpol_guard/netpol/manifest_loader.hpp"
#include "netpol_guard/netpol/object.hpp"

// NetworkPolicy UPDATE and DELETE: the pinned baseline is protected.

using namespace decision_fixtures;

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
  auto d = decide(r, only_baseline, enforce(), fixture_now);
  check_policy_change_denied(d, "both");
  CHECK_THAT(d.response.message, Contains("delet"));
  CHECK(d.depends_on_state);
  CHECK(d.coverage == none);

  SECTION("also when the apiserver sends no oldObject: the cached copy decides") {
    auto review = fixture("networkpolicy-delete.json");
    review["request"]["oldObject"] = nullptr;
    check_policy_change_denied(decide(request_of(review), only_baseline, enforce(), fixture_now),
                               "both");
  }
  SECTION("also when the cache has not seen the policy yet: oldObject decides") {
    check_policy_change_denied(decide(r, namespace_snapshot{}, enforce(), fixture_now), "both");
  }
}

TEST_CASE("DELETE of one half of a split baseline names the lost direction", "[decision]") {
  auto state = snapshot_of(
      {{"team-a", "default-deny-all", egress_only}, {"team-a", "deny-in", ingress_only}});
  auto review = fixture("networkpolicy-delete.json");
  review["request"]["oldObject"]["spec"]["policyTypes"] = {"Egress"};
  auto d = decide(request_of(review), state, enforce(), fixture_now);
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
    auto d = decide(request_of(review), state, enforce(), fixture_now);
    check_policy_change_denied(d, "both");
    CHECK(d.response.message.find("oldest") != std::string::npos);
  }
  SECTION("the newer one may go: the oldest stays") {
    auto d =
        decide(request_of(delete_of("default-deny-all-v2", t_new,
                                    R"({"podSelector":{},"policyTypes":["Ingress","Egress"]})")),
               state, enforce(), fixture_now);
    check_allowed(d);
    CHECK(d.coverage == both);
  }
  SECTION("created in the same second: the name decides, the same way on every replica") {
    auto same = snapshot_of({{"team-a", "default-deny-all", both, t_old},
                             {"team-a", "default-deny-all-v2", both, t_old}});
    check_policy_change_denied(decide(request_of(review), same, enforce(), fixture_now), "both");
    check_allowed(
        decide(request_of(delete_of("default-deny-all-v2", t_old,
                                    R"({"podSelector":{},"policyTypes":["Ingress","Egress"]})")),
               same, enforce(), fixture_now));
  }
  SECTION("also when the older coverage is split over two policies") {
    review["request"]["oldObject"]["metadata"]["creationTimestamp"] = t_new;
    auto split = snapshot_of({{"team-a", "default-deny-all", both, t_new},
                              {"team-a", "deny-in", ingress_only, t_old},
                              {"team-a", "deny-out", egress_only, t_old}});
    check_allowed(decide(request_of(review), split, enforce(), fixture_now));
  }
  SECTION("pinned per direction: the oldest ingress and the oldest egress policy") {
    review["request"]["oldObject"]["metadata"]["creationTimestamp"] = t_new;
    auto split = snapshot_of(
        {{"team-a", "default-deny-all", both, t_new}, {"team-a", "deny-in", ingress_only, t_old}});
    auto d = decide(request_of(review), split, enforce(), fixture_now);
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
              return decide(request_of(upd), state, enforce(), fixture_now);
            }
            return decide(request_of(review), state, enforce(), fixture_now);
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
    check_allowed(decide(request_of(review), only_baseline, enforce(), fixture_now));
  }
  SECTION("in a namespace that had no coverage to lose") {
    auto review = fixture("networkpolicy-delete.json");
    review["request"]["oldObject"]["spec"]["ingress"] = json::array({json::object()});
    review["request"]["oldObject"]["spec"]["egress"] = json::array({json::object()});
    check_allowed(decide(request_of(review), namespace_snapshot{}, enforce(), fixture_now));
  }
}

TEST_CASE("UPDATE that weakens the baseline is denied", "[decision]") {
  SECTION("adds ingress [{}]") {
    auto d = decide(request_of(update_with_spec(
                        R"({"podSelector":{},"policyTypes":["Ingress","Egress"],"ingress":[{}]})")),
                    only_baseline, enforce(), fixture_now);
    check_policy_change_denied(d, "ingress");
    CHECK(d.coverage == egress_only);
  }
  SECTION("adds egress [{}]") {
    auto d = decide(request_of(update_with_spec(
                        R"({"podSelector":{},"policyTypes":["Ingress","Egress"],"egress":[{}]})")),
                    only_baseline, enforce(), fixture_now);
    check_policy_change_denied(d, "egress");
  }
  SECTION("narrows the podSelector") {
    auto d = decide(request_of(update_with_spec(
                        R"({"podSelector":{"matchLabels":{"app":"web"}},
                            "policyTypes":["Ingress","Egress"]})")),
                    only_baseline, enforce(), fixture_now);
    check_policy_change_denied(d, "both");
  }
  SECTION("removes the Egress policyType") {
    auto d = decide(request_of(update_with_spec(R"({"podSelector":{},"policyTypes":["Ingress"]})")),
                    only_baseline, enforce(), fixture_now);
    check_policy_change_denied(d, "egress");
  }
  SECTION("removes the Ingress policyType") {
    auto d = decide(request_of(update_with_spec(R"({"podSelector":{},"policyTypes":["Egress"]})")),
                    only_baseline, enforce(), fixture_now);
    check_policy_change_denied(d, "ingress");
  }
  SECTION("drops policyTypes, leaving egress [] to the defaulting trap") {
    auto d = decide(request_of(update_with_spec(R"({"podSelector":{},"egress":[]})")),
                    only_baseline, enforce(), fixture_now);
    check_policy_change_denied(d, "egress");
  }
  SECTION("denied from the request's own objects when the cache is empty") {
    auto d = decide(request_of(update_with_spec(R"({"podSelector":{},"policyTypes":["Ingress"]})")),
                    namespace_snapshot{}, enforce(), fixture_now);
    check_policy_change_denied(d, "egress");
  }
}

TEST_CASE("UPDATE that keeps coverage is allowed", "[decision]") {
  SECTION("a relabel") {
    auto d = decide(request_of(fixture("networkpolicy-update.json")), only_baseline, enforce(),
                    fixture_now);
    check_allowed(d);
    CHECK(d.coverage == both);
  }
  SECTION("an equivalent spec: empty selector and rule lists spelled out") {
    auto d = decide(request_of(update_with_spec(
                        R"({"podSelector":{"matchLabels":{},"matchExpressions":[]},
                            "policyTypes":["Egress","Ingress"],"ingress":[],"egress":[]})")),
                    only_baseline, enforce(), fixture_now);
    check_allowed(d);
  }
  SECTION("a weakening that an older policy still covers") {
    auto state =
        snapshot_of({{"team-a", "default-deny-all", both, "2026-06-01T00:00:00Z"},
                     {"team-a", "deny-ingress-too", ingress_only, "2026-01-01T00:00:00Z"}});
    // Ingress from the namespace's own pods: weaker, and not an allow-all (below).
    auto review = update_with_spec(R"({"podSelector":{},"policyTypes":["Ingress","Egress"],)"
                                   R"("ingress":[{"from":[{"podSelector":{}}]}]})");
    review["request"]["oldObject"]["metadata"]["creationTimestamp"] = "2026-06-01T00:00:00Z";
    check_allowed(decide(request_of(review), state, enforce(), fixture_now));
    SECTION("an allow-all weakening is allowed too, with its warning") {
      auto open = update_with_spec(
          R"({"podSelector":{},"policyTypes":["Ingress","Egress"],"ingress":[{}]})");
      open["request"]["oldObject"]["metadata"]["creationTimestamp"] = "2026-06-01T00:00:00Z";
      auto d = decide(request_of(open), state, enforce(), fixture_now);
      CHECK(d.outcome == verdict::warned);
      CHECK(d.response.allowed);
      REQUIRE(d.response.warnings.size() == 1);
      CHECK_THAT(d.response.warnings[0], Contains("spec.ingress[0]"));
    }
    SECTION("but not when the other policy is the newer one") {
      review["request"]["oldObject"]["metadata"]["creationTimestamp"] = "2025-06-01T00:00:00Z";
      check_policy_change_denied(decide(request_of(review), state, enforce(), fixture_now),
                                 "ingress");
    }
  }
  SECTION("a change that strengthens") {
    auto review = update_with_spec(R"({"podSelector":{},"policyTypes":["Ingress","Egress"]})");
    review["request"]["oldObject"]["spec"] = json::parse(R"({"podSelector":{},"egress":[]})");
    auto state = snapshot_of({{"team-a", "default-deny-all", ingress_only}});
    check_allowed(decide(request_of(review), state, enforce(), fixture_now));
  }
}

TEST_CASE("policy changes in a terminating namespace are allowed", "[decision]") {
  auto del = request_of(fixture("networkpolicy-delete.json"));
  SECTION("the namespace is terminating in the state") {
    auto state = snapshot_of({{"team-a", "default-deny-all", both}}, {"team-a"});
    check_allowed(decide(del, state, enforce(), fixture_now));
    auto weaken = request_of(update_with_spec(R"({"podSelector":{},"policyTypes":["Ingress"]})"));
    check_allowed(decide(weaken, state, enforce(), fixture_now));
  }
  SECTION("the namespace controller is deleting in a terminating namespace") {
    auto review = fixture("networkpolicy-delete.json");
    review["request"]["userInfo"]["username"] =
        "system:serviceaccount:kube-system:namespace-controller";
    auto state = snapshot_of({{"team-a", "default-deny-all", both}}, {"team-a"});
    check_allowed(decide(request_of(review), state, enforce(), fixture_now));
  }
}

TEST_CASE("controllers get no exception in a namespace that is not terminating", "[decision]") {
  // With --use-service-account-credentials=false every controller, the garbage
  // collector included, acts as system:kube-controller-manager.
  for (const char* user :
       {"system:serviceaccount:kube-system:namespace-controller", "system:kube-controller-manager",
        "system:serviceaccount:kube-system:generic-garbage-collector"}) {
    INFO(user);
    auto review = fixture("networkpolicy-delete.json");
    review["request"]["userInfo"]["username"] = user;
    check_denied(decide(request_of(review), only_baseline, enforce(), fixture_now));
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
    check_allowed(
        decide(request_of(terminating_update(same)), only_baseline, enforce(), fixture_now));
    check_allowed(
        decide(request_of(terminating_update(same)), namespace_snapshot{}, enforce(), fixture_now));
  }
  SECTION("a new spec is refused: the route that kept an allow-all alive") {
    auto d = decide(request_of(terminating_update(
                        R"({"podSelector":{},"policyTypes":["Ingress","Egress"],
                            "ingress":[{}],"egress":[{}]})")),
                    only_baseline, enforce(), fixture_now);
    check_denied(d);
    CHECK_THAT(d.response.message, Contains("being deleted") && Contains("finalizers"));
    CHECK_THAT(d.response.message, Contains("\"default-deny-all\""));
  }
  SECTION("new labels are refused too") {
    auto review = terminating_update(same);
    review["request"]["object"]["metadata"]["labels"]["owner"] = "someone-else";
    check_denied(decide(request_of(review), only_baseline, enforce(), fixture_now));
  }
  SECTION("audit-only warns") {
    auto d = decide(request_of(terminating_update(R"({"podSelector":{},"ingress":[{}]})")),
                    only_baseline, audit_only(), fixture_now);
    check_audited(d);
  }
  SECTION("a DELETE of a policy already being deleted changes nothing") {
    auto review = fixture("networkpolicy-delete.json");
    review["request"]["oldObject"]["metadata"]["deletionTimestamp"] = "2026-05-01T10:00:00Z";
    check_allowed(decide(request_of(review), only_baseline, enforce(), fixture_now));
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
  REQUIRE(index_policy(index, policy("default-deny-all", t_old, true)));
  REQUIRE(index_policy(index, policy("backup", t_new, false)));
  auto state = index.freeze("test");
  CHECK(state->coverage("team-a") == both);
  REQUIRE(state->find("team-a")->baselines.size() == 1);
  CHECK(state->find("team-a")->baselines[0].name == "backup");

  SECTION("deleting backup is refused: the terminating policy does not count") {
    auto d =
        decide(request_of(delete_of("backup", t_new,
                                    R"({"podSelector":{},"policyTypes":["Ingress","Egress"]})")),
               *state, enforce(), fixture_now);
    check_denied(d);
    CHECK_THAT(d.response.message, Contains("\"backup\""));
  }
  SECTION("without backup a Pod is denied") {
    namespace_index only_terminating;
    REQUIRE(index_policy(only_terminating, policy("default-deny-all", t_old, true)));
    auto r = request_of(pod_in("team-a"));
    check_pod_creator_denied(decide(r, *only_terminating.freeze("t"), enforce(), fixture_now),
                             "team-a", "both");
  }
}

TEST_CASE("baseline protection: exempt, switched off, audit-only", "[decision]") {
  SECTION("exempt namespace") {
    auto review = fixture("networkpolicy-delete.json");
    review["request"]["namespace"] = "kube-system";
    review["request"]["oldObject"]["metadata"]["namespace"] = "kube-system";
    auto state = snapshot_of({{"kube-system", "default-deny-all", both}});
    check_allowed(decide(request_of(review), state, enforce(), fixture_now));
  }
  SECTION("protect_baseline=false") {
    decision_config c;
    c.protect_baseline = false;
    check_allowed(
        decide(request_of(fixture("networkpolicy-delete.json")), only_baseline, c, fixture_now));
    auto narrowed = update_with_spec(R"({"podSelector":{"matchLabels":{"a":"b"}}})");
    check_allowed(decide(request_of(narrowed), only_baseline, c, fixture_now));
  }
  SECTION("audit-only gives a warning instead") {
    auto r = request_of(fixture("networkpolicy-delete.json"));
    auto d = decide(r, only_baseline, audit_only(), fixture_now);
    check_audited(d);
    CHECK_THAT(d.response.warnings[0], Contains("default-deny-all"));
    auto out = wire(r, d);
    CHECK(out.at("response").at("allowed") == true);
    CHECK_FALSE(out.at("response").contains("status"));
  }
}

// ---------------------------------------------------------------------------
// Allow-all: a policy that re-opens a whole direction for every pod (issue 13)
// ---------------------------------------------------------------------------

namespace {

// An UPDATE of policy "open-ingress" (not a baseline) in team-a to `spec`.
json open_update(const char* spec) {
  auto review = update_with_spec(spec);
  auto& r = review["request"];
  r["name"] = "open-ingress";
  r["object"]["metadata"]["name"] = "open-ingress";
  r["oldObject"]["metadata"]["name"] = "open-ingress";
  r["oldObject"]["spec"] = json::parse(R"({"podSelector":{"matchLabels":{"app":"web"}}})");
  return review;
}

json create_with_spec(const char* spec) {
  auto review = open_update(spec);
  review["request"]["operation"] = "CREATE";
  review["request"]["oldObject"] = nullptr;
  return review;
}

constexpr const char* allow_all_ingress = R"({"podSelector":{},"ingress":[{}]})";

namespace_snapshot team_a_in(namespace_mode m) {
  namespace_index index;
  namespace_settings s;
  s.mode = m;
  index.upsert_namespace(namespace_record{"team-a", false, s});
  index.upsert_policy("team-a", "default-deny-all", both);
  return *index.freeze("test");
}

}  // namespace

TEST_CASE("an allow-all NetworkPolicy is warned, naming the rule", "[decision][allow-all]") {
  for (const auto& review : {create_with_spec(allow_all_ingress), open_update(allow_all_ingress)}) {
    INFO(review["request"]["operation"]);
    const auto r = request_of(review);
    const auto name = r.object.name;
    auto d = decide(r, only_baseline, enforce(), fixture_now);
    CHECK(d.outcome == verdict::warned);
    CHECK(d.response.allowed);
    REQUIRE(d.response.warnings.size() == 1);
    const auto& w = d.response.warnings[0];
    CHECK_THAT(w, StartsWith("CIS 5.3.2: NetworkPolicy \"" + name + "\" spec.ingress[0]"));
    CHECK_THAT(w, Contains("allows all ingress") && Contains("\"team-a\""));
    CHECK(d.response.audit_annotations.empty());
    CHECK(d.subject.kind == "NetworkPolicy");
  }
  SECTION("egress to 0.0.0.0/0, without ports") {
    auto d = decide(request_of(create_with_spec(
                        R"({"podSelector":{},"policyTypes":["Egress"],
                            "egress":[{"to":[{"ipBlock":{"cidr":"0.0.0.0/0"}}]}]})")),
                    only_baseline, enforce(), fixture_now);
    CHECK(d.outcome == verdict::warned);
    REQUIRE(d.response.warnings.size() == 1);
    CHECK_THAT(d.response.warnings[0], Contains("spec.egress[0]") && Contains("all egress"));
  }
  SECTION("protect_baseline=false still warns") {
    auto c = enforce();
    c.protect_baseline = false;
    auto d = decide(request_of(open_update(allow_all_ingress)), only_baseline, c, fixture_now);
    CHECK(d.outcome == verdict::warned);
  }
  SECTION("a rule with ports, or a narrowed selector, is not allow-all") {
    check_allowed(decide(
        request_of(create_with_spec(R"({"podSelector":{},"ingress":[{"ports":[{"port":80}]}]})")),
        only_baseline, enforce(), fixture_now));
    check_allowed(decide(request_of(create_with_spec(
                             R"({"podSelector":{"matchLabels":{"app":"web"}},"ingress":[{}]})")),
                         only_baseline, enforce(), fixture_now));
  }
  SECTION("an exempt namespace is not judged") {
    auto review = create_with_spec(allow_all_ingress);
    review["request"]["namespace"] = "kube-system";
    review["request"]["object"]["metadata"]["namespace"] = "kube-system";
    check_allowed(decide(request_of(review), only_baseline, enforce(), fixture_now));
  }
}

TEST_CASE("with --deny-allow-all it is refused, as the namespace's mode says",
          "[decision][allow-all]") {
  auto c = enforce();
  c.deny_allow_all = true;
  SECTION("enforcing: 403 with the same text") {
    for (const auto& review :
         {create_with_spec(allow_all_ingress), open_update(allow_all_ingress)}) {
      auto d = decide(request_of(review), only_baseline, c, fixture_now);
      check_denied(d);
      CHECK_THAT(d.response.message, Contains("spec.ingress[0] allows all ingress"));
      CHECK_FALSE(d.depends_on_state);
    }
  }
  SECTION("independent of protect_baseline") {
    c.protect_baseline = false;
    check_denied(
        decide(request_of(create_with_spec(allow_all_ingress)), only_baseline, c, fixture_now));
  }
  SECTION("a warn namespace: audited") {
    auto d = decide(request_of(create_with_spec(allow_all_ingress)),
                    team_a_in(namespace_mode::warn), c, fixture_now);
    check_audited(d);
    CHECK_THAT(d.response.warnings[0], Contains("spec.ingress[0]"));
  }
  SECTION("--audit-only: audited, unless the namespace says enforce") {
    c.audit_only = true;
    check_audited(
        decide(request_of(create_with_spec(allow_all_ingress)), only_baseline, c, fixture_now));
    check_denied(decide(request_of(create_with_spec(allow_all_ingress)),
                        team_a_in(namespace_mode::enforce), c, fixture_now));
  }
  SECTION("a policy being deleted may still lose its finalizers") {
    auto review = open_update(allow_all_ingress);
    review["request"]["oldObject"]["metadata"]["deletionTimestamp"] = "2026-06-01T00:00:00Z";
    review["request"]["object"]["metadata"]["deletionTimestamp"] = "2026-06-01T00:00:00Z";
    review["request"]["oldObject"]["spec"] = json::parse(allow_all_ingress);
    review["request"]["oldObject"]["metadata"] = review["request"]["object"]["metadata"];
    review["request"]["object"]["metadata"].erase("finalizers");
    check_allowed(decide(request_of(review), only_baseline, c, fixture_now));
  }
}

TEST_CASE("losing the pinned baseline outranks the allow-all warning", "[decision][allow-all]") {
  // default-deny-all turned into an allow-all: the baseline's loss is the answer.
  const auto spec = R"({"podSelector":{},"policyTypes":["Ingress","Egress"],"ingress":[{}]})";
  auto lost = decide(request_of(update_with_spec(spec)), only_baseline, enforce(), fixture_now);
  check_policy_change_denied(lost, "ingress");

  SECTION("in a warn namespace both findings are said") {
    auto d = decide(request_of(update_with_spec(spec)), team_a_in(namespace_mode::warn), enforce(),
                    fixture_now);
    CHECK(d.outcome == verdict::audited);
    CHECK(d.response.allowed);
    REQUIRE(d.response.warnings.size() == 2);
    CHECK_THAT(d.response.warnings[0], Contains("pinned") || Contains("default-deny-all"));
    CHECK_THAT(d.response.warnings[1], Contains("spec.ingress[0] allows all ingress"));
  }
}

TEST_CASE("deny-allow-all refuses what an UPDATE newly opens", "[decision][allow-all]") {
  auto c = enforce();
  c.deny_allow_all = true;
  SECTION("an already-open policy's UPDATE is only warned about") {
    auto review = open_update(allow_all_ingress);
    review["request"]["oldObject"]["spec"] = json::parse(allow_all_ingress);
    review["request"]["object"]["metadata"]["labels"] = {{"team", "a"}};
    auto d = decide(request_of(review), only_baseline, c, fixture_now);
    CHECK(d.outcome == verdict::warned);
    REQUIRE(d.response.warnings.size() == 1);
    CHECK_THAT(d.response.warnings[0], Contains("spec.ingress[0] allows all ingress"));
  }
  SECTION("opening egress beside an open ingress is refused") {
    const auto both_open = R"({"podSelector":{},"policyTypes":["Ingress","Egress"],
                               "ingress":[{}],"egress":[{}]})";
    auto review = open_update(both_open);
    review["request"]["oldObject"]["spec"] = json::parse(allow_all_ingress);
    auto d = decide(request_of(review), only_baseline, c, fixture_now);
    check_denied(d);
    CHECK_THAT(d.response.message,
               Contains("spec.ingress[0] and spec.egress[0] allow all ingress to and egress from"));
  }
}
