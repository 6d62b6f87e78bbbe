#pragma once

// The admission handler's stats: requests by decision, kind and operation, the
// answer latency, live confirmations, and the reasons a request got no decision.
// A new admission counter goes here, with its family in admission_stats.cpp.

#include <array>
#include <cstdint>
#include <string_view>

#include "netpol_guard/admission/decision.hpp"
#include "netpol_guard/netpol/rules.hpp"
#include "netpol_guard/telemetry/stats.hpp"

namespace netpol_guard {

// Why a request got no decision, for netpol_guard_errors_total. Up to
// unsupported_version these are the codec's codec_error.reason names.
enum class admission_error : unsigned char {
  malformed_json,
  not_admission_review,
  wrong_type,
  duplicate_key,
  too_deep,
  missing_request,
  missing_uid,
  missing_operation,
  missing_object,
  unsupported_version,
  internal,
  confirm_failed,
  count_
};

std::string_view to_string(admission_error e);

// The result of a live read of a namespace's NetworkPolicies before a denial.
enum class confirmation : unsigned char { overturned, confirmed, unavailable, count_ };

class admission_stats {
 public:
  static constexpr std::size_t n_errors = static_cast<std::size_t>(admission_error::count_);
  // The reason label of each admission_error, in the enum's order.
  static constexpr std::array<std::string_view, n_errors> error_names{
      "malformed_json", "not_admission_review", "wrong_type",  "duplicate_key",
      "too_deep",       "missing_request",      "missing_uid", "missing_operation",
      "missing_object", "unsupported_version",  "internal",    "confirm_failed"};
  static constexpr std::array<double, 14> latency_buckets{0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                          0.0025,  0.005,  0.01,    0.025,  0.05,
                                                          0.1,     0.25,   0.5,     1.0};

  void count_request(verdict v, std::string_view kind, std::string_view operation);
  void observe_latency(double seconds) { latency_.observe(seconds); }
  void count_confirmation(confirmation c) { confirmations_.inc(static_cast<std::size_t>(c)); }
  void count_error(admission_error e) { errors_.inc(static_cast<std::size_t>(e)); }
  // A pod creator admitted only because of its namespace's active exemption.
  void count_admitted_by_exemption() { admitted_by_exemption_.inc(); }
  std::uint64_t admitted_by_exemption() const { return admitted_by_exemption_.value(); }
  // Maps a codec_error.reason to its error; unknown names map to `internal`.
  static admission_error error_from(std::string_view codec_reason);

  std::uint64_t requests_total() const;
  std::uint64_t errors(admission_error e) const {
    return errors_.value(static_cast<std::size_t>(e));
  }

  // netpol_guard_admission_requests_total (only the counts that are not zero,
  // the label set is large) and netpol_guard_admission_duration_seconds.
  void write_requests(stats::exposition& out) const;
  void write_confirmations(stats::exposition& out) const;
  // netpol_guard_admitted_by_exemption_total.
  void write_admitted_by_exemption(stats::exposition& out) const;
  // This component's samples of netpol_guard_errors_total, [first, last).
  void write_errors(stats::exposition& out, admission_error first, admission_error last) const {
    errors_.write(out, stats::errors_metric, static_cast<std::size_t>(first),
                  static_cast<std::size_t>(last));
  }

 private:
  static constexpr std::size_t n_verdicts = 4;
  // Pod, the rule book's workloads, Namespace, NetworkPolicy, other.
  static constexpr std::size_t n_kinds = rules::workload_kinds.size() + 4;
  static constexpr std::size_t n_ops = 5;  // CREATE, UPDATE, DELETE, CONNECT, other

  std::array<stats::counter, n_verdicts * n_kinds * n_ops> requests_{};
  stats::histogram<latency_buckets.size()> latency_{latency_buckets};
  stats::labelled_counter<3> confirmations_{"result", {"overturned", "confirmed", "unavailable"}};
  stats::labelled_counter<n_errors> errors_{"reason", error_names};
  stats::counter admitted_by_exemption_;
};

}  // namespace netpol_guard
