#pragma once

// The hostile-input corpus (tests/hostile/cases.json): where it lives, and how
// one case is played against the real binary and judged.

#include <nlohmann/json.hpp>
#include <string>

namespace netpol_guard::testing {

std::string corpus_dir();

// A valid AdmissionReview for a Pod in `ns`, with `uid`.
std::string valid_review(const std::string& uid, const std::string& ns = "team-a");

// The outcome of one case; assertions happen on the test's own thread.
struct outcome {
  bool ok = true;
  std::string detail;
  void fail(const std::string& why) {
    if (ok) detail = why;
    ok = false;
  }
};

// Plays case `c` on a new connection to `port`. The timings it expects are
// those of a server run with --request-timeout=2s --idle-timeout=3s and the
// default --first-request-timeout.
outcome run_case(const nlohmann::json& c, unsigned short port);

// Slow and dead clients hold their connection for a server timeout each.
bool is_slow(const nlohmann::json& c);

}  // namespace netpol_guard::testing
