#pragma once

// The TLS listener for POST /validate: one session per connection, a deadline
// before every step, the body budget, and the drain at shutdown. The acceptor
// and the drain run on the main io_context; each accepted connection goes to
// the next io_context of the worker pool and its session runs there, without a
// strand (one thread runs that io_context).

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <memory>

#include "netpol_guard/admission/webhook.hpp"
#include "netpol_guard/server/body_budget.hpp"
#include "netpol_guard/server/connection_table.hpp"
#include "netpol_guard/server/http_response.hpp"
#include "netpol_guard/server/server_config.hpp"
#include "netpol_guard/server/server_stats.hpp"
#include "netpol_guard/server/tls_credentials.hpp"
#include "netpol_guard/server/worker_pool.hpp"

namespace netpol_guard {

class webhook_listener {
 public:
  webhook_listener(boost::asio::io_context& ioc, worker_pool& workers, const server_config& config,
                   webhook& hook, tls_credentials& credentials, server_stats& m);

  // Binds --listen; throws std::runtime_error with one clear line on failure.
  void listen();
  void start();
  boost::asio::ip::tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }

  // Stops accepting, closes connections waiting for a request and lets the
  // others finish their request with `Connection: close`. Completes when the
  // last connection is gone (true) or at `deadline` (false). Runs on
  // drain_executor().
  boost::asio::awaitable<bool> drain(std::chrono::steady_clock::time_point deadline);
  boost::asio::strand<boost::asio::io_context::executor_type> drain_executor() const {
    return drain_strand_;
  }
  std::size_t open_connections() const { return sessions_.load(); }

 private:
  struct connection;
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> session(std::shared_ptr<connection> conn);
  boost::asio::awaitable<http_response> route(
      boost::beast::http::request<boost::beast::http::string_body>& req);
  boost::asio::awaitable<void> linger(connection& conn, boost::beast::flat_buffer& buffer);
  http_response over_budget_response(body_budget::result r);
  void session_ended();

  boost::asio::io_context& ioc_;
  worker_pool& workers_;
  const server_config& config_;
  webhook& hook_;
  tls_credentials& credentials_;
  server_stats& m_;
  boost::asio::ip::tcp::acceptor acceptor_;
  connection_table table_;
  body_budget budget_;
  std::atomic<bool> draining_{false};  // no new requests; closing idle connections
  std::atomic<std::size_t> sessions_{0};
  // The drain waits on `drained_` (on its strand) until the grace deadline; the
  // last session to end cancels the wait.
  boost::asio::strand<boost::asio::io_context::executor_type> drain_strand_;
  boost::asio::steady_timer drained_;
};

}  // namespace netpol_guard
