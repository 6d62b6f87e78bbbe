#pragma once

// The server: the TLS admission listener, the plain-HTTP health listener, the
// serving certificate's reloader, and the graceful stop that ties them. The
// listeners, the reloader and the drain run on `ioc`; admission sessions on
// `workers` (server/worker_pool.hpp).

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>

#include "netpol_guard/admission/webhook.hpp"
#include "netpol_guard/netpol/namespace_state.hpp"
#include "netpol_guard/server/server_config.hpp"
#include "netpol_guard/server/server_stats.hpp"
#include "netpol_guard/server/state_gauges.hpp"
#include "netpol_guard/server/tls_stats.hpp"
#include "netpol_guard/server/worker_pool.hpp"

namespace netpol_guard {

class server {
 public:
  server(boost::asio::io_context& ioc, worker_pool& workers, server_config config, webhook& hook,
         const namespace_state& state, server_stats& stats, tls_stats& tls,
         metrics_renderer render_metrics);
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

 private:
  struct impl;
  std::atomic<bool> stopping_{false};  // not ready; still serving
  std::unique_ptr<impl> impl_;
};

}  // namespace netpol_guard
