#include "netpol_guard/kube/drift_events.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "drift_snapshots.hpp"
#include "scripted_source.hpp"

using namespace netpol_guard;
using namespace netpol_guard::kube;
using netpol_guard::kube::testing::fake_api;
namespace net = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;

namespace {

using testing::both;
using testing::ingress_only;
using testing::none;
using testing::row;
using testing::snap;

const api_reply created{201, "{}", ""};
const std::chrono::system_clock::time_point wall_now{std::chrono::seconds(1'800'000'000)};

drift_events_options options() {
  drift_events_options o;
  o.exempt_namespaces = {"kube-system"};
  o.reporting_instance = "netpol-guard-7d9f-x2k4_5b1c";
  o.request_timeout = std::chrono::milliseconds(1500);
  return o;
}

struct fixture {
  fake_api api;
  kube_stats m;
  leadership leader = leadership::alone();
  net::io_context ioc;
  drift_events d{api, options(), leader, m, [] { return wall_now; }};

  fixture() {
    d.set_coalesce_window(std::chrono::milliseconds(0));
    d.set_retry_backoff(std::chrono::milliseconds(1));
    d.start(ioc.get_executor());
  }
  ~fixture() {
    d.stop();
    ioc.restart();
    ioc.run_for(std::chrono::seconds(5));
    CHECK(ioc.stopped());
  }
  void publish(const std::vector<row>& rows) { d.published(*snap(rows)); }
  // Lets the sender send what is due.
  void drain() {
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(60));
  }
  std::vector<json> events() const {
    std::vector<json> out;
    for (const auto& c : api.calls) {
      CHECK(c.verb == http::verb::post);
      CHECK(c.target == "/apis/events.k8s.io/v1/namespaces/default/events");
      out.push_back(json::parse(c.body));
    }
    return out;
  }
};

}  // namespace

TEST_CASE("drift events: a lost and a restored baseline make one Event each",
          "[kube][drift_events]") {
  fixture f;
  f.api.replies = {created, created};
  f.publish({{"team-a", both}, {"team-b", both}});
  f.drain();
  CHECK(f.api.calls.empty());  // the state found at start is the baseline

  f.publish({{"team-a", ingress_only}, {"team-b", both}});
  f.drain();
  auto e = f.events();
  REQUIRE(e.size() == 1);
  CHECK(e[0]["reason"] == "BaselineMissing");
  CHECK(e[0]["type"] == "Warning");
  CHECK(e[0]["metadata"]["namespace"] == "default");
  CHECK(e[0]["metadata"]["name"] == "team-a.18fae27693b40000");
  CHECK(e[0]["eventTime"] == "2027-01-15T08:00:00.000000Z");
  CHECK(e[0]["regarding"] == json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"name", "team-a"}});
  CHECK(e[0]["reportingInstance"] == "netpol-guard-7d9f-x2k4_5b1c");
  const std::string note = e[0]["note"];
  CHECK(
      note.starts_with("CIS 5.3.2: namespace \"team-a\" has no default-deny egress "
                       "NetworkPolicy"));
  CHECK(note.ends_with("New Pods there are now refused."));
  CHECK(f.m.events(true) == 1);

  // The same state again: nothing.
  f.publish({{"team-a", ingress_only}, {"team-b", both}});
  f.drain();
  CHECK(f.api.calls.size() == 1);

  f.publish({{"team-a", both}, {"team-b", both}});
  f.drain();
  e = f.events();
  REQUIRE(e.size() == 2);
  CHECK(e[1]["reason"] == "BaselineRestored");
  CHECK(e[1]["type"] == "Normal");
  CHECK(e[1]["regarding"]["name"] == "team-a");
  CHECK(e[1]["note"].get<std::string>().ends_with("New Pods there are admitted again."));
  CHECK(f.m.events(true) == 2);
  CHECK(f.m.events(false) == 0);
}

TEST_CASE("drift events: exempt, terminating and new namespaces make none",
          "[kube][drift_events]") {
  fixture f;
  f.publish({{"kube-system", both}, {"going", both}, {"team-a", both}});
  f.publish({{"kube-system", none},
             {"going", none, true},
             {"team-a", both},
             {"new-open", none},
             {"new-full", both}});
  // A namespace that appeared non-compliant was never compliant: no Restored either.
  f.publish({{"kube-system", none}, {"team-a", both}, {"new-open", both}, {"new-full", both}});
  f.drain();
  CHECK(f.api.calls.empty());
  CHECK(f.d.pending() == 0);
}

TEST_CASE("drift events: only the leader sends, and a new term is a new baseline",
          "[kube][drift_events]") {
  fixture f;
  f.api.replies = {created};
  f.leader.lost();
  f.publish({{"team-a", both}, {"team-b", both}});
  f.publish({{"team-a", none}, {"team-b", both}});  // seen as a follower
  f.drain();
  CHECK(f.api.calls.empty());

  f.leader.acquired();
  f.publish({{"team-a", none}, {"team-b", both}});
  f.drain();
  CHECK(f.api.calls.empty());  // what the follower saw makes no Event

  f.publish({{"team-a", none}, {"team-b", none}});
  f.drain();
  auto e = f.events();
  REQUIRE(e.size() == 1);
  CHECK(e[0]["regarding"]["name"] == "team-b");
  CHECK(e[0]["reason"] == "BaselineMissing");
}

TEST_CASE("drift events: leadership lost before the create drops the Event",
          "[kube][drift_events]") {
  fixture f;
  f.publish({{"team-a", both}});
  f.publish({{"team-a", none}});
  f.leader.lost();
  f.drain();
  CHECK(f.api.calls.empty());
  CHECK(f.m.events(false) == 0);
}

TEST_CASE("drift events: a flap within the window coalesces to nothing", "[kube][drift_events]") {
  fixture f;
  f.d.set_coalesce_window(std::chrono::hours(1));
  f.publish({{"team-a", both}, {"team-b", both}});
  f.publish({{"team-a", none}, {"team-b", none}});
  CHECK(f.d.pending() == 2);
  f.publish({{"team-a", both}, {"team-b", none}});
  CHECK(f.d.pending() == 1);  // team-a flapped back: neither Event is sent
  f.drain();
  CHECK(f.api.calls.empty());  // team-b waits for its window
}

TEST_CASE("drift events: the queue is bounded and counts what it drops", "[kube][drift_events]") {
  fixture f;
  f.d.set_coalesce_window(std::chrono::hours(1));
  f.d.set_max_pending(2);
  f.publish({{"a", both}, {"b", both}, {"c", both}, {"d", both}});
  f.publish({{"a", none}, {"b", none}, {"c", none}, {"d", none}});
  CHECK(f.d.pending() == 2);
  CHECK(f.m.errors(kube_error::event_failed) == 2);
  CHECK(f.api.calls.empty());
}

TEST_CASE("drift events: a 500 is retried once, then counted as a failure",
          "[kube][drift_events]") {
  fixture f;
  f.api.replies = {{500, "boom", ""}, {500, "boom", ""}, {400, "invalid", ""}};
  f.publish({{"team-a", both}, {"team-b", both}});
  f.publish({{"team-a", none}, {"team-b", both}});
  f.drain();
  CHECK(f.api.calls.size() == 2);
  CHECK(f.m.events(false) == 1);
  CHECK(f.m.events(true) == 0);
  CHECK(f.m.errors(kube_error::event_failed) == 1);

  // A 400 is not retried.
  f.publish({{"team-a", none}, {"team-b", none}});
  f.drain();
  CHECK(f.api.calls.size() == 3);
  CHECK(f.m.events(false) == 2);
  CHECK(f.m.errors(kube_error::event_failed) == 2);
}

TEST_CASE("drift events: nothing before both lists are in", "[kube][drift_events]") {
  SECTION("without a probe, Namespaces listed before policies") {
    fixture f;
    f.publish({{"team-a", none}, {"team-b", none}});  // no policy listed yet
    f.publish({{"team-a", both}, {"team-b", none}});  // the policies' list
    f.drain();
    CHECK(f.api.calls.empty());
    f.api.replies = {created};
    f.publish({{"team-a", none}, {"team-b", none}});
    f.drain();
    CHECK(f.api.calls.size() == 1);
  }
  SECTION("with a probe") {
    fixture f;
    bool lists_in = false;
    f.d.set_sync_probe([&] { return lists_in; });
    f.publish({{"team-a", both}});
    f.publish({{"team-a", none}});
    f.drain();
    CHECK(f.api.calls.empty());
    lists_in = true;
    f.api.replies = {created};
    f.publish({{"team-a", both}});
    f.drain();
    REQUIRE(f.api.calls.size() == 1);
    CHECK(json::parse(f.api.calls[0].body)["reason"] == "BaselineRestored");
  }
}

TEST_CASE("drift events: destroyed without start, or after stop", "[kube][drift_events]") {
  fake_api api;
  kube_stats m;
  leadership leader = leadership::alone();
  {
    drift_events d(api, options(), leader, m);
    d.published(*snap({{"team-a", both}}));
    d.published(*snap({{"team-a", none}}));
    CHECK(d.pending() == 1);
  }
  net::io_context ioc;
  {
    drift_events d(api, options(), leader, m);
    d.start(ioc.get_executor());
    d.stop();
    d.stop();
  }
  ioc.run_for(std::chrono::seconds(5));
  CHECK(ioc.stopped());
  CHECK(api.calls.empty());
}

TEST_CASE("drift events: publishes from another thread while the sender runs",
          "[kube][drift_events]") {
  fake_api api;
  for (int i = 0; i < 2000; ++i) api.replies.push_back(created);
  kube_stats m;
  leadership leader = leadership::alone();
  net::io_context ioc;
  auto work = net::make_work_guard(ioc);
  drift_events d(api, options(), leader, m, [] { return wall_now; });
  d.set_coalesce_window(std::chrono::milliseconds(0));
  d.start(ioc.get_executor());
  std::thread sender([&] { ioc.run(); });
  auto flip = [](bool compliant) {
    std::vector<row> rows;
    for (int i = 0; i < 20; ++i)
      rows.push_back({"ns-" + std::to_string(i), compliant ? both : none});
    return snap(rows);
  };
  const auto full = flip(true), open = flip(false);
  d.published(*full);
  for (int i = 0; i < 100; ++i) d.published(i % 2 == 0 ? *open : *full);
  d.published(*open);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  d.stop();
  work.reset();
  sender.join();
  // Per namespace, what was sent alternates and starts with a loss.
  std::map<std::string, std::string> last;
  for (const auto& c : api.calls) {
    auto e = json::parse(c.body);
    const std::string ns = e["regarding"]["name"];
    const std::string reason = e["reason"];
    CHECK(reason != (last.contains(ns) ? last[ns] : "BaselineRestored"));
    last[ns] = reason;
  }
  CHECK(last.size() == 20);  // the final loss of each namespace was sent
  for (const auto& [ns, reason] : last) CHECK(reason == "BaselineMissing");
  CHECK(m.events(true) == api.calls.size());
}
