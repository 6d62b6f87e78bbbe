#include "netpol_guard/kube/baseline_provisioner.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "netpol_guard/netpol/rules.hpp"
#include "scripted_source.hpp"

using namespace netpol_guard;
using namespace netpol_guard::kube;
using netpol_guard::kube::testing::fake_api;
using netpol_guard::kube::testing::fake_clock;
namespace net = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;

namespace {

const std::string team_a_policies = "/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies";

// The value of one sample in the provisioning family's text, or -1 when it is missing.
double sample(const kube_stats& m, const std::string& series) {
  stats::exposition out;
  m.write_provisioned(out);
  std::istringstream lines(out.text());
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

double provisioned(const kube_stats& m, const std::string& result) {
  return sample(m, "netpol_guard_provisioned_policies_total{result=\"" + result + "\"}");
}

provisioner_options enabled() {
  provisioner_options o;
  o.enabled = true;
  o.exempt_namespaces = {"kube-system"};
  o.first_backoff = std::chrono::milliseconds(1);
  o.max_backoff = std::chrono::milliseconds(2);
  return o;
}

appeared_namespace added(const std::string& ns, bool has_template = false) {
  appeared_namespace n;
  n.name = ns;
  n.how = namespace_appearance::watch_added;
  n.has_template = has_template;
  return n;
}

struct fixture {
  fake_api api;
  kube_stats m;
  fake_clock clock;
  net::io_context ioc;
  baseline_provisioner p;
  explicit fixture(provisioner_options o = enabled()) : p(api, std::move(o), m, clock.fn()) {
    p.start(ioc.get_executor());
  }
  void run() {
    ioc.restart();
    ioc.run_for(std::chrono::seconds(10));
    REQUIRE(ioc.stopped());
  }
};

namespace_snapshot covered(const std::string& ns) {
  namespace_index index;
  index.upsert_policy(ns, std::string(rules::template_policy_name), {true, true});
  return *index.freeze("cluster");
}

}  // namespace

TEST_CASE("provisioner creates the template in a new namespace, once", "[kube][provisioner]") {
  fixture f;
  f.api.replies.push_back({201, "{}", ""});
  f.p.namespace_appeared(added("team-a"));
  CHECK(f.p.provisioning("team-a"));
  f.run();
  REQUIRE(f.api.calls.size() == 1);
  CHECK(f.api.calls[0].verb == http::verb::post);
  CHECK(f.api.calls[0].target == team_a_policies);
  CHECK(json::parse(f.api.calls[0].body) == rules::default_deny_all_policy("team-a"));
  CHECK(provisioned(f.m, "success") == 1);
  // Pending until a snapshot shows the baseline.
  CHECK(f.p.provisioning("team-a"));
  f.p.published(covered("team-a"));
  CHECK_FALSE(f.p.provisioning("team-a"));

  // Seen again with the template in place: nothing to do.
  f.p.namespace_appeared(added("team-a", true));
  f.run();
  CHECK(f.api.calls.size() == 1);
  CHECK_FALSE(f.p.provisioning("team-a"));
}

TEST_CASE("provisioner leaves alone what it must not touch", "[kube][provisioner]") {
  SECTION("namespaces of the first list, exempt, terminating, not DNS labels") {
    fixture f;
    f.p.namespace_appeared({"existing", namespace_appearance::first_list, false, false, false, {}});
    f.p.namespace_appeared(added("kube-system"));
    f.p.namespace_appeared({"going", namespace_appearance::watch_added, true, false, false, {}});
    f.p.namespace_appeared(added("Not_A_Label"));
    f.run();
    CHECK(f.api.calls.empty());
    CHECK_FALSE(f.p.provisioning("existing"));
    CHECK_FALSE(f.p.provisioning("kube-system"));
  }
  SECTION("provisioning off") {
    auto o = enabled();
    o.enabled = false;
    fixture f(o);
    f.p.namespace_appeared(added("team-a"));
    f.p.namespace_admitted("team-a");
    f.run();
    CHECK(f.api.calls.empty());
    CHECK_FALSE(f.p.provisioning("team-a"));
  }
}

TEST_CASE("provisioner retries with backoff until the create succeeds", "[kube][provisioner]") {
  fixture f;
  f.api.replies.push_back({500, "etcd leader changed", ""});
  f.api.replies.push_back({0, "", "connection refused"});
  f.api.replies.push_back({201, "{}", ""});
  f.p.namespace_appeared({"team-a", namespace_appearance::new_in_relist, false, false, false, {}});
  f.run();
  REQUIRE(f.api.calls.size() == 3);
  for (const auto& c : f.api.calls) CHECK(c.target == team_a_policies);
  CHECK(provisioned(f.m, "success") == 1);
  CHECK(provisioned(f.m, "failure") == 0);
}

TEST_CASE("provisioner gives up after its attempts and drops the pending mark",
          "[kube][provisioner]") {
  auto o = enabled();
  o.max_attempts = 3;
  fixture f(o);
  f.p.namespace_appeared(added("team-a"));  // every reply is a 503
  f.run();
  CHECK(f.api.calls.size() == 3);
  CHECK(provisioned(f.m, "failure") == 1);
  CHECK(f.m.errors(kube_error::provision_failed) == 1);
  CHECK_FALSE(f.p.provisioning("team-a"));

  SECTION("a 404 (the namespace is gone) stops at once") {
    f.api.replies.push_back({404, "not found", ""});
    f.p.namespace_appeared(added("team-b"));
    f.run();
    CHECK(f.api.calls.size() == 4);
    CHECK(provisioned(f.m, "failure") == 2);
  }
}

TEST_CASE("provisioner: a 409 is checked for a policy that is not a deny-all",
          "[kube][provisioner]") {
  fixture f;
  json existing = rules::default_deny_all_policy("team-a");
  SECTION("another replica's template: no conflict") {
    f.api.replies.push_back({409, "AlreadyExists", ""});
    f.api.replies.push_back({200, existing.dump(), ""});
    f.p.namespace_appeared(added("team-a"));
    f.run();
    REQUIRE(f.api.calls.size() == 2);
    CHECK(f.api.calls[1].verb == http::verb::get);
    CHECK(f.api.calls[1].target == team_a_policies + "/default-deny-all");
    CHECK(provisioned(f.m, "conflict") == 0);
    CHECK(provisioned(f.m, "success") == 0);
  }
  SECTION("a user's policy under the template's name: a conflict") {
    existing["spec"]["policyTypes"] = json::array({"Ingress"});
    existing["spec"]["ingress"] = json::array({json::object()});
    f.api.replies.push_back({409, "AlreadyExists", ""});
    f.api.replies.push_back({200, existing.dump(), ""});
    f.p.namespace_appeared(added("team-a"));
    f.run();
    CHECK(f.api.calls.size() == 2);
    CHECK(provisioned(f.m, "conflict") == 1);
  }
}

TEST_CASE("provisioner: the pending set", "[kube][provisioner]") {
  fixture f;
  f.p.namespace_admitted("team-a");
  f.p.namespace_admitted("kube-system");
  CHECK(f.p.provisioning("team-a"));
  CHECK_FALSE(f.p.provisioning("kube-system"));
  f.clock.advance(std::chrono::seconds(29));
  CHECK(f.p.provisioning("team-a"));
  f.clock.advance(std::chrono::seconds(2));
  CHECK_FALSE(f.p.provisioning("team-a"));  // past the 30 s window

  // A namespace whose CREATE this replica admitted is provisioned even when it
  // first shows up in a list.
  f.p.namespace_admitted("team-b");
  f.api.replies.push_back({201, "{}", ""});
  f.p.namespace_appeared({"team-b", namespace_appearance::first_list, false, false, false, {}});
  f.run();
  REQUIRE(f.api.calls.size() == 1);
  CHECK(f.api.calls[0].target == "/apis/networking.k8s.io/v1/namespaces/team-b/networkpolicies");
  // A snapshot without full coverage keeps it pending.
  namespace_index partial;
  partial.upsert_policy("team-b", "deny-ingress", {true, false});
  f.p.published(*partial.freeze("cluster"));
  CHECK(f.p.provisioning("team-b"));
  f.p.published(covered("team-b"));
  CHECK_FALSE(f.p.provisioning("team-b"));
}

TEST_CASE("provisioner: a user's policy under the template's name, seen before the namespace",
          "[kube][provisioner]") {
  // The policy watch can deliver the decoy before the namespace watch delivers
  // the namespace: the conflict is reported from the index, without a create.
  fixture f;
  auto n = added("team-a", true);
  n.template_taken = true;
  n.template_coverage = {true, false};
  f.p.namespace_appeared(n);
  f.run();
  CHECK(f.api.calls.empty());
  CHECK(provisioned(f.m, "conflict") == 1);
  CHECK_FALSE(f.p.provisioning("team-a"));

  // The template itself (another replica's): nothing to report.
  fixture g;
  g.p.namespace_appeared(added("team-b", true));
  g.run();
  CHECK(g.api.calls.empty());
  CHECK(provisioned(g.m, "conflict") == 0);
}
