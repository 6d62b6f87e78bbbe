#pragma once

// netpol-guard's Prometheus metrics. Declared once, updated lock-free on the
// request path, rendered as text exposition format on /metrics.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "netpol_guard/admission/decision.hpp"

namespace netpol_guard {

// Reasons a request or a background task failed, for netpol_guard_errors_total.
enum class error_reason : unsigned char {
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
  body_too_large,
  method_not_allowed,
  not_found,
  unsupported_media_type,
  bad_http,
  tls_handshake,
  timeout,
  connection_limit,
  internal,
  cert_reload,
  confirm_failed,
  watch_failed,
  provision_failed,
  policy_reload,  // --policies files changed into something refused; the last good state stays
  count_
};

const char* to_string(error_reason r);
// Maps a codec_error.reason to its enum; unknown names map to `internal`.
error_reason error_reason_from(std::string_view codec_reason);

// Gauges that are read from elsewhere at scrape time.
struct state_gauges {
  std::size_t namespaces = 0;
  std::size_t non_compliant = 0;
  std::size_t missing_ingress = 0;
  std::size_t missing_egress = 0;
  double state_age_seconds = 0;
  bool ready = false;
};

// The two listeners, for the connection counters.
enum class listener : unsigned char { webhook, health, count_ };
// Why a new connection was refused.
enum class refusal : unsigned char { per_source_limit, connection_limit, count_ };
// Which body budget a request did not fit in.
enum class budget_scope : unsigned char { total, per_source, count_ };

class metrics {
 public:
  static constexpr std::array<double, 14> latency_buckets{0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                          0.0025,  0.005,  0.01,    0.025,  0.05,
                                                          0.1,     0.25,   0.5,     1.0};

  void count_request(verdict v, std::string_view kind, std::string_view operation);
  void observe_latency(double seconds);
  void count_error(error_reason r);
  void count_confirmation(std::string_view result);  // "overturned", "confirmed", "unavailable"
  void count_relist();
  void count_cert_reload(bool ok);
  void count_provisioned(bool ok);
  // A policy named default-deny-all existed that is not a deny-all.
  void count_provision_conflict();
  void connection_opened();
  void connection_closed();
  // The serving certificate's notAfter (Unix seconds), set on every load.
  void set_certificate_expiry(double unix_seconds);
  // A connection closed to make room for a new client (it had no request in progress).
  void count_eviction(listener l);
  void count_refused_connection(listener l, refusal r);
  void count_over_budget(budget_scope s);
  // Bytes of request bodies reserved right now, across all connections.
  void add_buffered_bytes(std::int64_t delta);

  std::uint64_t evictions(listener l) const;
  std::uint64_t refused_connections(listener l, refusal r) const;
  std::uint64_t over_budget(budget_scope s) const;

  std::uint64_t requests_total() const;
  std::uint64_t errors(error_reason r) const;

  // Text exposition; `gauges` supplies the state-derived values.
  std::string render(const state_gauges& gauges) const;

 private:
  static constexpr std::size_t n_verdicts = 4;
  static constexpr std::size_t n_kinds =
      rules::workload_kinds.size() + 4;  // Pod, workloads, Namespace, NetworkPolicy, other
  static constexpr std::size_t n_ops = 5;
  static std::size_t kind_index(std::string_view kind);
  static std::size_t op_index(std::string_view op);

  std::array<std::atomic<std::uint64_t>, n_verdicts * n_kinds * n_ops> requests_{};
  std::array<std::atomic<std::uint64_t>, latency_buckets.size() + 1> latency_counts_{};
  std::atomic<std::uint64_t> latency_sum_ns_{0};
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(error_reason::count_)> errors_{};
  std::array<std::atomic<std::uint64_t>, 3> confirmations_{};
  std::atomic<std::uint64_t> relists_{0};
  std::array<std::atomic<std::uint64_t>, 2> cert_reloads_{};
  std::array<std::atomic<std::uint64_t>, 3> provisioned_{};  // success, failure, conflict
  std::atomic<std::int64_t> open_connections_{0};
  std::atomic<double> certificate_expiry_{0};
  static constexpr std::size_t n_listeners = static_cast<std::size_t>(listener::count_);
  static constexpr std::size_t n_refusals = static_cast<std::size_t>(refusal::count_);
  std::array<std::atomic<std::uint64_t>, n_listeners> evictions_{};
  std::array<std::atomic<std::uint64_t>, n_listeners * n_refusals> refused_{};
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(budget_scope::count_)>
      over_budget_{};
  std::atomic<std::int64_t> buffered_bytes_{0};
};

}  // namespace netpol_guard
