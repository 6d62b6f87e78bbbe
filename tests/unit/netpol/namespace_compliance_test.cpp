#include "netpol_guard/netpol/namespace_compliance.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <string>

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
