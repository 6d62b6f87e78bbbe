#include "netpol_guard/server/server_stats.hpp"

#include <string>

namespace netpol_guard {

void server_stats::write_open_connections(stats::exposition& out) const {
  out.header("netpol_guard_open_connections", "gauge", "Open webhook connections.");
  out.sample("netpol_guard_open_connections", "", static_cast<double>(open_connections_.value()));
}

void server_stats::write_connection_limits(stats::exposition& out) const {
  constexpr std::string_view evicted = "netpol_guard_connections_evicted_total";
  out.header(evicted, "counter",
             "Idle or not yet used connections closed to make room for a new client, by listener.");
  evictions_.write(out, evicted);

  constexpr std::string_view refused = "netpol_guard_connections_refused_total";
  out.header(refused, "counter",
             "New connections closed at once, by listener and reason (per_source_limit: the "
             "source already holds its share; connection_limit: full and nothing to evict).");
  for (std::size_t l = 0; l < n_listeners; ++l) {
    for (std::size_t r = 0; r < n_refusals; ++r) {
      out.sample(refused,
                 "listener=\"" + std::string(listener_names[l]) + "\",reason=\"" +
                     std::string(refusal_names[r]) + "\"",
                 static_cast<double>(refused_[l * n_refusals + r].value()));
    }
  }

  constexpr std::string_view over = "netpol_guard_requests_over_budget_total";
  out.header(over, "counter",
             "Requests answered 503 because their body did not fit in the buffered-bytes budget, "
             "by budget (total or per_source).");
  over_budget_.write(out, over);

  out.header("netpol_guard_buffered_request_bytes", "gauge",
             "Bytes of request bodies reserved now, across all connections.");
  out.sample("netpol_guard_buffered_request_bytes", "",
             static_cast<double>(buffered_bytes_.value()));
}

}  // namespace netpol_guard
