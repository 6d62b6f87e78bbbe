#pragma once

// The admission endpoint's logic between HTTP and the decision: decode, decide,
// confirm a denial live when the state may be stale, encode, count and log.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "netpol_guard/admission/admission_stats.hpp"
#include "netpol_guard/admission/decision.hpp"
#include "netpol_guard/admission/failure_answer.hpp"
#include "netpol_guard/admission/live_reader.hpp"
#include "netpol_guard/netpol/namespace_state.hpp"

namespace netpol_guard {

struct webhook_options {
  decision_config decision;
  std::chrono::milliseconds confirm_timeout{500};
  // How long a pod may wait for a namespace's provisioned policy.
  std::chrono::milliseconds provision_wait{2000};
  // The wall clock requests are judged at (exemption expiry, exempt-until's
  // maximum), read once per request. Tests pass a fake one.
  std::function<std::chrono::sys_seconds()> wall_clock = [] {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  };
};

class webhook {
 public:
  webhook(const namespace_state& state, webhook_options options, admission_stats& m,
          live_policy_reader* reader = nullptr);

  // Answers one AdmissionReview body; failures as failure_answer.hpp says. Never throws.
  boost::asio::awaitable<webhook_answer> review(std::string_view body);

  const webhook_options& options() const { return options_; }

 private:
  boost::asio::awaitable<admission_decision> confirm(const admission_request& request,
                                                     admission_decision decision,
                                                     std::chrono::sys_seconds now);
  void record(const admission_request& request, const admission_decision& decision, double seconds);

  const namespace_state& state_;
  webhook_options options_;
  admission_stats& stats_;
  live_policy_reader* reader_;
};

}  // namespace netpol_guard
