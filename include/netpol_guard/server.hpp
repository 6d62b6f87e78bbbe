#pragma once

// The TLS admission listener and the plain-HTTP health listener.

#include "netpol_guard/metrics.hpp"
#include "netpol_guard/namespace_state.hpp"
#include "netpol_guard/webhook.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
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
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds request_timeout{10'000};  // a whole request, once it has started
  std::chrono::milliseconds idle_timeout{90'000};     // between keep-alive requests
  std::chrono::milliseconds write_timeout{10'000};
  std::chrono::milliseconds tls_reload_interval{10'000};
  std::chrono::milliseconds shutdown_delay{2'000};   // not ready, still serving
  std::chrono::milliseconds shutdown_grace{20'000};  // then in-flight requests get this long
  std::set<std::string, std::less<>> exempt_namespaces;  // for the non-compliance gauge
};

// Serving credentials, reloaded from files when they change. A reload that
// fails (a certificate beside a key that does not match, mid-rotation) keeps the
// previous credentials; connections in progress keep theirs.
class tls_credentials {
 public:
  // `m`, when given, gets the serving certificate's notAfter on every load.
  tls_credentials(std::string cert_file, std::string key_file, std::string client_ca_file,
                  metrics* m = nullptr);
  bool load(std::string& error);
  // Returns true when new credentials were published.
  bool reload_if_changed(std::string& error);
  std::shared_ptr<boost::asio::ssl::context> current() const {
    return current_.load(std::memory_order_acquire);
  }

 private:
  std::string cert_file_, key_file_, client_ca_file_;
  metrics* metrics_;
  std::string last_contents_;
  std::string last_failed_contents_;
  std::atomic<std::shared_ptr<boost::asio::ssl::context>> current_;
};

// Builds a server TLS context: TLS 1.2+ with AEAD suites only, ALPN http/1.1.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(
    const std::string& cert_pem, const std::string& key_pem, const std::string& client_ca_file,
    std::string& error);

// Parses "host:port" / "[v6]:port" into an endpoint.
bool parse_listen_address(const std::string& text, boost::asio::ip::tcp::endpoint& out,
                          std::string& error);

class server {
 public:
  server(boost::asio::io_context& ioc, server_config config, webhook& hook,
         const namespace_state& state, metrics& m);
  ~server();

  // Binds both listeners; throws std::runtime_error with one clear line on failure.
  void start();
  // Graceful stop: not ready at once, then stop accepting after shutdown_delay,
  // finish in-flight requests, close idle connections, and stop the io_context
  // when done or after shutdown_grace. `done` runs when the drain ends.
  void begin_shutdown(std::function<void()> done);

  bool stopping() const { return stopping_.load(); }
  boost::asio::ip::tcp::endpoint webhook_endpoint() const;
  boost::asio::ip::tcp::endpoint health_endpoint() const;
  std::size_t open_sessions() const { return sessions_.load(); }

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::atomic<bool> stopping_{false};  // not ready; still serving
  std::atomic<bool> draining_{false};  // no new connections; closing idle ones
  std::atomic<std::size_t> sessions_{0};
};

}  // namespace netpol_guard
