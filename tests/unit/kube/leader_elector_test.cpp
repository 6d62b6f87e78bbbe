#include "netpol_guard/kube/leader_elector.hpp"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "lease_server.hpp"
#include "scripted_source.hpp"

using namespace netpol_guard;
using namespace netpol_guard::kube;
using netpol_guard::kube::testing::fake_api;
using netpol_guard::kube::testing::fake_clock;
namespace net = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

const std::string lease = "/apis/coordination.k8s.io/v1/namespaces/netpol-guard-system/leases";
const std::string lease_one = lease + "/netpol-guard";
const std::string me = "web-0_aaaa";
const std::string t0 = "2026-12-02T03:00:00.123456Z";

// A wall clock that moves only when told, starting at t0.
struct fake_wall {
  std::chrono::system_clock::time_point now{seconds(1796180400) +
                                            std::chrono::microseconds(123456)};
  wall_clock_fn fn() {
    return [this] { return now; };
  }
};

// fake_api, also recording each request's timeout.
class timed_api final : public api_transport {
 public:
  fake_api inner;
  std::vector<milliseconds> timeouts;
  net::awaitable<api_reply> request(http::verb verb, std::string target, std::string body,
                                    milliseconds timeout) override {
    timeouts.push_back(timeout);
    co_return co_await inner.request(verb, std::move(target), std::move(body), timeout);
  }
  net::awaitable<watch_outcome> stream(std::string target, milliseconds t,
                                       std::function<bool(std::string_view)> f) override {
    co_return co_await inner.stream(std::move(target), t, std::move(f));
  }
};

std::string lease_body(const std::string& holder, const std::string& rv, int transitions = 0,
                       const std::string& renew = t0, const std::string& acquire = t0,
                       int duration = 15) {
  return json{
      {"apiVersion", "coordination.k8s.io/v1"},
      {"kind", "Lease"},
      {"metadata",
       {{"name", "netpol-guard"}, {"namespace", "netpol-guard-system"}, {"resourceVersion", rv}}},
      {"spec",
       {{"holderIdentity", holder},
        {"leaseDurationSeconds", duration},
        {"acquireTime", acquire},
        {"renewTime", renew},
        {"leaseTransitions", transitions}}}}
      .dump();
}

leader_election_options options() {
  leader_election_options o;
  o.lease_namespace = "netpol-guard-system";
  o.identity = me;
  return o;
}

double transitions(const kube_stats& m) {
  stats::exposition out;
  m.write_leader(out);
  std::istringstream lines(out.text());
  const std::string series = "netpol_guard_leader_transitions_total ";
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series, 0) == 0) return std::stod(line.substr(series.size()));
  }
  return -1;
}

template <class T>
T run(net::io_context& ioc, net::awaitable<T> work) {
  std::optional<T> out;
  net::co_spawn(ioc, std::move(work), [&](std::exception_ptr e, T v) {
    if (e) std::rethrow_exception(e);
    out = v;
  });
  ioc.restart();
  ioc.run();
  REQUIRE(out);
  return *out;
}

struct fixture {
  timed_api api;
  kube_stats m;
  leadership state;
  fake_clock steady;
  fake_wall wall;
  net::io_context ioc;
  leader_elector e{api, options(), state, m, steady.fn(), wall.fn()};

  std::deque<api_reply>& replies() { return api.inner.replies; }
  std::vector<fake_api::call>& calls() { return api.inner.calls; }
  json body(std::size_t i) { return json::parse(calls().at(i).body); }
  bool attempt() { return run(ioc, e.try_acquire_or_renew()); }
  milliseconds step() { return run(ioc, e.step()); }
  void advance(std::chrono::steady_clock::duration d) {
    steady.advance(d);
    wall.now += d;
  }
  // Gains the Lease by creating it (resourceVersion "10").
  void lead() {
    replies() = {{404, "", ""}, {201, lease_body(me, "10"), ""}};
    REQUIRE(step() == seconds(2));
    REQUIRE(state.leading());
    calls().clear();
    api.timeouts.clear();
  }
};

}  // namespace

TEST_CASE("an absent Lease is created with this replica as holder", "[kube][leader]") {
  fixture f;
  f.replies() = {{404, "", ""}, {201, lease_body(me, "10"), ""}};
  CHECK(f.attempt());
  REQUIRE(f.calls().size() == 2);
  CHECK(f.calls()[0].verb == http::verb::get);
  CHECK(f.calls()[0].target == lease_one);
  CHECK(f.calls()[1].verb == http::verb::post);
  CHECK(f.calls()[1].target == lease);
  CHECK(f.body(1) == json::parse(R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
    "metadata":{"name":"netpol-guard","namespace":"netpol-guard-system"},
    "spec":{"holderIdentity":"web-0_aaaa","leaseDurationSeconds":15,
            "acquireTime":"2026-12-02T03:00:00.123456Z","renewTime":"2026-12-02T03:00:00.123456Z",
            "leaseTransitions":0}})"));
  // try_acquire_or_renew only says; the loop's step leads.
  CHECK_FALSE(f.state.leading());
}

TEST_CASE("gaining the Lease leads: state, gauge, transition, term 1", "[kube][leader]") {
  fixture f;
  f.lead();
  CHECK(f.state.term() == 1);
  CHECK(f.m.leader());
  CHECK(transitions(f.m) == 1);
  CHECK(f.m.errors(kube_error::lease_failed) == 0);
}

TEST_CASE("another holder's Lease that keeps changing is not taken", "[kube][leader]") {
  fixture f;
  f.replies() = {{200, lease_body("web-1_bbbb", "7"), ""}};
  CHECK_FALSE(f.attempt());
  f.advance(seconds(10));
  f.replies() = {{200, lease_body("web-1_bbbb", "8", 0, "2026-12-02T03:00:10.000000Z"), ""}};
  CHECK_FALSE(f.attempt());
  // 20s after the first look, but only 10s after the record last changed.
  f.advance(seconds(10));
  f.replies() = {{200, lease_body("web-1_bbbb", "8", 0, "2026-12-02T03:00:10.000000Z"), ""}};
  CHECK_FALSE(f.attempt());
  for (const auto& c : f.calls()) CHECK(c.verb == http::verb::get);
  CHECK(f.calls().size() == 3);
  CHECK(f.m.errors(kube_error::lease_failed) == 0);
}

TEST_CASE("a Lease renewed long ago by the server's clock is not taken when just observed",
          "[kube][leader]") {
  fixture f;
  // Its renewTime is years behind our wall clock: a skewed clock, or a holder
  // whose renewals we have not seen yet. Only our own observation counts.
  const std::string old = "2020-01-01T00:00:00.000000Z";
  f.replies() = {{200, lease_body("web-1_bbbb", "7", 0, old, old), ""}};
  CHECK_FALSE(f.attempt());
  CHECK(f.calls().size() == 1);
}

TEST_CASE("a Lease unchanged for its duration on the local clock is taken", "[kube][leader]") {
  fixture f;
  f.replies() = {{200, lease_body("web-1_bbbb", "7", 3), ""}};
  CHECK_FALSE(f.attempt());
  f.advance(seconds(14));
  f.replies() = {{200, lease_body("web-1_bbbb", "7", 3), ""}};
  CHECK_FALSE(f.attempt());
  f.advance(seconds(1));
  f.replies() = {{200, lease_body("web-1_bbbb", "7", 3), ""},
                 {200, lease_body(me, "8", 4, "2026-12-02T03:00:15.123456Z"), ""}};
  CHECK(f.attempt());
  REQUIRE(f.calls().size() == 4);
  const auto& put = f.calls()[3];
  CHECK(put.verb == http::verb::put);
  CHECK(put.target == lease_one);
  auto b = f.body(3);
  CHECK(b["metadata"]["resourceVersion"] == "7");
  CHECK(b["spec"]["holderIdentity"] == me);
  CHECK(b["spec"]["leaseTransitions"] == 4);
  CHECK(b["spec"]["acquireTime"] == "2026-12-02T03:00:15.123456Z");
  CHECK(b["spec"]["renewTime"] == "2026-12-02T03:00:15.123456Z");
  CHECK(b["spec"]["leaseDurationSeconds"] == 15);
}

TEST_CASE("a released Lease is taken at once", "[kube][leader]") {
  fixture f;
  f.replies() = {{200, lease_body("", "7", 2, t0, t0, 1), ""}, {200, lease_body(me, "8", 3), ""}};
  CHECK(f.attempt());
  REQUIRE(f.calls().size() == 2);
  auto b = f.body(1);
  CHECK(b["metadata"]["resourceVersion"] == "7");
  CHECK(b["spec"]["holderIdentity"] == me);
  CHECK(b["spec"]["leaseTransitions"] == 3);
}

TEST_CASE("a renewal keeps acquireTime and transitions and carries the resourceVersion",
          "[kube][leader]") {
  fixture f;
  f.lead();
  f.advance(seconds(2));
  const std::string t2 = "2026-12-02T03:00:02.123456Z";
  f.replies() = {{200, lease_body(me, "11", 0, t2), ""}};
  CHECK(f.step() == seconds(2));
  // The fast path: no read, the update based on the Lease as last written.
  REQUIRE(f.calls().size() == 1);
  CHECK(f.calls()[0].verb == http::verb::put);
  auto b = f.body(0);
  CHECK(b["metadata"]["resourceVersion"] == "10");
  CHECK(b["spec"]["acquireTime"] == t0);
  CHECK(b["spec"]["renewTime"] == t2);
  CHECK(b["spec"]["leaseTransitions"] == 0);

  // Someone else wrote (a label, say) but left us holding: 409, read, update.
  f.advance(seconds(2));
  f.calls().clear();
  const std::string t4 = "2026-12-02T03:00:04.123456Z";
  f.replies() = {{409, "", ""},
                 {200, lease_body(me, "12", 0, t2), ""},
                 {200, lease_body(me, "13", 0, t4), ""}};
  CHECK(f.step() == seconds(2));
  REQUIRE(f.calls().size() == 3);
  CHECK(f.body(0)["metadata"]["resourceVersion"] == "11");
  CHECK(f.calls()[1].verb == http::verb::get);
  b = f.body(2);
  CHECK(b["metadata"]["resourceVersion"] == "12");
  CHECK(b["spec"]["acquireTime"] == t0);
  CHECK(b["spec"]["renewTime"] == t4);
  CHECK(f.state.leading());
  CHECK(f.state.term() == 1);
  CHECK(transitions(f.m) == 1);
}

TEST_CASE("a 409 on create or update is a lost race, not an error", "[kube][leader]") {
  fixture f;
  f.replies() = {{404, "", ""}, {409, "AlreadyExists", ""}};
  CHECK_FALSE(f.attempt());
  f.replies() = {{200, lease_body("", "7"), ""}, {409, "Conflict", ""}};
  CHECK_FALSE(f.attempt());
  CHECK(f.calls().size() == 4);
  CHECK(f.m.errors(kube_error::lease_failed) == 0);
}

TEST_CASE("a renewal that sees another holder loses leadership at once", "[kube][leader]") {
  fixture f;
  f.lead();
  f.advance(seconds(2));
  f.replies() = {{409, "", ""}, {200, lease_body("web-1_bbbb", "11", 1), ""}};
  const milliseconds next = f.step();
  CHECK_FALSE(f.state.leading());
  CHECK_FALSE(f.m.leader());
  CHECK(transitions(f.m) == 2);
  CHECK(f.m.errors(kube_error::lease_failed) == 0);
  CHECK(f.calls().size() == 2);
  // Back to a candidate: a jittered retry period.
  CHECK(next >= seconds(2));
  CHECK(next <= milliseconds(4400));
}

TEST_CASE("renewals failing past the renew deadline lose it; the next gain is a new term",
          "[kube][leader]") {
  fixture f;
  f.lead();
  // No replies: every request answers 503.
  f.advance(seconds(2));
  CHECK(f.step() == seconds(2));
  CHECK(f.state.leading());
  CHECK(f.m.errors(kube_error::lease_failed) == 1);
  // Each request of a renewal ends by the deadline (t+10s): 8s left here.
  REQUIRE(f.api.timeouts.size() == 2);
  CHECK(f.api.timeouts[0] == seconds(8));
  CHECK(f.api.timeouts[1] == seconds(8));

  f.advance(seconds(7));  // t+9: one second left, so the next turn comes at the deadline
  CHECK(f.step() == seconds(1));
  CHECK(f.state.leading());
  CHECK(f.api.timeouts.back() == seconds(1));

  f.advance(seconds(1));  // t+10: the deadline
  f.api.timeouts.clear();
  const milliseconds next = f.step();
  CHECK_FALSE(f.state.leading());
  CHECK_FALSE(f.m.leader());
  CHECK(transitions(f.m) == 2);
  CHECK(f.m.errors(kube_error::lease_failed) == 3);
  CHECK(next >= seconds(2));
  // As a candidate its requests get the whole renew deadline.
  REQUIRE_FALSE(f.api.timeouts.empty());
  CHECK(f.api.timeouts.back() == seconds(10));

  // The apiserver answers again and the Lease is still ours: a new term.
  f.advance(seconds(2));
  f.calls().clear();
  f.replies() = {{200, lease_body(me, "11", 0, "2026-12-02T03:00:12.123456Z"), ""}};
  CHECK(f.step() == seconds(2));
  CHECK(f.state.leading());
  CHECK(f.state.term() == 2);
  CHECK(transitions(f.m) == 3);
  REQUIRE(f.calls().size() == 1);
  // Still its holder on the server: acquireTime and transitions stay.
  CHECK(f.body(0)["spec"]["acquireTime"] == t0);
  CHECK(f.body(0)["spec"]["leaseTransitions"] == 0);
}

TEST_CASE("release() clears the holder and sets leaseDurationSeconds to 1", "[kube][leader]") {
  fixture f;
  f.lead();
  f.advance(seconds(1));
  f.replies() = {{200, lease_body(me, "11", 5), ""}, {200, lease_body("", "12", 5), ""}};
  run(f.ioc, [&]() -> net::awaitable<bool> {
    co_await f.e.release();
    co_return true;
  }());
  CHECK_FALSE(f.state.leading());
  CHECK_FALSE(f.m.leader());
  REQUIRE(f.calls().size() == 2);
  CHECK(f.calls()[0].verb == http::verb::get);
  CHECK(f.calls()[1].verb == http::verb::put);
  auto b = f.body(1);
  CHECK(b["metadata"]["resourceVersion"] == "11");
  CHECK(b["spec"]["holderIdentity"] == "");
  CHECK(b["spec"]["leaseDurationSeconds"] == 1);
  CHECK(b["spec"]["leaseTransitions"] == 5);
  CHECK(b["spec"]["renewTime"] == "2026-12-02T03:00:01.123456Z");
  CHECK(f.m.errors(kube_error::lease_failed) == 0);
  for (auto t : f.api.timeouts) CHECK(t <= seconds(10));
}

TEST_CASE("release() leaves a Lease it does not hold alone", "[kube][leader]") {
  SECTION("never held: no request at all") {
    fixture f;
    run(f.ioc, [&]() -> net::awaitable<bool> {
      co_await f.e.release();
      co_return true;
    }());
    CHECK(f.calls().empty());
  }
  SECTION("taken meanwhile: read, no write") {
    fixture f;
    f.lead();
    f.replies() = {{200, lease_body("web-1_bbbb", "11", 1), ""}};
    run(f.ioc, [&]() -> net::awaitable<bool> {
      co_await f.e.release();
      co_return true;
    }());
    REQUIRE(f.calls().size() == 1);
    CHECK(f.calls()[0].verb == http::verb::get);
    CHECK_FALSE(f.state.leading());
  }
}

TEST_CASE("stop() loses leadership at once and a stopped elector gains nothing", "[kube][leader]") {
  fixture f;
  f.lead();
  f.e.stop();
  CHECK_FALSE(f.state.leading());
  CHECK_FALSE(f.m.leader());
  CHECK(transitions(f.m) == 2);
  f.replies() = {{404, "", ""}, {201, lease_body(me, "10"), ""}};
  f.step();
  CHECK_FALSE(f.state.leading());
  CHECK(f.calls().empty());
}

TEST_CASE("the loop gains the Lease, then loses it when the apiserver fails", "[kube][leader]") {
  // Real time, in milliseconds; the executor runs on two threads, as serve's does.
  net::io_context ioc;
  fake_api api;
  kube_stats m;
  leadership state;
  leader_election_options o = options();
  o.lease_duration = milliseconds(900);
  o.renew_deadline = milliseconds(300);
  o.retry_period = milliseconds(50);
  api.replies = {{404, "", ""},
                 {201, lease_body(me, "10", 0, t0, t0, 1), ""},
                 {200, lease_body(me, "11", 0, t0, t0, 1), ""},
                 {200, lease_body(me, "12", 0, t0, t0, 1), ""}};
  // Then every request answers 503.
  leader_elector e(api, o, state, m);
  std::atomic<bool> gained{false};
  std::atomic<bool> lost{false};
  std::chrono::steady_clock::time_point gained_at;
  std::chrono::steady_clock::duration led_for{};
  e.start(ioc.get_executor());
  // Named: the coroutine refers to the closure, which must outlive it.
  auto watch_leadership = [&]() -> net::awaitable<void> {
    net::steady_timer t(co_await net::this_coro::executor);
    for (int i = 0; i < 400 && !lost; ++i) {
      if (state.leading() && !gained) {
        gained = true;
        gained_at = std::chrono::steady_clock::now();
      }
      if (gained && !state.leading()) {
        lost = true;
        led_for = std::chrono::steady_clock::now() - gained_at;
      }
      t.expires_after(milliseconds(5));
      co_await t.async_wait(net::use_awaitable);
    }
    e.stop();
  };
  net::co_spawn(ioc, watch_leadership(), net::detached);
  std::thread second([&] { ioc.run_for(seconds(5)); });
  ioc.run_for(seconds(5));
  second.join();
  CHECK(ioc.stopped());  // the loop ended after stop(), before the run's deadline
  CHECK(gained);
  CHECK(lost);
  CHECK(state.term() == 1);
  CHECK_FALSE(m.leader());
  CHECK(transitions(m) == 2);
  CHECK(m.errors(kube_error::lease_failed) >= 1);
  // Two renewals succeeded (~100ms), then it led until the renew deadline (300ms)
  // after the last of them: not at the first failure, not much later.
  CHECK(led_for >= milliseconds(300));
  CHECK(led_for < milliseconds(1500));
  REQUIRE(api.calls.size() >= 5);
  CHECK(api.calls[4].verb == http::verb::put);
}

TEST_CASE("two replicas on one Lease: one leads, the other takes over", "[kube][leader]") {
  testing::lease_server server;
  fake_clock steady;
  fake_wall wall;
  kube_stats ma, mb;
  leadership a_state, b_state;
  net::io_context ioc;
  auto as = [](std::string id) {
    auto o = options();
    o.identity = std::move(id);
    return o;
  };
  leader_elector a(server, as("web-0_a"), a_state, ma, steady.fn(), wall.fn());
  leader_elector b(server, as("web-1_b"), b_state, mb, steady.fn(), wall.fn());
  auto both_step = [&] {
    run(ioc, a.step());
    run(ioc, b.step());
  };
  both_step();
  CHECK(a_state.leading());
  CHECK_FALSE(b_state.leading());
  for (int i = 0; i < 10; ++i) {  // 20s of renewals: b never takes it
    steady.advance(seconds(2));
    wall.now += seconds(2);
    both_step();
    REQUIRE(a_state.leading());
    REQUIRE_FALSE(b_state.leading());
  }
  const auto renewed = steady.now;  // b last saw the Lease change here

  SECTION("a released Lease is taken at the next try") {
    run(ioc, [&]() -> net::awaitable<bool> {
      co_await a.release();
      co_return true;
    }());
    CHECK(server.lease()->at("spec").at("holderIdentity") == "");
    run(ioc, b.step());
    CHECK(b_state.leading());
    CHECK(server.lease()->at("spec").at("holderIdentity") == "web-1_b");
    CHECK(server.lease()->at("spec").at("leaseTransitions") == 1);
  }
  SECTION("a vanished leader's Lease is taken once unchanged for leaseDuration") {
    a.stop();  // no release: as if its node were lost
    while (steady.now + seconds(2) < renewed + seconds(15)) {
      steady.advance(seconds(2));
      run(ioc, b.step());
      REQUIRE_FALSE(b_state.leading());
    }
    steady.advance(seconds(2));
    run(ioc, b.step());
    CHECK(b_state.leading());
    CHECK(steady.now - renewed >= seconds(15));
    CHECK(server.lease()->at("spec").at("leaseTransitions") == 1);
  }
  CHECK_FALSE(a_state.leading());
  CHECK(b_state.term() == 1);
}

TEST_CASE("two looping replicas on several threads: one leader, failover on release",
          "[kube][leader]") {
  net::io_context ioc;
  testing::lease_server server;
  kube_stats ma, mb;
  leadership a_state, b_state;
  auto as = [](std::string id) {
    auto o = options();
    o.identity = std::move(id);
    o.lease_duration = milliseconds(2000);
    o.renew_deadline = milliseconds(300);
    o.retry_period = milliseconds(20);
    return o;
  };
  leader_elector a(server, as("web-0_a"), a_state, ma);
  leader_elector b(server, as("web-1_b"), b_state, mb);
  std::atomic<int> both_led{0};
  std::atomic<bool> failed_over{false};
  std::string first;
  auto watch = [&]() -> net::awaitable<void> {
    net::steady_timer t(co_await net::this_coro::executor);
    auto pause = [&]() -> net::awaitable<void> {
      t.expires_after(milliseconds(5));
      co_await t.async_wait(net::use_awaitable);
    };
    for (int i = 0; i < 200 && !a_state.leading() && !b_state.leading(); ++i) co_await pause();
    for (int i = 0; i < 20; ++i) {  // 100ms of renewals: still one leader
      if (a_state.leading() && b_state.leading()) ++both_led;
      co_await pause();
    }
    leader_elector& leader = a_state.leading() ? a : b;
    leadership& other = a_state.leading() ? b_state : a_state;
    first = a_state.leading() ? "a" : "b";
    co_await leader.release();
    for (int i = 0; i < 200 && !other.leading(); ++i) co_await pause();
    failed_over = other.leading();
    a.stop();
    b.stop();
  };
  a.start(ioc.get_executor());
  b.start(ioc.get_executor());
  net::co_spawn(ioc, watch(), net::detached);
  std::thread second([&] { ioc.run_for(seconds(5)); });
  ioc.run_for(seconds(5));
  second.join();
  CHECK(ioc.stopped());
  CHECK_FALSE(first.empty());
  CHECK(both_led == 0);
  CHECK(failed_over);
  CHECK(server.lease()->at("spec").at("leaseTransitions") == 1);
  CHECK(a_state.term() + b_state.term() == 2);
}
