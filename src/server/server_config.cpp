#include "netpol_guard/server/server_config.hpp"

namespace netpol_guard {

boost::system::result<void, std::string> check_limits(const server_config& c) {
  if (c.max_connections == 0) return "--max-connections must be at least 1";
  if (c.max_connections_per_source == 0) return "--max-connections-per-source must be at least 1";
  if (c.max_buffered_request_bytes_per_source < c.max_request_bytes) {
    return "--max-buffered-request-bytes-per-source must be at least --max-request-bytes, or "
           "the largest requests could never be read";
  }
  if (c.max_buffered_request_bytes < c.max_buffered_request_bytes_per_source) {
    return "--max-buffered-request-bytes must be at least "
           "--max-buffered-request-bytes-per-source";
  }
  if (c.first_request_timeout.count() <= 0) return "--first-request-timeout must be positive";
  return {};
}

}  // namespace netpol_guard
