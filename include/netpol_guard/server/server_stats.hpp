#pragma once

// The listeners' stats: open connections, evictions, refusals, requests over
// the body budget, buffered bytes, and the HTTP/TLS failures they answer. A new
// transport counter goes here, with its family in server_stats.cpp.

#include <array>
#include <cstdint>
#include <string_view>

#include "netpol_guard/telemetry/stats.hpp"

namespace netpol_guard {

// The two listeners, for the connection counters.
enum class listener : unsigned char { webhook, health, count_ };
// Why a new connection was refused.
enum class refusal : unsigned char { per_source_limit, connection_limit, count_ };
// Which body budget a request did not fit in.
enum class budget_scope : unsigned char { total, per_source, count_ };

// Why the webhook listener answered or closed without reaching the handler,
// for netpol_guard_errors_total.
enum class server_error : unsigned char {
  body_too_large,
  method_not_allowed,
  not_found,
  unsupported_media_type,
  bad_http,
  tls_handshake,
  timeout,
  connection_limit,
  count_
};

class server_stats {
 public:
  void connection_opened() { open_connections_.add(1); }
  void connection_closed() { open_connections_.add(-1); }
  // A connection closed to make room for a new client (it had no request in progress).
  void count_eviction(listener l) { evictions_.inc(static_cast<std::size_t>(l)); }
  void count_refused_connection(listener l, refusal r) { refused_[index(l, r)].inc(); }
  void count_over_budget(budget_scope s) { over_budget_.inc(static_cast<std::size_t>(s)); }
  // Bytes of request bodies reserved right now, across all connections.
  void add_buffered_bytes(std::int64_t delta) { buffered_bytes_.add(delta); }
  void count_error(server_error e) { errors_.inc(static_cast<std::size_t>(e)); }

  std::uint64_t evictions(listener l) const {
    return evictions_.value(static_cast<std::size_t>(l));
  }
  std::uint64_t refused_connections(listener l, refusal r) const {
    return refused_[index(l, r)].value();
  }
  std::uint64_t over_budget(budget_scope s) const {
    return over_budget_.value(static_cast<std::size_t>(s));
  }
  std::uint64_t errors(server_error e) const { return errors_.value(static_cast<std::size_t>(e)); }

  void write_open_connections(stats::exposition& out) const;
  // Evictions, refusals, requests over budget and the buffered-bytes gauge.
  void write_connection_limits(stats::exposition& out) const;
  // This component's samples of netpol_guard_errors_total.
  void write_errors(stats::exposition& out) const { errors_.write(out, stats::errors_metric); }

 private:
  static constexpr std::size_t n_listeners = static_cast<std::size_t>(listener::count_);
  static constexpr std::size_t n_refusals = static_cast<std::size_t>(refusal::count_);
  static constexpr std::array<std::string_view, n_listeners> listener_names{"webhook", "health"};
  static constexpr std::array<std::string_view, n_refusals> refusal_names{"per_source_limit",
                                                                          "connection_limit"};
  static std::size_t index(listener l, refusal r) {
    return static_cast<std::size_t>(l) * n_refusals + static_cast<std::size_t>(r);
  }

  stats::gauge open_connections_;
  stats::labelled_counter<n_listeners> evictions_{"listener", listener_names};
  std::array<stats::counter, n_listeners * n_refusals> refused_{};
  stats::labelled_counter<2> over_budget_{"budget", {"total", "per_source"}};
  stats::gauge buffered_bytes_;
  stats::labelled_counter<static_cast<std::size_t>(server_error::count_)> errors_{
      "reason",
      {"body_too_large", "method_not_allowed", "not_found", "unsupported_media_type", "bad_http",
       "tls_handshake", "timeout", "connection_limit"}};
};

}  // namespace netpol_guard
