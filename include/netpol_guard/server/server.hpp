#pragma once

// The TLS admission listener and the plain-HTTP health listener.

#include "netpol_guard/telemetry/metrics.hpp"
#include "netpol_guard/netpol/namespace_state.hpp"
#include "netpol_guard/admission/webhook.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
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
  std::chrono::milliseconds shutdown_delay{2'000};   // not ready, still serving
  std::chrono::milliseconds shutdown_grace{20'000};  // then in-flight requests get this long
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

// Why the connection and memory limits of `c` contradict each other (one line
// naming the flags), or empty.
std::string limits_error(const server_config& c);

// Bytes of request bodies buffered in memory: a total and a share per source
// address, so one client cannot take the whole budget. Thread-safe.
class body_budget {
 public:
  enum class result { reserved, over_total, over_per_source };
  body_budget(std::size_t total, std::size_t per_source) : total_(total), per_source_(per_source) {}
  result reserve(const boost::asio::ip::address& source, std::size_t bytes);
  void release(const boost::asio::ip::address& source, std::size_t bytes);
  std::size_t in_use() const;
  std::size_t in_use(const boost::asio::ip::address& source) const;

 private:
  std::size_t total_, per_source_;
  mutable std::mutex mutex_;
  std::size_t used_ = 0;
  std::map<boost::asio::ip::address, std::size_t> by_source_;
};

// What a connection is doing, for choosing which one to close when full.
enum class connection_phase : int { handshake, waiting, reading, busy };

// A listener's open connections, with per-source counts. When full, a new
// client gets a slot by evicting a connection that is not answering a request:
// first one that never completed a request, then an idle keep-alive one, then
// one whose request is still arriving; within that, one of the source holding
// the most connections; then the one longest in its phase. Thread-safe.
class connection_table {
 public:
  struct entry {
    boost::asio::ip::address source;
    // Closes the connection on its own strand: at once unless it is answering a
    // request (then after the answer), or, with `only_if_idle`, only while it
    // waits for a request. Must not block: it may run under the table's lock.
    std::function<void(bool only_if_idle)> close;
    std::atomic<int> phase{static_cast<int>(connection_phase::handshake)};
    std::atomic<bool> served{false};
    std::atomic<std::int64_t> since_ns{0};  // steady_clock, when the phase began
    bool listed = false;                    // guarded by the table's mutex
    void set_phase(connection_phase p);
  };
  enum class admission { admitted, admitted_after_eviction, refused_per_source, refused_full };

  connection_table(std::size_t max_total, std::size_t max_per_source)
      : max_total_(max_total), max_per_source_(std::min(max_per_source, max_total)) {}
  // Lists `e` unless refused; an evicted victim is unlisted and its `close` has run.
  admission admit(const std::shared_ptr<entry>& e);
  void remove(const std::shared_ptr<entry>& e);
  std::size_t size() const;
  std::size_t count(const boost::asio::ip::address& source) const;
  // Runs f on every listed entry, under the lock.
  void for_each(const std::function<void(entry&)>& f);

 private:
  std::shared_ptr<entry> choose_victim_locked() const;
  void unlist_locked(entry& e);
  std::size_t max_total_, max_per_source_;
  mutable std::mutex mutex_;
  std::list<std::shared_ptr<entry>> entries_;
  std::map<boost::asio::ip::address, std::size_t> by_source_;
};

// The source address a limit is kept for: IPv4-mapped IPv6 counts as IPv4.
boost::asio::ip::address source_of(const boost::asio::ip::address& a);

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
