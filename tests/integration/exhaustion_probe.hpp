#pragma once

// What the exhaustion tests ask of a server under attack: is a valid
// AdmissionReview still answered correctly, how long a fresh client waits,
// and what its metrics say.

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "../support/tls_client.hpp"

namespace netpol_guard::testing {

// A fresh client must be answered within this while an attack runs.
constexpr auto max_fresh_wait = std::chrono::milliseconds(2000);

// The example policies the server runs with.
std::string examples();

// pod-create.json with `uid`: a Pod in team-c, which has no baseline in the
// examples, so the correct answer denies it.
std::string review(const std::string& uid);
bool answered_correctly(const std::optional<http_reply>& r, const std::string& uid);

// One valid request from a fresh connection (source 127.0.0.1), timed.
struct fresh_result {
  bool ok = false;
  long wait_ms = 0;
};
fresh_result fresh_review(unsigned short port, const std::string& uid);

// The value of one series in Prometheus text; -1 when it is absent.
double metric(const std::string& text, const std::string& series);

long ms_since(std::chrono::steady_clock::time_point t);

// Polls `f` until it holds or `within` has passed; returns its last answer.
template <class F>
bool eventually(F f, std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return f();
}

}  // namespace netpol_guard::testing
