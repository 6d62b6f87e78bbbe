// Connection exhaustion by unauthenticated in-cluster clients, against the
// real binary with its default limits (issue 11, problems 4 and 5): idle TLS
// connections that fill the webhook's connection slots, idle TCP connections
// that fill the health port, one source taking more than its share, and
// connections that never send a request. Each test performs the attack
// (bounded in count and time), measures how long a fresh client waits, and
// checks that a valid AdmissionReview or /healthz is still answered.
// Attackers use their own loopback source addresses (127.0.0.2...), so
// per-source limits see them as other pods; the fresh client is 127.0.0.1, as
// the apiserver would be another source.
#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <iostream>
#include <thread>

#include "../support/connection_flood.hpp"
#include "../support/process_memory.hpp"
#include "../support/raw_connection.hpp"
#include "../support/server_process.hpp"
#include "../support/tls_client.hpp"
#include "exhaustion_probe.hpp"

using namespace netpol_guard::testing;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

namespace {

// The server's defaults these tests hold it to (server_config).
constexpr int default_max_connections = 512;
constexpr int default_connections_per_source = 128;
constexpr int default_health_max_connections = 64;
constexpr int default_health_connections_per_source = 16;

// How many connections `listener` refused because their source held its share.
double refused_per_source(const server_process& s, const std::string& listener) {
  auto m = http_get(s.health_port(), "/metrics");
  REQUIRE(m);
  return metric(m->body, "netpol_guard_connections_refused_total{listener=\"" + listener +
                             "\",reason=\"per_source_limit\"}");
}

}  // namespace

TEST_CASE("idle TLS connections filling every slot do not lock out new clients or the pool",
          "[integration][exhaustion]") {
  std::signal(SIGPIPE, SIG_IGN);
  server_process s({"--policies", examples()});
  // The apiserver's pooled keep-alive connection, opened before the attack.
  tls_client pooled(s.port());
  std::string error;
  REQUIRE(pooled.connect(error));
  REQUIRE(answered_correctly(pooled.post(review("pooled-0")), "pooled-0"));
  const long rss_before = proc_status_kb(s.pid(), "VmRSS");

  // The issue's attack: the default --max-connections of idle TLS connections,
  // from four pods (each at the default per-source limit), kept topped up.
  constexpr int sources = default_max_connections / default_connections_per_source;
  const auto attack_start = clock_type::now();
  connection_flood flood(s.port(), sources, default_connections_per_source, true);
  // The pooled connection holds one slot.
  // Sanitizer builds need longer for 512 handshakes.
  const bool filled = eventually([&] { return flood.open >= default_max_connections - 1; },
                                 std::chrono::seconds(20));
  const long fill_ms = ms_since(attack_start);

  int fresh_ok = 0, fresh_tries = 0, pooled_ok = 0, pooled_tries = 0;
  long worst_wait = 0;
  const auto probe_until = clock_type::now() + std::chrono::seconds(7);
  while (clock_type::now() < probe_until) {
    auto r = fresh_review(s.port(), "fresh-" + std::to_string(fresh_tries));
    ++fresh_tries;
    fresh_ok += r.ok ? 1 : 0;
    worst_wait = std::max(worst_wait, r.wait_ms);
    const auto uid = "pooled-" + std::to_string(++pooled_tries);
    pooled_ok += answered_correctly(pooled.post(review(uid)), uid) ? 1 : 0;
    std::this_thread::sleep_for(milliseconds(250));
  }
  const int open_at_end = flood.open;
  flood.finish();
  const long rss_peak = proc_status_kb(s.pid(), "VmHWM");
  auto m = http_get(s.health_port(), "/metrics");

  std::cout << "FIGURE connection-slots: " << sources << " sources x "
            << default_connections_per_source << " idle TLS connections, "
            << (filled ? "filled" : "NOT filled") << " in " << fill_ms
            << " ms; attacker connections opened " << flood.opened << ", closed by the server "
            << flood.lost << ", open at the end " << open_at_end << "; fresh clients answered "
            << fresh_ok << "/" << fresh_tries << ", worst wait " << worst_wait
            << " ms; pooled connection answered " << pooled_ok << "/" << pooled_tries
            << "; VmRSS before " << rss_before << " kB, VmHWM " << rss_peak << " kB" << std::endl;
  REQUIRE(s.running());
  CHECK(filled);
  CHECK(fresh_tries >= 5);
  CHECK(fresh_ok == fresh_tries);
  CHECK(worst_wait < max_fresh_wait.count());
  CHECK(pooled_ok == pooled_tries);
  REQUIRE(m);
  // Room was made by eviction (the first-request timeout frees some slots too).
  CHECK(metric(m->body, R"(netpol_guard_connections_evicted_total{listener="webhook"})") > 0);
}

TEST_CASE("one source cannot hold more than its share of webhook connections",
          "[integration][exhaustion]") {
  server_process s(
      {"--policies", examples(), "--max-connections-per-source=4", "--max-connections=8"});
  connection_flood flood(s.port(), 1, 6, true);
  std::this_thread::sleep_for(milliseconds(1500));
  const int settled = flood.settled();
  flood.finish();
  // The two over the share are refused (and retried) every round.
  CHECK(settled == 4);
  CHECK(refused_per_source(s, "webhook") >= 2);
  CHECK(answered_correctly(post_once(s.port(), review("other-source")), "other-source"));
}

TEST_CASE("a connection that sends no request is closed at the first-request timeout",
          "[integration][exhaustion]") {
  server_process s({"--policies", examples(), "--first-request-timeout=1s"});
  raw_connection tls_idle, tcp_idle;
  REQUIRE(connect_from(tls_idle, source_address(2), s.port(), true));
  REQUIRE(connect_from(tcp_idle, source_address(2), s.port(), false));
  const auto start = clock_type::now();
  CHECK(eventually([&] { return tls_idle.closed_now() && tcp_idle.closed_now(); },
                   milliseconds(3000)));
  const long took = ms_since(start);
  CHECK(took >= 800);
  std::cout << "FIGURE first-request-timeout=1s: idle TLS and TCP connections closed after " << took
            << " ms" << std::endl;
  // A client that does send gets its keep-alive idle timeout after the first answer.
  tls_client c(s.port());
  std::string error;
  REQUIRE(c.connect(error));
  REQUIRE(answered_correctly(c.post(review("a")), "a"));
  std::this_thread::sleep_for(milliseconds(1500));
  CHECK(answered_correctly(c.post(review("b")), "b"));
}

TEST_CASE("idle connections filling the health port do not make /healthz fail",
          "[integration][exhaustion]") {
  server_process s({"--policies", examples()});
  REQUIRE(http_get(s.health_port(), "/healthz"));
  // The issue's attack: 64 idle TCP connections kept topped up, here from as
  // many sources as it takes to fill the port despite the per-source limit.
  constexpr int sources = default_health_max_connections / default_health_connections_per_source;
  const auto attack_start = clock_type::now();
  connection_flood flood(s.health_port(), sources, default_health_connections_per_source, false);
  const bool filled = eventually([&] { return flood.open >= default_health_max_connections; },
                                 std::chrono::seconds(5));
  const long fill_ms = ms_since(attack_start);
  int ok = 0, tries = 0;
  long worst_wait = 0;
  const auto probe_until = clock_type::now() + std::chrono::seconds(5);
  while (clock_type::now() < probe_until) {
    const auto start = clock_type::now();
    auto r = http_get(s.health_port(), "/healthz");
    worst_wait = std::max(worst_wait, ms_since(start));
    ++tries;
    ok += r && r->status == 200 && r->body == "ok\n" ? 1 : 0;
    std::this_thread::sleep_for(milliseconds(200));
  }
  const int open_at_end = flood.open;
  flood.finish();
  const bool webhook_ok = answered_correctly(post_once(s.port(), review("health")), "health");
  auto m = http_get(s.health_port(), "/metrics");

  std::cout << "FIGURE health-port: " << sources << " sources x "
            << default_health_connections_per_source << " idle TCP connections, "
            << (filled ? "filled" : "NOT filled") << " in " << fill_ms << " ms; opened "
            << flood.opened << ", closed by the server " << flood.lost << ", open at the end "
            << open_at_end << "; /healthz answered " << ok << "/" << tries << ", worst wait "
            << worst_wait << " ms; VmHWM " << proc_status_kb(s.pid(), "VmHWM") << " kB"
            << std::endl;
  CHECK(filled);
  CHECK(tries >= 5);
  CHECK(ok == tries);
  CHECK(worst_wait < max_fresh_wait.count());
  CHECK(webhook_ok);
  REQUIRE(m);
  CHECK(metric(m->body, R"(netpol_guard_connections_evicted_total{listener="health"})") > 0);
}

TEST_CASE("one source cannot hold more than its share of health connections",
          "[integration][exhaustion]") {
  server_process s({"--policies", examples()});
  connection_flood flood(s.health_port(), 1, default_health_connections_per_source + 4, false);
  std::this_thread::sleep_for(milliseconds(1000));
  const int settled = flood.settled();
  flood.finish();
  CHECK(settled == default_health_connections_per_source);
  CHECK(refused_per_source(s, "health") >= 4);
}
