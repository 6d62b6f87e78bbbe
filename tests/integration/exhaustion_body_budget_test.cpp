// Memory exhaustion by unauthenticated in-cluster clients, against the real
// binary (issue 11, problem 3): request bodies that fill memory. The body
// budget (--max-buffered-request-bytes and its per-source share) reserves a
// body's bytes before they are read; over it the server answers 503 and
// closes. Attackers use their own loopback source addresses (127.0.0.2...),
// so per-source limits see them as other pods; the fresh client is 127.0.0.1,
// as the apiserver would be another source.
#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <iostream>
#include <thread>
#include <vector>

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
constexpr long default_body_budget_kb = 64 * 1024;
constexpr std::size_t default_max_request_bytes = 8 * 1024 * 1024;
// Memory beyond the body budget a busy server may use (TLS state, buffers).
constexpr long overhead_allowance_kb = 32 * 1024;

}  // namespace

TEST_CASE("unfinished 8 MiB bodies from many connections: memory stays within the body budget",
          "[integration][exhaustion]") {
  std::signal(SIGPIPE, SIG_IGN);
  keep_asan_quarantine_small();
  server_process s({"--policies", examples()});
  REQUIRE(answered_correctly(post_once(s.port(), review("warm-up")), "warm-up"));
  const long rss_before = proc_status_kb(s.pid(), "VmRSS");
  rss_sampler sampler(s.pid());

  // The issue's attack: 36 connections, each declaring the default largest
  // body and sending all of it but the last byte, from two pods.
  constexpr int attackers = 36;
  const std::string head =
      "POST /validate HTTP/1.1\r\nHost: localhost\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
      std::to_string(default_max_request_bytes) + "\r\n\r\n";
  const std::string body(default_max_request_bytes - 1, ' ');
  std::atomic<bool> stop{false};
  std::atomic<int> done{0}, fully_sent{0}, refused_503{0};
  std::vector<std::thread> threads;
  const auto attack_start = clock_type::now();
  for (int i = 0; i < attackers; ++i) {
    threads.emplace_back([&, i] {
      raw_connection c;
      if (connect_from(c, source_address(2 + i % 2), s.port(), true) && c.send(head)) {
        bool sent = true;
        for (std::size_t at = 0; at < body.size() && sent && !stop; at += 65536) {
          sent = c.send(std::string_view(body).substr(at, 65536));
        }
        if (sent) {
          ++fully_sent;
        } else if (c.read_head(milliseconds(500)).rfind("HTTP/1.1 503", 0) == 0) {
          ++refused_503;
        }
      }
      ++done;
      // Hold the unfinished request until the test is over.
      while (!stop) std::this_thread::sleep_for(milliseconds(20));
    });
  }
  eventually([&] { return done == attackers; }, std::chrono::seconds(8));
  const long attack_ms = ms_since(attack_start);
  const auto fresh = fresh_review(s.port(), "during-memory-attack");
  auto m = http_get(s.health_port(), "/metrics");
  stop = true;
  for (auto& t : threads) t.join();
  const long peak = sampler.finish();
  const long hwm = proc_status_kb(s.pid(), "VmHWM");

  std::cout << "FIGURE memory-attack: " << attackers << " connections x "
            << default_max_request_bytes << " B declared; VmRSS before " << rss_before
            << " kB, peak " << peak << " kB (+" << (peak - rss_before) / 1024 << " MiB), VmHWM "
            << hwm << " kB; bodies fully sent " << fully_sent << ", refused with 503 "
            << refused_503 << ", attack set up in " << attack_ms << " ms; fresh client "
            << (fresh.ok ? "answered" : "NOT answered") << " in " << fresh.wait_ms << " ms"
            << std::endl;
  REQUIRE(s.running());
  CHECK(peak - rss_before < default_body_budget_kb + overhead_allowance_kb);
  CHECK(fresh.ok);
  CHECK(fresh.wait_ms < max_fresh_wait.count());
  // Two sources of 16 MiB each hold two reservations of 8 MiB each; the
  // other connections were refused before their bodies were read.
  REQUIRE(m);
  CHECK(metric(m->body, R"(netpol_guard_requests_over_budget_total{budget="per_source"})") >=
        attackers - 4 - 2);
}

TEST_CASE("the body budget: over it 503 with a JSON error and a close, then released",
          "[integration][exhaustion]") {
  std::signal(SIGPIPE, SIG_IGN);
  constexpr std::size_t mib = 1024 * 1024;
  server_process s({"--policies", examples(), "--max-request-bytes=1048576",
                    "--max-buffered-request-bytes=2097152",
                    "--max-buffered-request-bytes-per-source=1048576"});
  auto head = [](std::size_t length) {
    return "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
           "Content-Length: " +
           std::to_string(length) + "\r\n\r\n";
  };
  auto expect_503 = [](raw_connection& c) {
    const std::string reply = c.read_head(milliseconds(3000));
    INFO(reply.substr(0, 400));
    CHECK(reply.rfind("HTTP/1.1 503", 0) == 0);
    CHECK(reply.find("Connection: close") != std::string::npos);
    CHECK(reply.find("Retry-After: 1") != std::string::npos);
    CHECK(reply.find("application/json") != std::string::npos);
    CHECK(reply.find("\"reason\":\"over_budget\"") != std::string::npos);
  };
  // Two sources each hold 1 MiB (their share), with half the body sent.
  raw_connection a, b;
  REQUIRE(connect_from(a, source_address(2), s.port(), true));
  REQUIRE(connect_from(b, source_address(3), s.port(), true));
  REQUIRE(a.send(head(mib) + std::string(mib / 2, ' ')));
  REQUIRE(b.send(head(mib) + std::string(mib / 2, ' ')));
  REQUIRE(eventually(
      [&] {
        auto m = http_get(s.health_port(), "/metrics");
        return m && metric(m->body, "netpol_guard_buffered_request_bytes") == 2.0 * mib;
      },
      milliseconds(3000)));

  SECTION("a third source is over the total budget") {
    raw_connection c;
    REQUIRE(connect_from(c, source_address(4), s.port(), true));
    REQUIRE(c.send(head(1000)));
    expect_503(c);
    // A chunked body is reserved chunk by chunk: refused at its first chunk.
    raw_connection d;
    REQUIRE(connect_from(d, source_address(5), s.port(), true));
    REQUIRE(
        d.send("POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
               "application/json\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n"));
    expect_503(d);
    auto m = http_get(s.health_port(), "/metrics");
    REQUIRE(m);
    CHECK(metric(m->body, R"(netpol_guard_requests_over_budget_total{budget="total"})") == 2);
  }
  SECTION("a second request from a source at its share is over the per-source budget") {
    a.close();  // its share returns once the server sees the close
    REQUIRE(eventually(
        [&] {
          auto m = http_get(s.health_port(), "/metrics");
          return m && metric(m->body, "netpol_guard_buffered_request_bytes") == 1.0 * mib;
        },
        milliseconds(3000)));
    raw_connection c;
    REQUIRE(connect_from(c, source_address(3), s.port(), true));
    REQUIRE(c.send(head(2000)));
    expect_503(c);
    auto m = http_get(s.health_port(), "/metrics");
    REQUIRE(m);
    CHECK(metric(m->body, R"(netpol_guard_requests_over_budget_total{budget="per_source"})") == 1);
    // Another source still has room: a valid review is answered.
    CHECK(answered_correctly(post_once(s.port(), review("room-left")), "room-left"));
  }
  // Once the holders go, the whole budget is free again.
  a.close();
  b.close();
  CHECK(eventually(
      [&] {
        auto m = http_get(s.health_port(), "/metrics");
        return m && metric(m->body, "netpol_guard_buffered_request_bytes") == 0;
      },
      milliseconds(3000)));
  CHECK(answered_correctly(post_once(s.port(), review("after")), "after"));
}
