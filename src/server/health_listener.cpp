#include "netpol_guard/server/health_listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "netpol_guard/server/connection_admission.hpp"
#include "netpol_guard/server/listen_address.hpp"
#include "netpol_guard/server/log_escaped.hpp"

namespace netpol_guard {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
}  // namespace

struct health_listener::connection {
  explicit connection(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
  std::shared_ptr<connection_table::entry> slot;
  bool closing = false;  // on the strand: evicted; no more requests
};

health_listener::health_listener(net::io_context& ioc, const server_config& config,
                                 const namespace_state& state, server_stats& stats,
                                 metrics_renderer render_metrics, const std::atomic<bool>& stopping)
    : ioc_(ioc),
      config_(config),
      state_(state),
      stats_(stats),
      render_metrics_(std::move(render_metrics)),
      stopping_(stopping),
      acceptor_(net::make_strand(ioc)),
      table_(config.health_max_connections, config.health_max_connections_per_source) {}

void health_listener::listen() { listen_on(acceptor_, config_.health_listen, "--health-listen"); }

void health_listener::start() {
  net::co_spawn(acceptor_.get_executor(), accept_loop(), log_escaped("health listener stopped"));
}

void health_listener::close() {
  net::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
}

state_gauges health_listener::gauges() const {
  // Exemptions expire with the wall clock, not with a state change: judge them
  // at the scrape, in whole seconds as exempt-until is written.
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  state_gauges g = namespace_gauges(*state_.snapshot(), config_.exempt_namespaces, now);
  auto r = state_.readiness();
  g.state_age_seconds = r.age_seconds;
  g.ready = r.ready && !stopping_;
  return g;
}

http_response health_listener::route(const http::request<http::string_body>& req) {
  const unsigned version = req.version();
  auto path = path_of(req.target());
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    auto res = make_response(405, "use GET\n", version, "text/plain");
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  if (path == "/healthz" || path == "/livez") {
    return make_response(200, "ok\n", version, "text/plain");
  }
  if (path == "/readyz") {
    if (stopping_) return make_response(503, "shutting down\n", version, "text/plain");
    auto r = state_.readiness();
    if (!r.ready) return make_response(503, r.reason + "\n", version, "text/plain");
    // Ready with a degraded detail, such as a refused --policies reload that
    // left the last good state in force.
    if (!r.reason.empty()) {
      return make_response(200, "ok: " + r.reason + "\n", version, "text/plain");
    }
    return make_response(200, "ok\n", version, "text/plain");
  }
  if (path == "/metrics") {
    return make_response(200, render_metrics_(gauges()), version,
                         "text/plain; version=0.0.4; charset=utf-8");
  }
  return make_response(404, "not found\n", version, "text/plain");
}

// The health port has the admission port's protections: a short deadline
// for the first request, a per-source limit, and eviction when full.
net::awaitable<void> health_listener::session(std::shared_ptr<connection> conn) {
  using clock = std::chrono::steady_clock;
  auto& stream = conn->stream;
  auto& slot = *conn->slot;
  beast::flat_buffer buffer;
  struct cleanup {
    connection_table& table;
    std::shared_ptr<connection_table::entry> slot;
    ~cleanup() { table.remove(slot); }
  } on_exit{table_, conn->slot};

  const auto first_deadline = clock::now() + config_.health_first_request_timeout;
  bool served = false;
  for (;;) {
    if (buffer.size() == 0) {
      if (conn->closing) break;
      slot.set_phase(connection_phase::waiting);
      const auto idle_until = clock::now() + config_.health_idle_timeout;
      stream.expires_at(served ? idle_until : std::min(first_deadline, idle_until));
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(1024), use_tuple);
      if (ec) break;
      buffer.commit(n);
    }
    slot.set_phase(connection_phase::reading);
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(config_.health_max_header_bytes));
    parser.body_limit(config_.health_max_body_bytes);
    const auto request_deadline = clock::now() + config_.health_request_timeout;
    stream.expires_at(served ? request_deadline : std::min(first_deadline, request_deadline));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    (void)n;
    if (ec) break;
    slot.set_phase(connection_phase::busy);
    auto res = route(parser.get());
    res.keep_alive(parser.get().keep_alive() && !conn->closing);
    if (parser.get().method() == http::verb::head) res.body().clear();
    stream.expires_after(config_.write_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
    (void)wn;
    if (wec || !res.keep_alive()) break;
    served = true;
    slot.served = true;
  }
  if (stream.socket().is_open()) {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
}

net::awaitable<void> health_listener::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(net::make_strand(ioc_), use_tuple);
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) co_return;
      net::steady_timer t(ioc_);
      t.expires_after(std::chrono::milliseconds(50));
      co_await t.async_wait(use_tuple);
      continue;
    }
    auto source = peer_of(socket);
    if (!source) continue;
    auto conn = std::make_shared<connection>(std::move(socket));
    if (!admit_connection(table_, listener::health, stats_, conn, *source)) {
      refuse_connection(conn->stream.socket());
      continue;
    }
    auto ex = conn->stream.get_executor();
    net::co_spawn(ex, session(std::move(conn)), log_escaped("health session failed"));
  }
}

}  // namespace netpol_guard
