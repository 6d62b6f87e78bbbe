#pragma once

// The plain-HTTP listener for kubelet probes and Prometheus: /healthz, /livez,
// /readyz and /metrics, with the admission port's connection protections.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>

#include "netpol_guard/netpol/namespace_state.hpp"
#include "netpol_guard/server/connection_table.hpp"
#include "netpol_guard/server/http_response.hpp"
#include "netpol_guard/server/server_config.hpp"
#include "netpol_guard/server/server_stats.hpp"
#include "netpol_guard/server/state_gauges.hpp"

namespace netpol_guard {

class health_listener {
 public:
  // `stopping` true makes /readyz fail (the server is shutting down).
  health_listener(boost::asio::io_context& ioc, const server_config& config,
                  const namespace_state& state, server_stats& stats,
                  metrics_renderer render_metrics, const std::atomic<bool>& stopping);

  // Binds --health-listen; throws std::runtime_error with one clear line on failure.
  void listen();
  void start();
  // Stops accepting; connections in progress end by their deadlines.
  void close();
  boost::asio::ip::tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

 private:
  struct connection;
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> session(std::shared_ptr<connection> conn);
  http_response route(const boost::beast::http::request<boost::beast::http::string_body>& req);
  state_gauges gauges() const;

  boost::asio::io_context& ioc_;
  const server_config& config_;
  const namespace_state& state_;
  server_stats& stats_;
  metrics_renderer render_metrics_;
  const std::atomic<bool>& stopping_;
  boost::asio::ip::tcp::acceptor acceptor_;
  connection_table table_;
};

}  // namespace netpol_guard
