#include "netpol_guard/telemetry/metrics.hpp"

#include <cstdio>

#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard {
namespace {

// The kind label: Pod, the rule book's workloads, Namespace, NetworkPolicy, other.
constexpr auto kinds = [] {
  std::array<std::string_view, rules::workload_kinds.size() + 4> k{};
  std::size_t i = 0;
  k[i++] = "Pod";
  for (const auto& w : rules::workload_kinds) k[i++] = w.kind;
  k[i++] = "Namespace";
  k[i++] = "NetworkPolicy";
  k[i++] = "other";
  return k;
}();
constexpr std::array<std::string_view, 5> ops{"CREATE", "UPDATE", "DELETE", "CONNECT", "other"};
constexpr std::array<verdict, 4> verdicts{verdict::allowed, verdict::denied, verdict::audited,
                                          verdict::warned};
constexpr std::array<std::string_view, 2> listener_names{"webhook", "health"};
constexpr std::array<std::string_view, 2> refusal_names{"per_source_limit", "connection_limit"};
constexpr std::array<std::string_view, 2> budget_scope_names{"total", "per_source"};
constexpr std::array<std::string_view, 3> confirmation_results{"overturned", "confirmed",
                                                               "unavailable"};

void append_double(std::string& out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  out += buf;
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, std::string_view name, std::string_view labels, double v) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  append_double(out, v);
  out += '\n';
}

}  // namespace

const char* to_string(error_reason r) {
  switch (r) {
    case error_reason::malformed_json:
      return "malformed_json";
    case error_reason::not_admission_review:
      return "not_admission_review";
    case error_reason::wrong_type:
      return "wrong_type";
    case error_reason::duplicate_key:
      return "duplicate_key";
    case error_reason::too_deep:
      return "too_deep";
    case error_reason::missing_request:
      return "missing_request";
    case error_reason::missing_uid:
      return "missing_uid";
    case error_reason::missing_operation:
      return "missing_operation";
    case error_reason::missing_object:
      return "missing_object";
    case error_reason::unsupported_version:
      return "unsupported_version";
    case error_reason::body_too_large:
      return "body_too_large";
    case error_reason::method_not_allowed:
      return "method_not_allowed";
    case error_reason::not_found:
      return "not_found";
    case error_reason::unsupported_media_type:
      return "unsupported_media_type";
    case error_reason::bad_http:
      return "bad_http";
    case error_reason::tls_handshake:
      return "tls_handshake";
    case error_reason::timeout:
      return "timeout";
    case error_reason::connection_limit:
      return "connection_limit";
    case error_reason::internal:
      return "internal";
    case error_reason::cert_reload:
      return "cert_reload";
    case error_reason::policy_reload:
      return "policy_reload";
    case error_reason::confirm_failed:
      return "confirm_failed";
    case error_reason::watch_failed:
      return "watch_failed";
    case error_reason::provision_failed:
      return "provision_failed";
    case error_reason::count_:
      break;
  }
  return "internal";
}

error_reason error_reason_from(std::string_view codec_reason) {
  for (std::size_t i = 0; i < static_cast<std::size_t>(error_reason::count_); ++i) {
    auto r = static_cast<error_reason>(i);
    if (codec_reason == to_string(r)) return r;
  }
  return error_reason::internal;
}

std::size_t metrics::kind_index(std::string_view kind) {
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    if (kinds[i] == kind) return i;
  }
  return kinds.size() - 1;
}

std::size_t metrics::op_index(std::string_view op) {
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i] == op) return i;
  }
  return ops.size() - 1;
}

void metrics::count_request(verdict v, std::string_view kind, std::string_view operation) {
  auto i = (static_cast<std::size_t>(v) * n_kinds + kind_index(kind)) * n_ops + op_index(operation);
  requests_[i].fetch_add(1, std::memory_order_relaxed);
}

void metrics::observe_latency(double seconds) {
  std::size_t b = 0;
  while (b < latency_buckets.size() && seconds > latency_buckets[b]) ++b;
  latency_counts_[b].fetch_add(1, std::memory_order_relaxed);
  latency_sum_ns_.fetch_add(static_cast<std::uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

void metrics::count_error(error_reason r) {
  errors_[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
}

void metrics::count_confirmation(std::string_view result) {
  for (std::size_t i = 0; i < confirmation_results.size(); ++i) {
    if (confirmation_results[i] == result) confirmations_[i].fetch_add(1);
  }
}

void metrics::count_relist() { relists_.fetch_add(1); }
void metrics::count_cert_reload(bool ok) { cert_reloads_[ok ? 0 : 1].fetch_add(1); }
void metrics::count_provisioned(bool ok) { provisioned_[ok ? 0 : 1].fetch_add(1); }
void metrics::count_provision_conflict() { provisioned_[2].fetch_add(1); }
void metrics::connection_opened() { open_connections_.fetch_add(1); }
void metrics::connection_closed() { open_connections_.fetch_sub(1); }
void metrics::set_certificate_expiry(double unix_seconds) {
  certificate_expiry_.store(unix_seconds);
}

void metrics::count_eviction(listener l) {
  evictions_[static_cast<std::size_t>(l)].fetch_add(1, std::memory_order_relaxed);
}
void metrics::count_refused_connection(listener l, refusal r) {
  refused_[static_cast<std::size_t>(l) * n_refusals + static_cast<std::size_t>(r)].fetch_add(
      1, std::memory_order_relaxed);
}
void metrics::count_over_budget(budget_scope s) {
  over_budget_[static_cast<std::size_t>(s)].fetch_add(1, std::memory_order_relaxed);
}
void metrics::add_buffered_bytes(std::int64_t delta) {
  buffered_bytes_.fetch_add(delta, std::memory_order_relaxed);
}
std::uint64_t metrics::evictions(listener l) const {
  return evictions_[static_cast<std::size_t>(l)].load();
}
std::uint64_t metrics::refused_connections(listener l, refusal r) const {
  return refused_[static_cast<std::size_t>(l) * n_refusals + static_cast<std::size_t>(r)].load();
}
std::uint64_t metrics::over_budget(budget_scope s) const {
  return over_budget_[static_cast<std::size_t>(s)].load();
}

std::uint64_t metrics::requests_total() const {
  std::uint64_t n = 0;
  for (const auto& c : requests_) n += c.load(std::memory_order_relaxed);
  return n;
}

std::uint64_t metrics::errors(error_reason r) const {
  return errors_[static_cast<std::size_t>(r)].load();
}

std::string metrics::render(const state_gauges& g) const {
  std::string out;
  out.reserve(8192);
  header(out, "netpol_guard_admission_requests_total", "counter",
         "Admission requests answered, by decision, kind and operation.");
  for (std::size_t v = 0; v < n_verdicts; ++v) {
    for (std::size_t k = 0; k < n_kinds; ++k) {
      for (std::size_t o = 0; o < n_ops; ++o) {
        auto n = requests_[(v * n_kinds + k) * n_ops + o].load(std::memory_order_relaxed);
        if (n == 0) continue;
        std::string labels = "decision=\"" + std::string(to_string(verdicts[v])) + "\",kind=\"" +
                             std::string(kinds[k]) + "\",operation=\"" + std::string(ops[o]) + "\"";
        sample(out, "netpol_guard_admission_requests_total", labels, static_cast<double>(n));
      }
    }
  }
  header(out, "netpol_guard_admission_duration_seconds", "histogram",
         "Time from a complete request to its answer, in seconds.");
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < latency_buckets.size(); ++b) {
    cumulative += latency_counts_[b].load(std::memory_order_relaxed);
    std::string le;
    append_double(le, latency_buckets[b]);
    sample(out, "netpol_guard_admission_duration_seconds_bucket", "le=\"" + le + "\"",
           static_cast<double>(cumulative));
  }
  cumulative += latency_counts_.back().load(std::memory_order_relaxed);
  sample(out, "netpol_guard_admission_duration_seconds_bucket", "le=\"+Inf\"",
         static_cast<double>(cumulative));
  sample(out, "netpol_guard_admission_duration_seconds_sum", "",
         static_cast<double>(latency_sum_ns_.load()) / 1e9);
  sample(out, "netpol_guard_admission_duration_seconds_count", "", static_cast<double>(cumulative));

  header(out, "netpol_guard_errors_total", "counter", "Errors, by reason.");
  for (std::size_t i = 0; i < errors_.size(); ++i) {
    sample(out, "netpol_guard_errors_total",
           std::string("reason=\"") + to_string(static_cast<error_reason>(i)) + "\"",
           static_cast<double>(errors_[i].load()));
  }
  header(out, "netpol_guard_confirmations_total", "counter",
         "Live reads of a namespace's NetworkPolicies before a denial, by result.");
  for (std::size_t i = 0; i < confirmation_results.size(); ++i) {
    sample(out, "netpol_guard_confirmations_total",
           "result=\"" + std::string(confirmation_results[i]) + "\"",
           static_cast<double>(confirmations_[i].load()));
  }
  header(out, "netpol_guard_relists_total", "counter",
         "Full lists of the cluster's NetworkPolicies (first sync, 410 Expired, reconnects).");
  sample(out, "netpol_guard_relists_total", "", static_cast<double>(relists_.load()));
  header(out, "netpol_guard_cert_reloads_total", "counter",
         "Serving certificate reloads, by result.");
  sample(out, "netpol_guard_cert_reloads_total", "result=\"success\"",
         static_cast<double>(cert_reloads_[0].load()));
  sample(out, "netpol_guard_cert_reloads_total", "result=\"failure\"",
         static_cast<double>(cert_reloads_[1].load()));
  header(out, "netpol_guard_provisioned_policies_total", "counter",
         "default-deny-all policies created in new namespaces, by result.");
  sample(out, "netpol_guard_provisioned_policies_total", "result=\"success\"",
         static_cast<double>(provisioned_[0].load()));
  sample(out, "netpol_guard_provisioned_policies_total", "result=\"failure\"",
         static_cast<double>(provisioned_[1].load()));
  sample(out, "netpol_guard_provisioned_policies_total", "result=\"conflict\"",
         static_cast<double>(provisioned_[2].load()));
  header(out, "netpol_guard_open_connections", "gauge", "Open webhook connections.");
  sample(out, "netpol_guard_open_connections", "", static_cast<double>(open_connections_.load()));
  header(out, "netpol_guard_certificate_expiry_timestamp_seconds", "gauge",
         "notAfter of the serving certificate in use, as a Unix timestamp.");
  // Whole seconds, printed in full: %.9g would round a 10-digit timestamp.
  char expiry[32];
  std::snprintf(expiry, sizeof expiry, "%.0f", certificate_expiry_.load());
  out += "netpol_guard_certificate_expiry_timestamp_seconds ";
  out += expiry;
  out += '\n';
  header(out, "netpol_guard_connections_evicted_total", "counter",
         "Idle or not yet used connections closed to make room for a new client, by listener.");
  for (std::size_t l = 0; l < n_listeners; ++l) {
    sample(out, "netpol_guard_connections_evicted_total",
           "listener=\"" + std::string(listener_names[l]) + "\"",
           static_cast<double>(evictions_[l].load()));
  }
  header(out, "netpol_guard_connections_refused_total", "counter",
         "New connections closed at once, by listener and reason (per_source_limit: the "
         "source already holds its share; connection_limit: full and nothing to evict).");
  for (std::size_t l = 0; l < n_listeners; ++l) {
    for (std::size_t r = 0; r < n_refusals; ++r) {
      sample(out, "netpol_guard_connections_refused_total",
             "listener=\"" + std::string(listener_names[l]) + "\",reason=\"" +
                 std::string(refusal_names[r]) + "\"",
             static_cast<double>(refused_[l * n_refusals + r].load()));
    }
  }
  header(out, "netpol_guard_requests_over_budget_total", "counter",
         "Requests answered 503 because their body did not fit in the buffered-bytes budget, "
         "by budget (total or per_source).");
  for (std::size_t b = 0; b < budget_scope_names.size(); ++b) {
    sample(out, "netpol_guard_requests_over_budget_total",
           "budget=\"" + std::string(budget_scope_names[b]) + "\"",
           static_cast<double>(over_budget_[b].load()));
  }
  header(out, "netpol_guard_buffered_request_bytes", "gauge",
         "Bytes of request bodies reserved now, across all connections.");
  sample(out, "netpol_guard_buffered_request_bytes", "",
         static_cast<double>(buffered_bytes_.load()));
  header(out, "netpol_guard_namespaces", "gauge", "Namespaces known to the state.");
  sample(out, "netpol_guard_namespaces", "", static_cast<double>(g.namespaces));
  header(out, "netpol_guard_noncompliant_namespaces", "gauge",
         "Non-exempt namespaces lacking a default deny, by missing direction (any, ingress, "
         "egress).");
  sample(out, "netpol_guard_noncompliant_namespaces", "direction=\"any\"",
         static_cast<double>(g.non_compliant));
  sample(out, "netpol_guard_noncompliant_namespaces", "direction=\"ingress\"",
         static_cast<double>(g.missing_ingress));
  sample(out, "netpol_guard_noncompliant_namespaces", "direction=\"egress\"",
         static_cast<double>(g.missing_egress));
  header(out, "netpol_guard_state_age_seconds", "gauge",
         "Seconds since the namespace state was last known current.");
  sample(out, "netpol_guard_state_age_seconds", "", g.state_age_seconds);
  header(out, "netpol_guard_ready", "gauge", "1 when /readyz answers ok.");
  sample(out, "netpol_guard_ready", "", g.ready ? 1 : 0);
  return out;
}

}  // namespace netpol_guard
