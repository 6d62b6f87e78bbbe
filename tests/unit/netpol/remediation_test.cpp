#include "netpol_guard/netpol/remediation.hpp"

#include <catch2/catch.hpp>

#include "netpol_guard/netpol/manifest_loader.hpp"
#include "netpol_guard/netpol/object.hpp"
#include "netpol_guard/netpol/rules.hpp"

using namespace netpol_guard;

namespace {

namespace_report row(std::string name, bool ingress, bool egress) {
  namespace_report r;
  r.name = std::move(name);
  r.coverage = {ingress, egress};
  r.status = ingress && egress ? report_status::pass : report_status::fail;
  return r;
}

}  // namespace

TEST_CASE("remediation renders the template when both directions are missing",
          "[netpol][remediation]") {
  auto plan = plan_remediation(row("team-a", false, false), {}, false);
  REQUIRE(plan.needed());
  REQUIRE(plan.objects.size() == 1);
  CHECK(plan.objects[0] == rules::default_deny_all_policy("team-a"));
  CHECK(plan.conflict.empty());
}

TEST_CASE("remediation denies exactly the missing direction", "[netpol][remediation]") {
  auto egress_only = plan_remediation(row("team-b", true, false), {"deny-in"}, false);
  REQUIRE(egress_only.objects.size() == 1);
  CHECK(egress_only.objects[0]["metadata"]["name"] == "default-deny-egress");
  CHECK(egress_only.objects[0]["spec"]["policyTypes"] == nlohmann::json{"Egress"});
  CHECK(!egress_only.objects[0]["spec"].contains("egress"));
  auto ingress_only = plan_remediation(row("team-b", false, true), {}, false);
  REQUIRE(ingress_only.objects.size() == 1);
  CHECK(ingress_only.objects[0]["metadata"]["name"] == "default-deny-ingress");
  CHECK(ingress_only.objects[0]["spec"]["policyTypes"] == nlohmann::json{"Ingress"});
  // Each is a deny-all of its direction as the webhook reads it.
  for (const auto& o : {egress_only.objects[0], ingress_only.objects[0]}) {
    auto p = summarize_policy(o);
    REQUIRE(p.has_value());
    CHECK(p->coverage.any());
    CHECK(!p->coverage.full());
  }
}

TEST_CASE("remediation never reuses a name an existing policy holds", "[netpol][remediation]") {
  // The template's name is held by a policy that is not a deny-all: two per-direction policies.
  auto r = row("team-c", false, false);
  r.template_name_taken = true;
  auto plan = plan_remediation(r, {"default-deny-all"}, false);
  REQUIRE(plan.objects.size() == 2);
  CHECK(plan.objects[0]["metadata"]["name"] == "default-deny-ingress");
  CHECK(plan.objects[1]["metadata"]["name"] == "default-deny-egress");
  // A per-direction name held too: nothing can be created without modifying it.
  auto blocked = plan_remediation(r, {"default-deny-all", "default-deny-egress"}, false);
  CHECK(blocked.objects.empty());
  CHECK(blocked.needed());
  CHECK_THAT(blocked.conflict, Catch::Contains("default-deny-egress"));
}

TEST_CASE("remediation leaves exempt, compliant and re-opened namespaces alone",
          "[netpol][remediation]") {
  auto exempt = row("kube-system", false, false);
  exempt.exempt = true;
  CHECK(!plan_remediation(exempt, {}, true).needed());
  CHECK(!plan_remediation(row("ok", true, true), {}, true).needed());
  auto warn = row("open", true, true);
  warn.status = report_status::warn;
  warn.negated_by = {"allow-all"};
  CHECK(plan_remediation(warn, {}, true).objects.empty());
  // An active exemption of egress: only ingress is denied; an expired one counts for nothing.
  auto partly = row("partly", false, false);
  partly.exemption = report_exemption{{false, true}, "migration", "2030-01-01T00:00:00Z", false};
  auto plan = plan_remediation(partly, {}, true);
  CHECK(plan.deny == deny_all_coverage{true, false});
  REQUIRE(plan.objects.size() == 1);  // no DNS policy: egress stays open
  CHECK(plan.objects[0]["metadata"]["name"] == "default-deny-ingress");
  partly.exemption->expired = true;
  CHECK(plan_remediation(partly, {}, false).deny.full());
}

TEST_CASE("with-dns-egress adds manifests/policies/allow-dns-egress.yaml",
          "[netpol][remediation]") {
  auto objs = load_manifests(
      {std::string(NETPOL_GUARD_SOURCE_DIR) + "/manifests/policies/allow-dns-egress.yaml"});
  INFO((objs ? "" : objs.error().what()));
  REQUIRE(objs.has_value());
  REQUIRE(objs->size() == 1);
  nlohmann::json file = objs->at(0).object;
  file["metadata"]["namespace"] = "team-d";
  CHECK(rules::allow_dns_egress_policy("team-d") == file);
  auto plan = plan_remediation(row("team-d", false, false), {}, true);
  REQUIRE(plan.objects.size() == 2);
  CHECK(plan.objects[1] == file);
  // Already there under its name: not created again.
  CHECK(plan_remediation(row("team-d", false, false), {"allow-dns-egress"}, true).objects.size() ==
        1);
}

TEST_CASE("remediation YAML reads back as the same objects", "[netpol][remediation]") {
  std::vector<nlohmann::json> objects{rules::default_deny_all_policy("team-e"),
                                      rules::allow_dns_egress_policy("team-e"),
                                      deny_direction_policy("team-e", false)};
  const std::string yaml = render_yaml(objects);
  CHECK_THAT(yaml, Catch::StartsWith("---\napiVersion: networking.k8s.io/v1\n"));
  CHECK_THAT(yaml, Catch::Contains("podSelector: {}"));
  auto back = parse_manifests(yaml, "fix.yaml");
  INFO(yaml);
  REQUIRE(back.has_value());
  REQUIRE(back->size() == objects.size());
  for (std::size_t i = 0; i < objects.size(); ++i) CHECK(back->at(i).object == objects[i]);
  // A string YAML would read as a number or a boolean stays a string.
  nlohmann::json tricky{
      {"apiVersion", "v1"},
      {"kind", "Thing"},
      {"spec", {{"a", "53"}, {"b", "true"}, {"c", ""}, {"d", "null"}, {"e", 53}}}};
  auto again = parse_manifests(to_yaml(tricky), "t.yaml");
  REQUIRE(again.has_value());
  CHECK(again->at(0).object == tricky);
}
