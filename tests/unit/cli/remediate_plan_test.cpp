#include "netpol_guard/cli/remediate_plan.hpp"

#include <catch2/catch.hpp>

#include "netpol_guard/netpol/rules.hpp"

using namespace netpol_guard;
using namespace netpol_guard::cli;
using nlohmann::json;

namespace {

namespace_report row(std::string name, bool ingress, bool egress) {
  namespace_report r;
  r.name = std::move(name);
  r.coverage = {ingress, egress};
  r.status = ingress && egress ? report_status::pass : report_status::fail;
  return r;
}

json ns_object(const std::string& name, const std::string& phase = "Active") {
  return {{"metadata", {{"name", name}}}, {"status", {{"phase", phase}}}};
}

json named(const std::string& ns, const std::string& name, const std::string& phase = "") {
  json o{{"metadata", {{"name", name}, {"namespace", ns}}}};
  if (!phase.empty()) o["status"] = {{"phase", phase}};
  return o;
}

// shop lacks everything and runs two pods (one finished), lab lacks egress,
// done is compliant, gone is being deleted, sys is --exempt-namespaces.
struct cluster {
  compliance_report report;
  std::vector<json> namespaces{ns_object("done"), ns_object("gone", "Terminating"),
                               ns_object("lab"), ns_object("shop"), ns_object("sys")};
  std::vector<json> policies{named("done", "default-deny-all"), named("lab", "deny-in"),
                             named("lab", "allow-web")};
  std::vector<json> pods{named("shop", "web-2", "Pending"), named("shop", "web-1", "Running"),
                         named("shop", "batch", "Succeeded"), named("lab", "api", "Running")};
  cluster() {
    auto sys = row("sys", false, false);
    sys.exempt = true;
    report.namespaces = {row("done", true, true), row("gone", false, false),
                         row("lab", true, false), row("shop", false, false), sys};
  }
};

}  // namespace

TEST_CASE("remediate targets the non-compliant, non-exempt, live namespaces", "[cli][remediate]") {
  cluster c;
  auto s = select_remediations(c.report, c.namespaces, c.policies, c.pods, {}, false);
  REQUIRE(s.targets.size() == 2);
  CHECK(s.targets[0].plan.namespace_name == "lab");
  CHECK(s.targets[0].plan.deny == deny_all_coverage{false, true});
  CHECK(s.targets[0].existing_policies == std::vector<std::string>{"allow-web", "deny-in"});
  CHECK(s.targets[0].running_pods == std::vector<std::string>{"api"});
  CHECK(s.targets[1].plan.namespace_name == "shop");
  // Finished pods lose nothing; the others are listed sorted.
  CHECK(s.targets[1].running_pods == std::vector<std::string>{"web-1", "web-2"});
  CHECK(s.targets[1].plan.objects.at(0) == rules::default_deny_all_policy("shop"));
  CHECK(s.terminating == std::vector<std::string>{"gone"});
  CHECK(s.untouched.empty());
  CHECK(s.object_count() == 2);
}

TEST_CASE("remediate --namespaces limits the targets and names the untouched ones",
          "[cli][remediate]") {
  cluster c;
  auto s = select_remediations(c.report, c.namespaces, c.policies, c.pods, {"shop", "done", "sys"},
                               true);
  REQUIRE(s.targets.size() == 1);
  CHECK(s.targets[0].plan.namespace_name == "shop");
  REQUIRE(s.targets[0].plan.objects.size() == 2);
  CHECK(s.targets[0].plan.objects[1]["metadata"]["name"] == "allow-dns-egress");
  CHECK(s.untouched == std::vector<std::string>{"done", "sys"});
  CHECK(unknown_namespaces(c.report, {"shop", "nope", "lab", "gone2"}) ==
        std::vector<std::string>{"nope", "gone2"});
}

TEST_CASE("remediate's dry run states each namespace's impact as YAML comments",
          "[cli][remediate]") {
  cluster c;
  auto s = select_remediations(c.report, c.namespaces, c.policies, c.pods, {}, false);
  const std::string yaml = render_remediation_yaml(s);
  const std::string expected =
      "# namespace lab: no default deny of egress\n"
      "#   running pods that will lose egress traffic (1): api\n"
      "#   policies already there (2): allow-web, deny-in\n" +
      render_yaml(s.targets[0].plan.objects) +
      "# namespace shop: no default deny of ingress and egress\n"
      "#   running pods that will lose ingress and egress traffic (2): web-1, web-2\n"
      "#   policies already there (0)\n" +
      render_yaml(s.targets[1].plan.objects) +
      "# namespace gone: skipped, it is terminating\n"
      "# 2 namespaces, 2 objects (dry run: nothing was changed)\n";
  CHECK(yaml == expected);
}

TEST_CASE("remediate's dry run lists at most 20 pods, and shows a conflict", "[cli][remediate]") {
  compliance_report report;
  report.namespaces = {row("big", true, false)};
  std::vector<json> pods;
  for (int i = 0; i < 25; ++i) pods.push_back(named("big", "p" + std::to_string(100 + i)));
  std::vector<json> policies{named("big", "default-deny-egress"), named("big", "deny-in")};
  auto s = select_remediations(report, {ns_object("big")}, policies, pods, {}, false);
  REQUIRE(s.targets.size() == 1);
  CHECK(!s.targets[0].plan.conflict.empty());
  CHECK(s.object_count() == 0);
  const std::string yaml = render_remediation_yaml(s);
  CHECK(yaml.find("(25): p100, p101, ") != std::string::npos);
  CHECK(yaml.find("p119 and 5 more\n") != std::string::npos);
  CHECK(yaml.find("p120") == std::string::npos);
  CHECK(yaml.find("#   CONFLICT, nothing is created here: a NetworkPolicy named "
                  "default-deny-egress is there but does not deny all egress") !=
        std::string::npos);
  auto j = remediation_json(s);
  CHECK(j["namespaces"][0]["conflict"] == s.targets[0].plan.conflict);
  CHECK(j["namespaces"][0]["runningPods"].size() == 25);
  CHECK(j["summary"] == json{{"namespaces", 1}, {"objects", 0}, {"conflicts", 1}});
}

TEST_CASE("remediate's JSON carries the same plan", "[cli][remediate]") {
  cluster c;
  auto s = select_remediations(c.report, c.namespaces, c.policies, c.pods, {}, false);
  auto j = remediation_json(s);
  REQUIRE(j["namespaces"].size() == 2);
  CHECK(j["namespaces"][0]["namespace"] == "lab");
  CHECK(j["namespaces"][0]["missing"] == json::array({"Egress"}));
  CHECK(j["namespaces"][1]["missing"] == json{"Ingress", "Egress"});
  CHECK(j["namespaces"][1]["objects"] == json::array({rules::default_deny_all_policy("shop")}));
  CHECK(!j["namespaces"][0].contains("conflict"));
  CHECK(j["skippedTerminating"] == json::array({"gone"}));
  CHECK(j["summary"] == json{{"namespaces", 2}, {"objects", 2}, {"conflicts", 0}});
}
