#include "netpol_guard/netpol/namespace_compliance.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace netpol_guard;

namespace {

const std::set<std::string, std::less<>> exempt{"kube-system"};

namespace_entry entry_with(deny_all_coverage c, bool template_name_taken = false) {
  namespace_entry e;
  if (c.any()) e.baselines.push_back({"deny", c, ""});
  e.template_name_taken = template_name_taken;
  return e;
}

}  // namespace

TEST_CASE("a namespace is evaluated from its deny-all coverage and the exemptions",
          "[namespace_compliance]") {
  SECTION("unknown namespace: nothing covered, pods refused") {
    auto c = evaluate_namespace("team-a", nullptr, evaluation_context{exempt});
    CHECK_FALSE(c.exempt);
    CHECK(c.coverage == deny_all_coverage{false, false});
    CHECK_FALSE(c.compliant());
    CHECK(c.refuses_pods());
  }
  SECTION("both directions covered: compliant") {
    auto e = entry_with({true, true});
    auto c = evaluate_namespace("team-a", &e, evaluation_context{exempt});
    CHECK(c.compliant());
    CHECK_FALSE(c.refuses_pods());
  }
  SECTION("one direction: refused, and the coverage says which") {
    auto e = entry_with({false, true}, /*template_name_taken=*/true);
    auto c = evaluate_namespace("team-a", &e, evaluation_context{exempt});
    CHECK(c.coverage == deny_all_coverage{false, true});
    CHECK(c.template_name_taken);
    CHECK(c.refuses_pods());
  }
  SECTION("exempt: never refused, though not compliant") {
    auto c = evaluate_namespace("kube-system", nullptr, evaluation_context{exempt});
    CHECK(c.exempt);
    CHECK_FALSE(c.compliant());
    CHECK_FALSE(c.refuses_pods());
  }
}

TEST_CASE("the finding's words", "[namespace_compliance]") {
  CHECK(no_default_deny({true, false}) == "no default-deny egress NetworkPolicy");
  CHECK(no_default_deny({false, false}) == "no default-deny ingress and egress NetworkPolicy");
  CHECK(template_summary() == "default-deny-all (podSelector {}, policyTypes [Ingress, Egress])");

  namespace_compliance none;
  CHECK(violation_message(none, "team-a", "Pod \"web\"") ==
        "CIS 5.3.2: namespace \"team-a\" has no default-deny ingress and egress NetworkPolicy, "
        "which Pod \"web\" requires (MITRE ATT&CK T1046). Fix: apply the template's "
        "default-deny-all (podSelector {}, policyTypes [Ingress, Egress]) to namespace "
        "\"team-a\".");

  namespace_compliance egress_missing;
  egress_missing.coverage = {true, false};
  egress_missing.template_name_taken = true;
  CHECK(violation_message(egress_missing, "team-b", "Deployment") ==
        "CIS 5.3.2: namespace \"team-b\" has no default-deny egress NetworkPolicy, which "
        "Deployment requires (MITRE ATT&CK T1046). Fix: apply default-deny-all, or a policy "
        "with podSelector {}, policyTypes [Egress] and no egress rules, to namespace "
        "\"team-b\". Note: the NetworkPolicy named \"default-deny-all\" there is not a "
        "deny-all (it selects only some pods or has rules); replace it with the template.");
}

namespace {

using namespace std::chrono;

const sys_seconds t0 = sys_days{year{2026} / January / 1};

namespace_entry entry_exempt(deny_all_coverage policies, std::string directions,
                             std::string until = "2026-01-01T00:00:00Z") {
  auto e = entry_with(policies);
  e.settings =
      settings_from_keys({std::nullopt, std::move(directions), "migration", std::move(until)});
  REQUIRE(e.settings.exempt.has_value());
  return e;
}

}  // namespace

TEST_CASE("the effective mode: a valid label, else the global mode", "[namespace_compliance]") {
  struct row {
    std::optional<std::string> label;
    bool audit_only;
    namespace_mode expected;
  };
  for (const auto& r : std::vector<row>{{std::nullopt, false, namespace_mode::enforce},
                                        {std::nullopt, true, namespace_mode::warn},
                                        {"enforce", false, namespace_mode::enforce},
                                        {"enforce", true, namespace_mode::enforce},
                                        {"warn", false, namespace_mode::warn},
                                        {"warn", true, namespace_mode::warn},
                                        {"Warn", false, namespace_mode::enforce},
                                        {"Warn", true, namespace_mode::warn}}) {
    INFO(r.label.value_or("(unset)") << " audit_only=" << r.audit_only);
    namespace_entry e;
    namespace_keys keys;
    keys.mode = r.label;
    e.settings = settings_from_keys(keys);
    auto c = evaluate_namespace("team-a", &e, evaluation_context{exempt, r.audit_only});
    CHECK(c.mode == r.expected);
    CHECK(c.enforced() == (r.expected == namespace_mode::enforce));
    CHECK(c.settings_invalid.empty() == (r.label != "Warn"));
  }
  // Nothing known of the namespace: the global mode.
  CHECK(evaluate_namespace("x", nullptr, evaluation_context{exempt, true}).mode ==
        namespace_mode::warn);
  CHECK(evaluate_namespace("x", nullptr, evaluation_context{exempt, false}).mode ==
        namespace_mode::enforce);
}

TEST_CASE("an exemption covers its missing directions until it expires", "[namespace_compliance]") {
  SECTION("active: both directions exempted, admitted by exemption") {
    auto e = entry_exempt({}, "all");
    auto c = evaluate_namespace("team-a", &e, evaluation_context{exempt, false, false, t0 - 1s});
    CHECK(c.exempted == deny_all_coverage{true, true});
    CHECK(c.expired == deny_all_coverage{});
    CHECK(c.effective() == deny_all_coverage{true, true});
    CHECK_FALSE(c.compliant());
    CHECK_FALSE(c.refuses_pods());
    CHECK(c.by_exemption());
    REQUIRE(c.exempt_detail.has_value());
    CHECK(c.exempt_detail->until_text == "2026-01-01T00:00:00Z");
    CHECK(exemption_annotations(c) == std::vector<std::pair<std::string, std::string>>{
                                          {"cis-5.3.2-exempt", "ingress,egress"},
                                          {"cis-5.3.2-exempt-reason", "migration"},
                                          {"cis-5.3.2-exempt-until", "2026-01-01T00:00:00Z"}});
  }
  SECTION("now == until: expired, the missing directions are missing again") {
    auto e = entry_exempt({}, "all");
    auto c = evaluate_namespace("team-a", &e, evaluation_context{exempt, false, false, t0});
    CHECK(c.exempted == deny_all_coverage{});
    CHECK(c.expired == deny_all_coverage{true, true});
    CHECK(c.refuses_pods());
    CHECK_FALSE(c.by_exemption());
    CHECK(violation_message(c, "team-a", "Pod \"web\"") ==
          "CIS 5.3.2: namespace \"team-a\" has no default-deny ingress and egress NetworkPolicy, "
          "which Pod \"web\" requires (MITRE ATT&CK T1046); its exemption expired at "
          "2026-01-01T00:00:00Z. Fix: apply the template's default-deny-all (podSelector {}, "
          "policyTypes [Ingress, Egress]) to namespace \"team-a\".");
  }
  SECTION("a partial exemption plus a policy for the other direction") {
    auto e = entry_exempt({false, true}, "ingress");
    auto c = evaluate_namespace("team-a", &e, evaluation_context{exempt, false, false, t0 - 1h});
    CHECK(c.exempted == deny_all_coverage{true, false});
    CHECK_FALSE(c.refuses_pods());
    CHECK(c.by_exemption());
    CHECK(exemption_annotations(c).at(0).second == "ingress");
  }
  SECTION("only the missing directions count: a covered one is neither exempted nor expired") {
    auto e = entry_exempt({true, false}, "all");
    auto active =
        evaluate_namespace("team-a", &e, evaluation_context{exempt, false, false, t0 - 1s});
    CHECK(active.exempted == deny_all_coverage{false, true});
    CHECK(exemption_annotations(active).at(0).second == "egress");
    auto late = evaluate_namespace("team-a", &e, evaluation_context{exempt, false, false, t0});
    CHECK(late.expired == deny_all_coverage{false, true});
    CHECK(late.refuses_pods());
  }
  SECTION("an exemption of the wrong direction leaves the namespace refused, with no expiry note") {
    auto e = entry_exempt({true, false}, "ingress");
    auto c = evaluate_namespace("team-a", &e, evaluation_context{exempt, false, false, t0});
    CHECK(c.expired == deny_all_coverage{});
    CHECK(c.refuses_pods());
    CHECK(violation_message(c, "team-a", "Pod").find("expired") == std::string::npos);
  }
  SECTION("a compliant namespace is not admitted by exemption") {
    auto e = entry_exempt({true, true}, "all");
    auto c = evaluate_namespace("team-a", &e, evaluation_context{exempt, false, false, t0 - 1s});
    CHECK(c.exempted == deny_all_coverage{});
    CHECK_FALSE(c.by_exemption());
    CHECK(c.compliant());
  }
  SECTION("no exemption: no annotations") {
    CHECK(exemption_annotations(namespace_compliance{}).empty());
  }
}

TEST_CASE("policies that re-open a direction are named", "[namespace_compliance]") {
  auto e = entry_with({true, true});
  e.negating = {{"allow-all", {true, false}, "spec.ingress[0]"},
                {"open-egress", {false, true}, "spec.egress[1]"}};
  auto c = evaluate_namespace("team-a", &e, evaluation_context{exempt});
  CHECK(c.negated == deny_all_coverage{true, true});
  CHECK(c.negated_by == std::vector<std::string>{"allow-all", "open-egress"});
  CHECK(c.compliant());

  CHECK(allow_all_message("allow-all", {{true, false}, "spec.ingress[0]"}, "x") ==
        "CIS 5.3.2: NetworkPolicy \"allow-all\" spec.ingress[0] allows all ingress to every pod "
        "of namespace \"x\", which cancels its default deny (MITRE ATT&CK T1046). Fix: list the "
        "sources and ports the pods need.");
  CHECK(allow_all_message("n", {{true, true}, "spec.ingress[0] and spec.egress[1]"}, "x") ==
        "CIS 5.3.2: NetworkPolicy \"n\" spec.ingress[0] and spec.egress[1] allow all ingress to "
        "and egress from every pod of namespace \"x\", which cancels its default deny (MITRE "
        "ATT&CK T1046). Fix: list the sources, destinations and ports the pods need.");
  CHECK(allow_all_message("n", {{false, true}, "spec.egress[2]"}, "x") ==
        "CIS 5.3.2: NetworkPolicy \"n\" spec.egress[2] allows all egress from every pod of "
        "namespace \"x\", which cancels its default deny (MITRE ATT&CK T1046). Fix: list the "
        "destinations and ports the pods need.");
}

TEST_CASE("count_exemptions: active, expired, the earliest active expiry",
          "[namespace_compliance]") {
  namespace_map m;
  m["a"] = entry_exempt({}, "all", "2026-03-01T00:00:00Z");
  m["b"] = entry_exempt({}, "ingress", "2026-02-01T00:00:00Z");
  m["c"] = entry_exempt({}, "egress", "2025-12-01T00:00:00Z");
  m["kube-system"] = entry_exempt({}, "all", "2026-01-15T00:00:00Z");  // --exempt-namespaces
  m["plain"] = entry_with({true, true});
  namespace_snapshot snap(std::move(m));

  auto g = count_exemptions(snap, evaluation_context{exempt, false, false, t0});
  CHECK(g.active == 2);
  CHECK(g.expired == 1);
  CHECK(g.earliest_active_expiry == sys_seconds{sys_days{year{2026} / February / 1}});

  auto later = count_exemptions(
      snap, evaluation_context{exempt, false, false, sys_days{year{2026} / March / 1}});
  CHECK(later.active == 0);
  CHECK(later.expired == 3);
  CHECK_FALSE(later.earliest_active_expiry.has_value());
  CHECK(count_exemptions(namespace_snapshot{}, evaluation_context{exempt}).active == 0);
}
