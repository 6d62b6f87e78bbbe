#include "netpol_guard/server/connection_admission.hpp"

#include "netpol_guard/telemetry/log.hpp"

namespace netpol_guard {

namespace net = boost::asio;

bool counted_admission(connection_table::admission a, listener which, server_stats& m,
                       const net::ip::address& source) {
  switch (a) {
    case connection_table::admission::admitted:
      return true;
    case connection_table::admission::admitted_after_eviction:
      m.count_eviction(which);
      return true;
    case connection_table::admission::refused_per_source:
      m.count_refused_connection(which, refusal::per_source_limit);
      log::debug("connection refused: per-source limit",
                 {{"source", source.to_string()},
                  {"listener", which == listener::webhook ? "webhook" : "health"}});
      return false;
    case connection_table::admission::refused_full:
      m.count_refused_connection(which, refusal::connection_limit);
      if (which == listener::webhook) m.count_error(server_error::connection_limit);
      return false;
  }
  return false;
}

}  // namespace netpol_guard
