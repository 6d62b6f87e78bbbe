#include "netpol_guard/kube/live_namespace_reader.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "netpol_guard/netpol/rules.hpp"
#include "scripted_source.hpp"

using namespace netpol_guard;
using namespace netpol_guard::kube;
using netpol_guard::kube::testing::fake_api;
namespace net = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;

namespace {

// The cached state the read falls back on.
class cached_state final : public namespace_state {
 public:
  explicit cached_state(namespace_index index) { cell_.publish(index.freeze("cluster")); }
  std::shared_ptr<const namespace_snapshot> snapshot() const override { return cell_.load(); }
  state_readiness readiness() const override { return {true, "", 0}; }

 private:
  snapshot_cell cell_;
};

json allow_web(const std::string& ns) {
  json p = rules::default_deny_all_policy(ns);
  p["metadata"]["name"] = "allow-web";
  p["spec"]["policyTypes"] = json::array({"Ingress"});
  p["spec"]["ingress"] = json::array({json::object()});
  return p;
}

std::string policy_list(std::vector<json> items) {
  return json{{"kind", "NetworkPolicyList"}, {"items", std::move(items)}}.dump();
}

std::optional<namespace_entry> read(live_namespace_reader& reader, const std::string& ns) {
  std::optional<namespace_entry> out;
  net::io_context ioc;
  net::co_spawn(
      ioc,
      [&]() -> net::awaitable<void> { out = co_await reader.read(ns, std::chrono::seconds(1)); },
      net::detached);
  ioc.run();
  return out;
}

cached_state known(const std::string& ns, bool terminating) {
  namespace_index index;
  index.upsert_namespace(ns, terminating);
  return cached_state(std::move(index));
}

}  // namespace

TEST_CASE("confirm read: the policies and the Namespace object, as they are now",
          "[kube][reader]") {
  fake_api api;
  auto cache = known("other", false);
  live_namespace_reader reader(api, cache);
  api.replies.push_back(
      {200, policy_list({rules::default_deny_all_policy("team-a"), allow_web("team-a")}), ""});
  json ns{{"metadata", {{"name", "team-a"}, {"deletionTimestamp", "2024-01-01T00:00:00Z"}}}};
  api.replies.push_back({200, ns.dump(), ""});
  auto e = read(reader, "team-a");
  REQUIRE(e);
  CHECK(e->policy_count == 2);
  CHECK(e->coverage() == deny_all_coverage{true, true});
  CHECK(e->baseline_names() == std::vector<std::string>{"default-deny-all"});
  CHECK(e->known_namespace);
  CHECK(e->terminating);
  REQUIRE(api.calls.size() == 2);
  CHECK(api.calls[0].verb == http::verb::get);
  CHECK(api.calls[0].target == "/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies");
  CHECK(api.calls[1].target == "/api/v1/namespaces/team-a");
}

TEST_CASE("confirm read: the cache answers for a Namespace that cannot be read", "[kube][reader]") {
  fake_api api;
  auto cache = known("team-a", true);
  live_namespace_reader reader(api, cache);
  api.replies.push_back({200, policy_list({}), ""});
  api.replies.push_back({503, "unavailable", ""});
  auto e = read(reader, "team-a");
  REQUIRE(e);
  CHECK(e->policy_count == 0);
  CHECK(e->known_namespace);
  CHECK(e->terminating);
}

TEST_CASE("confirm read: no answer when the policies cannot be read", "[kube][reader]") {
  fake_api api;
  auto cache = known("team-a", false);
  live_namespace_reader reader(api, cache);
  SECTION("an error status") {
    api.replies.push_back({500, "boom", ""});
    CHECK_FALSE(read(reader, "team-a"));
    CHECK(api.calls.size() == 1);
  }
  SECTION("a malformed body") {
    api.replies.push_back({200, "{not json", ""});
    CHECK_FALSE(read(reader, "team-a"));
    CHECK(api.calls.size() == 1);
  }
  SECTION("a name that is not a DNS label is never sent") {
    CHECK_FALSE(read(reader, "../team-a"));
    CHECK_FALSE(read(reader, "Team-A"));
    CHECK(api.calls.empty());
  }
}

namespace {

json labelled_namespace(const std::string& name, const std::string& mode) {
  return json{{"apiVersion", "v1"},
              {"kind", "Namespace"},
              {"metadata", {{"name", name}, {"labels", {{std::string(rules::mode_label), mode}}}}}};
}

json exempted_namespace(const std::string& name, const std::string& until) {
  return json{{"apiVersion", "v1"},
              {"kind", "Namespace"},
              {"metadata",
               {{"name", name},
                {"annotations",
                 {{std::string(rules::exempt_annotation), "egress"},
                  {std::string(rules::exempt_reason_annotation), "migrating the ingress gateway"},
                  {std::string(rules::exempt_until_annotation), until}}}}}};
}

}  // namespace

// The webhook confirms a denial with this read and decides again from it: the
// mode label and the exemption must be those of the live object, or a denial
// that rests on mode=enforce under --audit-only would be overturned.
TEST_CASE("confirm read: the namespace's mode label and exemption, as they are now",
          "[kube][reader]") {
  fake_api api;
  namespace_index cached_index;
  cached_index.upsert_namespace(namespace_record{"team-a", false, {}});
  cached_state cache(std::move(cached_index));
  live_namespace_reader reader(api, cache);
  SECTION("the live Namespace's label") {
    api.replies.push_back({200, policy_list({}), ""});
    api.replies.push_back({200, labelled_namespace("team-a", "enforce").dump(), ""});
    auto e = read(reader, "team-a");
    REQUIRE(e);
    CHECK(e->settings.mode == namespace_mode::enforce);
    CHECK_FALSE(e->settings.exempt);
  }
  SECTION("the live Namespace's exemption") {
    api.replies.push_back({200, policy_list({}), ""});
    api.replies.push_back({200, exempted_namespace("team-a", "2030-01-02T03:04:05Z").dump(), ""});
    auto e = read(reader, "team-a");
    REQUIRE(e);
    CHECK(e->settings.mode == namespace_mode::unset);
    REQUIRE(e->settings.exempt);
    CHECK(e->settings.exempt->directions == deny_all_coverage{false, true});
    CHECK(e->settings.exempt->reason == "migrating the ingress gateway");
    CHECK(e->settings.exempt->until_text == "2030-01-02T03:04:05Z");
  }
}

TEST_CASE("confirm read: the cache's settings when the Namespace cannot be read",
          "[kube][reader]") {
  fake_api api;
  namespace_index cached_index;
  namespace_settings enforce;
  enforce.mode = namespace_mode::enforce;
  cached_index.upsert_namespace(namespace_record{"team-a", false, enforce});
  cached_state cache(std::move(cached_index));
  live_namespace_reader reader(api, cache);
  api.replies.push_back({200, policy_list({}), ""});
  api.replies.push_back({503, "unavailable", ""});
  auto e = read(reader, "team-a");
  REQUIRE(e);
  CHECK(e->known_namespace);
  CHECK(e->settings.mode == namespace_mode::enforce);
}

TEST_CASE("confirm read: a policy that re-opens the namespace is kept", "[kube][reader]") {
  fake_api api;
  auto cache = known("team-a", false);
  live_namespace_reader reader(api, cache);
  api.replies.push_back(
      {200, policy_list({rules::default_deny_all_policy("team-a"), allow_web("team-a")}), ""});
  api.replies.push_back({200, json{{"metadata", {{"name", "team-a"}}}}.dump(), ""});
  auto e = read(reader, "team-a");
  REQUIRE(e);
  REQUIRE(e->negating.size() == 1);
  CHECK(e->negating[0].name == "allow-web");
  CHECK(e->negating[0].opens == deny_all_coverage{true, false});
  CHECK(e->negating[0].rule == "spec.ingress[0]");
}
