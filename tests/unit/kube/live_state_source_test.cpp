#include "netpol_guard/kube/live_state_source.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "netpol_guard/netpol/rules.hpp"
#include "scripted_source.hpp"

using namespace netpol_guard;
using namespace netpol_guard::kube;
using netpol_guard::kube::testing::fake_clock;
using netpol_guard::kube::testing::script_end;
using netpol_guard::kube::testing::scripted_source;
namespace net = boost::asio;
using nlohmann::json;

namespace {

constexpr deny_all_coverage none{false, false};
constexpr deny_all_coverage ingress_only{true, false};
constexpr deny_all_coverage egress_only{false, true};
constexpr deny_all_coverage both{true, true};

// A NetworkPolicy selecting every pod; `types` without rules deny those directions,
// `allow_ingress` adds a rule that allows all ingress.
json policy(const std::string& ns, const std::string& name, std::vector<std::string> types,
            const std::string& created = "2024-01-01T00:00:00Z", bool allow_ingress = false) {
  json p{{"apiVersion", "networking.k8s.io/v1"},
         {"kind", "NetworkPolicy"},
         {"metadata",
          {{"name", name},
           {"namespace", ns},
           {"resourceVersion", "1"},
           {"creationTimestamp", created}}},
         {"spec", {{"podSelector", json::object()}, {"policyTypes", types}}}};
  if (allow_ingress) p["spec"]["ingress"] = json::array({json::object()});
  return p;
}

json namespace_object(const std::string& name, bool terminating = false) {
  json n{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
  if (terminating) {
    n["metadata"]["deletionTimestamp"] = "2024-03-01T00:00:00Z";
    n["status"] = {{"phase", "Terminating"}};
  }
  return n;
}

std::string list_of(const std::vector<json>& items, const std::string& rv) {
  return json{{"metadata", {{"resourceVersion", rv}}}, {"items", items}}.dump();
}

std::string event(const std::string& type, const json& object) {
  return json{{"type", type}, {"object", object}}.dump() + "\n";
}

std::string expired() {
  return event("ERROR", {{"kind", "Status"}, {"code", 410}, {"reason", "Expired"}});
}

std::uint32_t policies_in(const namespace_snapshot& s, const std::string& ns) {
  const auto* e = s.find(ns);
  return e ? e->policy_count : 0;
}

class recording_listener final : public live_state_listener {
 public:
  std::vector<appeared_namespace> appeared;
  std::size_t published_count = 0;
  void namespace_appeared(const appeared_namespace& n) override { appeared.push_back(n); }
  void published(const namespace_snapshot&) override { ++published_count; }
};

live_state_options fast(fake_clock* clock = nullptr) {
  live_state_options o;
  o.reflect.min_backoff = std::chrono::milliseconds(1);
  o.reflect.max_backoff = std::chrono::milliseconds(4);
  if (clock) o.reflect.now = clock->fn();
  return o;
}

// Runs `live` until both scripts are over.
void run(live_state_source& live, scripted_source& policies, scripted_source& namespaces) {
  script_end end(2, [&] { live.stop(); });
  policies.on_over = end.hook();
  namespaces.on_over = end.hook();
  net::io_context ioc;
  live.start(ioc.get_executor());
  ioc.run_for(std::chrono::seconds(10));
  REQUIRE(ioc.stopped());
}

}  // namespace

TEST_CASE("live source: lists, then watch ADDED/MODIFIED/DELETED, then a relist", "[kube][live]") {
  scripted_source policies, namespaces;
  kube_stats m;
  recording_listener listener;
  live_state_source live(policies, namespaces, fast(), m, &listener);

  policies.lists.push_back(
      {200,
       list_of({policy("team-a", "default-deny-all", {"Ingress", "Egress"}),
                policy("team-a", "allow-web", {"Ingress"}, "2024-01-01T00:00:00Z", true),
                policy("team-b", "deny-ingress", {"Ingress"}, "2024-01-03T00:00:00Z")},
               "10"),
       ""});
  policies.watches.push_back(
      {200,
       {event("ADDED", policy("team-b", "deny-egress", {"Egress"}, "2024-01-02T00:00:00Z")) +
            event("ADDED", policy("team-b", "old-ingress", {"Ingress"}, "2024-01-02T00:00:00Z")),
        // The template's name over an allow policy: a decoy.
        event("MODIFIED",
              policy("team-a", "default-deny-all", {"Ingress"}, "2024-01-01T00:00:00Z", true)) +
            event("DELETED", policy("team-a", "allow-web", {"Ingress"}))},
       ""});
  policies.before_watch[0] = [&] {  // the state of the first list
    auto s = live.snapshot();
    CHECK(s->source() == "cluster");
    const auto* a = s->find("team-a");
    REQUIRE(a != nullptr);
    CHECK(a->policy_count == 2);
    CHECK(a->coverage() == both);
    CHECK(a->baseline_names() == std::vector<std::string>{"default-deny-all"});
    CHECK_FALSE(a->template_name_taken);
    CHECK(s->coverage("team-b") == ingress_only);
  };
  policies.watches.push_back({200, {expired()}, ""});
  policies.before_watch[1] = [&] {  // after the first watch's events
    auto s = live.snapshot();
    const auto* a = s->find("team-a");
    REQUIRE(a != nullptr);
    CHECK(a->policy_count == 1);
    CHECK(a->coverage() == none);
    CHECK(a->template_name_taken);
    const auto* b = s->find("team-b");
    REQUIRE(b != nullptr);
    CHECK(b->policy_count == 3);
    CHECK(b->coverage() == both);
    // The oldest deny of each direction is pinned.
    REQUIRE(b->pinned(true) != nullptr);
    CHECK(b->pinned(true)->name == "old-ingress");
    REQUIRE(b->pinned(false) != nullptr);
    CHECK(b->pinned(false)->name == "deny-egress");
  };
  // The relist replaces every policy.
  policies.lists.push_back(
      {200, list_of({policy("team-c", "default-deny-all", {"Ingress", "Egress"})}, "20"), ""});

  namespaces.lists.push_back(
      {200, list_of({namespace_object("team-a"), namespace_object("team-b")}, "5"), ""});
  namespaces.watches.push_back({200,
                                {event("ADDED", namespace_object("team-d")) +
                                     event("MODIFIED", namespace_object("team-b", true)),
                                 event("DELETED", namespace_object("team-a"))},
                                ""});
  namespaces.before_watch[0] = [&] {
    auto s = live.snapshot();
    REQUIRE(s->find("team-a") != nullptr);
    CHECK(s->find("team-a")->known_namespace);
    CHECK_FALSE(s->find("team-b")->terminating);
  };

  run(live, policies, namespaces);

  CHECK(policies.watch_calls.at(0) == "10");
  CHECK(policies.watch_calls.at(2) == "20");
  auto s = live.snapshot();
  CHECK(s->find("team-a") == nullptr);  // no policy left, Namespace deleted
  REQUIRE(s->find("team-b") != nullptr);
  CHECK(s->find("team-b")->known_namespace);
  CHECK(s->find("team-b")->terminating);
  CHECK(policies_in(*s, "team-b") == 0);
  CHECK(s->coverage("team-b") == none);
  REQUIRE(s->find("team-c") != nullptr);
  CHECK(s->coverage("team-c") == both);
  CHECK_FALSE(s->find("team-c")->known_namespace);
  REQUIRE(s->find("team-d") != nullptr);
  CHECK(s->find("team-d")->known_namespace);
  CHECK(s->namespace_count() == 3);
  // Two policy lists, two policy batches, one namespace list, two namespace batches.
  CHECK(listener.published_count == 7);
  CHECK(live.readiness().ready);
  CHECK(m.errors(kube_error::watch_failed) == 0);
}

TEST_CASE("live source: which namespaces are reported as new", "[kube][live]") {
  scripted_source policies, namespaces;
  kube_stats m;
  recording_listener listener;
  live_state_source live(policies, namespaces, fast(), m, &listener);
  policies.lists.push_back(
      {200,
       list_of({policy("fresh", "default-deny-all", {"Ingress", "Egress"}),
                policy("added", "default-deny-all", {"Ingress"})},  // a decoy: ingress only
               "3"),
       ""});
  namespaces.lists.push_back({200, list_of({namespace_object("old")}, "1"), ""});
  namespaces.watches.push_back({200, {expired()}, ""});
  namespaces.lists.push_back(
      {200, list_of({namespace_object("old"), namespace_object("fresh")}, "2"), ""});
  namespaces.watches.push_back({200, {event("ADDED", namespace_object("added", true))}, ""});
  run(live, policies, namespaces);

  REQUIRE(listener.appeared.size() == 3);
  CHECK(listener.appeared[0].name == "old");
  CHECK(listener.appeared[0].how == namespace_appearance::first_list);
  CHECK_FALSE(listener.appeared[0].has_template);
  CHECK(listener.appeared[1].name == "fresh");
  CHECK(listener.appeared[1].how == namespace_appearance::new_in_relist);
  CHECK(listener.appeared[1].has_template);
  CHECK_FALSE(listener.appeared[1].template_taken);
  CHECK(listener.appeared[2].name == "added");
  CHECK(listener.appeared[2].how == namespace_appearance::watch_added);
  CHECK(listener.appeared[2].terminating);
  CHECK(listener.appeared[2].has_template);
  CHECK(listener.appeared[2].template_taken);
  CHECK(listener.appeared[2].template_coverage == deny_all_coverage{true, false});
}

TEST_CASE("live source: state age grows while the watch is down", "[kube][live]") {
  scripted_source policies, namespaces;
  kube_stats m;
  fake_clock clock;
  auto options = fast(&clock);
  options.max_state_age = std::chrono::seconds(60);
  live_state_source live(policies, namespaces, options, m);
  CHECK_FALSE(live.readiness().ready);
  CHECK(live.readiness().reason ==
        "waiting for the first full list of NetworkPolicies and Namespaces");

  policies.lists.push_back({200, list_of({}, "1"), ""});
  policies.watches.push_back({500, {}, ""});
  policies.before_watch[0] = [&] { clock.advance(std::chrono::seconds(10)); };
  namespaces.lists.push_back({200, list_of({}, "1"), ""});
  run(live, policies, namespaces);
  CHECK(m.errors(kube_error::watch_failed) == 1);

  // The policy watch has been down since its failure; the clock has not moved.
  CHECK(live.readiness().age_seconds == 0.0);
  CHECK(live.readiness().ready);
  clock.advance(std::chrono::seconds(30));
  CHECK(live.readiness().age_seconds == Approx(30.0));
  CHECK(live.readiness().ready);
  clock.advance(std::chrono::seconds(45));
  auto r = live.readiness();
  CHECK(r.age_seconds == Approx(75.0));
  CHECK_FALSE(r.ready);
  CHECK(r.reason == "cluster watch down for 75s (more than --max-state-age)");
}

TEST_CASE("drift: baselines lost between two snapshots", "[kube][live]") {
  auto snap = [](std::vector<std::tuple<std::string, deny_all_coverage, bool>> rows,
                 std::string source) {
    namespace_index index;
    for (auto& [ns, c, terminating] : rows) {
      index.upsert_namespace(ns, terminating);
      if (c.any()) index.upsert_policy(ns, "deny", c);
    }
    return index.freeze(std::move(source));
  };
  auto before = snap({{"team-a", both, false},
                      {"team-b", ingress_only, false},
                      {"team-c", egress_only, false},
                      {"kube-system", both, false},
                      {"going", both, false},
                      {"open", none, false}},
                     "cluster");
  auto after = snap({{"team-a", ingress_only, false},
                     {"team-b", none, false},
                     {"team-c", both, false},
                     {"kube-system", none, false},
                     {"going", none, true},
                     {"open", none, false}},
                    "cluster");
  std::set<std::string, std::less<>> exempt{"kube-system"};
  CHECK(drift_between(*before, *after, exempt) ==
        std::vector<baseline_drift>{{"team-a", egress_only}, {"team-b", ingress_only}});
  // The first list is not drift.
  CHECK(drift_between(namespace_snapshot{}, *after, exempt).empty());
}

namespace {

json with_mode(json ns, const std::string& mode) {
  ns["metadata"]["labels"][std::string(rules::mode_label)] = mode;
  return ns;
}

json with_exemption(json ns, const std::string& directions, const std::string& until) {
  auto& a = ns["metadata"]["annotations"];
  a[std::string(rules::exempt_annotation)] = directions;
  a[std::string(rules::exempt_reason_annotation)] = "vendor chart opens its own ports";
  a[std::string(rules::exempt_until_annotation)] = until;
  return ns;
}

}  // namespace

TEST_CASE("live source: a Namespace's mode label and exemption follow its events", "[kube][live]") {
  scripted_source policies, namespaces;
  kube_stats m;
  live_state_source live(policies, namespaces, fast(), m);
  policies.lists.push_back(
      {200,
       list_of({policy("team-a", "default-deny-all", {"Ingress", "Egress"}),
                policy("team-a", "allow-all-in", {"Ingress"}, "2024-01-01T00:00:00Z", true)},
               "1"),
       ""});
  namespaces.lists.push_back(
      {200,
       list_of({namespace_object("team-a"),
                with_exemption(namespace_object("team-b"), "all", "2030-01-01T00:00:00Z")},
               "1"),
       ""});
  namespaces.watches.push_back(
      {200,
       {event("MODIFIED", with_mode(namespace_object("team-a"), "warn")),
        event("MODIFIED", namespace_object("team-b"))},  // the exemption removed
       ""});
  namespaces.before_watch[0] = [&] {
    auto s = live.snapshot();
    REQUIRE(s->find("team-a") != nullptr);
    CHECK(s->find("team-a")->settings.mode == namespace_mode::unset);
    REQUIRE(s->find("team-b") != nullptr);
    REQUIRE(s->find("team-b")->settings.exempt);
    CHECK(s->find("team-b")->settings.exempt->directions == both);
    CHECK(s->find("team-b")->settings.exempt->until_text == "2030-01-01T00:00:00Z");
  };
  namespaces.watches.push_back({200, {expired()}, ""});
  namespaces.before_watch[1] = [&] {
    auto s = live.snapshot();
    CHECK(s->find("team-a")->settings.mode == namespace_mode::warn);
    CHECK_FALSE(s->find("team-b")->settings.exempt);
  };
  namespaces.lists.push_back(
      {200,
       list_of({with_mode(namespace_object("team-a"), "enforce"), namespace_object("team-b")}, "2"),
       ""});
  run(live, policies, namespaces);

  auto s = live.snapshot();
  const auto* a = s->find("team-a");
  REQUIRE(a != nullptr);
  CHECK(a->settings.mode == namespace_mode::enforce);
  // The relist of Namespaces keeps what the policies re-open.
  REQUIRE(a->negating.size() == 1);
  CHECK(a->negating[0].name == "allow-all-in");
  CHECK(a->negating[0].opens == ingress_only);
  CHECK(a->coverage() == both);
}
