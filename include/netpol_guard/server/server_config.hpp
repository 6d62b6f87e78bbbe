#pragma once

// What the admission and health listeners are told: addresses, credentials'
// files, and every limit and deadline they keep.

#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <set>
#include <string>

namespace netpol_guard {

struct server_config {
  std::string listen = "0.0.0.0:8443";
  std::string health_listen = "0.0.0.0:8080";
  std::string tls_cert_file;
  std::string tls_private_key_file;
  std::string client_ca_file;  // non-empty: require and verify client certificates
  std::size_t max_request_bytes = 8 * 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_connections = 512;
  // One source address holds at most this many webhook connections; the
  // apiserver pools a few dozen per replica.
  std::size_t max_connections_per_source = 128;
  // Request bodies held in memory across all connections, reserved from the
  // declared Content-Length (or chunk by chunk) before the body is read. Well
  // under the shipped 256Mi memory limit; the apiserver's largest requests
  // (object and oldObject) are about 3 MiB.
  std::size_t max_buffered_request_bytes = 64 * 1024 * 1024;
  std::size_t max_buffered_request_bytes_per_source = 16 * 1024 * 1024;
  std::chrono::milliseconds handshake_timeout{10'000};
  // From accept to the end of the first request's header: a client that has
  // not sent a request does not hold a slot for long.
  std::chrono::milliseconds first_request_timeout{5'000};
  std::chrono::milliseconds request_timeout{10'000};  // a whole request, once it has started
  std::chrono::milliseconds idle_timeout{90'000};     // between keep-alive requests
  std::chrono::milliseconds write_timeout{10'000};
  // After an error answered before the request's body was read (413, 400), the
  // client's unread bytes are read and dropped for this long, or this many
  // bytes, before the close: closing with them unread makes the kernel send a
  // RST, and the client may lose the answer (nginx's lingering close).
  std::chrono::milliseconds linger_timeout{1'000};
  std::size_t linger_max_bytes = 8 * 1024 * 1024;
  std::chrono::milliseconds tls_reload_interval{10'000};
  std::chrono::milliseconds shutdown_delay{2'000};       // not ready, still serving
  std::chrono::milliseconds shutdown_grace{20'000};      // then in-flight requests get this long
  std::set<std::string, std::less<>> exempt_namespaces;  // for the non-compliance gauge

  // The plain-HTTP health listener: kubelet probes (one connection per probe)
  // and a Prometheus scrape need few connections and tiny requests.
  std::size_t health_max_connections = 64;
  std::size_t health_max_connections_per_source = 16;
  std::size_t health_max_header_bytes = 8 * 1024;
  std::size_t health_max_body_bytes = 4 * 1024;
  std::chrono::milliseconds health_first_request_timeout{2'000};
  std::chrono::milliseconds health_request_timeout{5'000};
  std::chrono::milliseconds health_idle_timeout{10'000};
};

// Fails with one line naming the flags when the connection and memory limits of
// `c` contradict each other.
boost::system::result<void, std::string> check_limits(const server_config& c);

}  // namespace netpol_guard
