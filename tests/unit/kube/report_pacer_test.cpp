#include "netpol_guard/kube/report_pacer.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "scripted_source.hpp"

using namespace netpol_guard;
using namespace netpol_guard::kube;
using netpol_guard::kube::testing::fake_clock;
using namespace std::chrono_literals;

namespace {

report_pace pace() {
  return report_pace{
      .interval = 10s, .rate_per_second = 10, .burst = 20, .first_backoff = 1s, .max_backoff = 60s};
}

}  // namespace

TEST_CASE("a namespace is written at most once per interval", "[kube][report_pacer]") {
  fake_clock clock;
  report_pacer p(pace(), clock.fn());
  CHECK(p.namespace_ready_at("team-a") <= clock.now);
  CHECK(p.namespace_ready("team-a"));
  REQUIRE(p.try_write("team-a"));
  CHECK_FALSE(p.namespace_ready("team-a"));
  CHECK_FALSE(p.try_write("team-a"));
  CHECK(p.namespace_ready_at("team-a") == clock.now + 10s);
  // Another namespace is not held back.
  CHECK(p.try_write("team-b"));
  clock.advance(9s);
  CHECK_FALSE(p.try_write("team-a"));
  clock.advance(1s);
  CHECK(p.try_write("team-a"));
}

TEST_CASE("the token bucket allows a burst of 20, then 10 a second", "[kube][report_pacer]") {
  fake_clock clock;
  report_pacer p(pace(), clock.fn());
  int written = 0;
  for (int i = 0; i < 100; ++i) written += p.try_write("ns-" + std::to_string(i)) ? 1 : 0;
  CHECK(written == 20);
  CHECK_FALSE(p.write_ready());
  CHECK(p.write_ready_at() == clock.now + 100ms);
  clock.advance(100ms);
  CHECK(p.write_ready());
  clock.advance(900ms);  // one second after the burst: 10 more
  written = 0;
  for (int i = 100; i < 200; ++i) written += p.try_write("ns-" + std::to_string(i)) ? 1 : 0;
  CHECK(written == 10);
}

TEST_CASE("failures back off from 1 s doubling to 60 s, success resets", "[kube][report_pacer]") {
  fake_clock clock;
  report_pacer p(pace(), clock.fn());
  REQUIRE(p.try_write("team-a"));
  p.failed("team-a");
  CHECK(p.backoff() == 1s);
  CHECK(p.write_ready_at() == clock.now + 1s);
  CHECK_FALSE(p.write_ready());
  CHECK_FALSE(p.try_write("team-a"));
  // The failed write did not use up the namespace's interval: it is retried
  // when the backoff ends.
  clock.advance(1s);
  REQUIRE(p.try_write("team-a"));
  for (auto want : {2s, 4s, 8s, 16s, 32s, 60s, 60s}) {
    p.failed("team-a");
    CHECK(p.backoff() == want);
  }
  p.succeeded();
  CHECK(p.backoff() == 0s);
  CHECK(p.write_ready_at() == clock.now);
}

TEST_CASE("forgotten namespaces leave the pacer", "[kube][report_pacer]") {
  fake_clock clock;
  report_pacer p(pace(), clock.fn());
  REQUIRE(p.try_write("gone"));
  REQUIRE(p.try_write("kept"));
  namespace_map known;
  known["kept"] = namespace_entry{};
  p.retain(known);
  CHECK(p.namespace_ready_at("gone") <= clock.now);
  CHECK(p.namespace_ready_at("kept") == clock.now + 10s);
}
