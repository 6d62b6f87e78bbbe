#include "netpol_guard/server/webhook_listener.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include "netpol_guard/admission/failure_answer.hpp"
#include "netpol_guard/server/connection_admission.hpp"
#include "netpol_guard/server/listen_address.hpp"
#include "netpol_guard/server/log_escaped.hpp"
#include "netpol_guard/telemetry/log.hpp"

namespace netpol_guard {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// A body buffer that a large request grew past this is released after that
// request, so idle keep-alive connections do not pin memory.
constexpr std::size_t retained_body_bytes = 64 * 1024;

// The status comes from admission/failure_answer.hpp's table, by reason.
http_response error_response(const char* reason, std::string message, unsigned version) {
  webhook_answer answer = answer_failure(reason, std::move(message));
  return make_response(answer.status, std::move(answer.body), version);
}

bool is_json_content_type(std::string_view ct) {
  auto semi = ct.find(';');
  std::string_view media = ct.substr(0, semi);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return beast::iequals(media, "application/json");
}

}  // namespace

// One connection's stream and its slot in the table, shared with the table's
// close callback so eviction and shutdown act on the session's own io_context
// (one thread: no strand) without outliving it. The stream's executor is the
// worker io_context's own, not type-erased.
struct webhook_listener::connection {
  using executor = net::io_context::executor_type;
  using socket = net::basic_stream_socket<tcp, executor>;
  connection(socket s, std::shared_ptr<ssl::context> c)
      : ctx(std::move(c)), stream(std::move(s), *ctx) {}
  std::shared_ptr<ssl::context> ctx;  // outlives the stream's SSL object
  beast::ssl_stream<beast::basic_stream<tcp, executor>> stream;
  std::shared_ptr<connection_table::entry> slot;
  // The request body's storage, reused from one request to the next.
  std::string body;
  bool closing = false;  // on its io_context: evicted or shut down; no more requests
};

webhook_listener::webhook_listener(net::io_context& ioc, worker_pool& workers,
                                   const server_config& config, webhook& hook,
                                   tls_credentials& credentials, server_stats& m)
    : ioc_(ioc),
      workers_(workers),
      config_(config),
      hook_(hook),
      credentials_(credentials),
      m_(m),
      acceptor_(net::make_strand(ioc)),
      table_(config.max_connections, config.max_connections_per_source),
      budget_(config.max_buffered_request_bytes, config.max_buffered_request_bytes_per_source),
      drain_strand_(net::make_strand(ioc)),
      drained_(drain_strand_) {}

void webhook_listener::listen() { listen_on(acceptor_, config_.listen, "--listen"); }

void webhook_listener::start() {
  net::co_spawn(acceptor_.get_executor(), accept_loop(), log_escaped("webhook listener stopped"));
}

// Answers one request on the admission port.
net::awaitable<http_response> webhook_listener::route(http::request<http::string_body>& req) {
  const unsigned version = req.version();
  if (path_of(req.target()) != "/validate") {
    m_.count_error(server_error::not_found);
    co_return error_response("not_found", "no such path; POST AdmissionReviews to /validate",
                             version);
  }
  if (req.method() != http::verb::post) {
    m_.count_error(server_error::method_not_allowed);
    auto res = error_response("method_not_allowed", "use POST", version);
    res.set(http::field::allow, "POST");
    co_return res;
  }
  if (!is_json_content_type(req[http::field::content_type])) {
    m_.count_error(server_error::unsupported_media_type);
    co_return error_response("unsupported_media_type", "Content-Type must be application/json",
                             version);
  }
  auto answer = co_await hook_.review(req.body());
  co_return make_response(answer.status, std::move(answer.body), version);
}

// Answers a request whose body does not fit in the budget: 503, and close,
// since the body was not read.
http_response webhook_listener::over_budget_response(body_budget::result r) {
  const bool total = r == body_budget::result::over_total;
  m_.count_over_budget(total ? budget_scope::total : budget_scope::per_source);
  auto res = error_response("over_budget",
                            total ? "the server is buffering too many request bytes; retry"
                                  : "this client has too many request bytes in flight; retry",
                            11);
  res.set(http::field::retry_after, "1");
  res.keep_alive(false);
  return res;
}

// After an error answered before the request was read: reads and drops what
// the client still sends, so that closing with its bytes unread does not
// reset the connection (RST) under the answer before the client has read it.
// Bounded in time and bytes, into one small buffer.
net::awaitable<void> webhook_listener::linger(connection& conn, beast::flat_buffer& buffer) {
  auto& tcp_layer = beast::get_lowest_layer(conn.stream);
  // Done with the client: a full table may evict it and a drain closes it.
  conn.slot->set_phase(connection_phase::waiting);
  std::size_t dropped = buffer.size();
  buffer.consume(buffer.size());
  std::array<char, 4096> sink;
  tcp_layer.expires_after(config_.linger_timeout);
  while (dropped < config_.linger_max_bytes && !conn.closing) {
    // Ends at the client's close (EOF, close_notify), the deadline, or eviction.
    auto [ec, n] = co_await conn.stream.async_read_some(net::buffer(sink), use_tuple);
    if (ec) break;
    dropped += n;
  }
}

net::awaitable<void> webhook_listener::session(std::shared_ptr<connection> conn) {
  using clock = std::chrono::steady_clock;
  auto& stream = conn->stream;
  auto& slot = *conn->slot;
  auto& tcp_layer = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  struct cleanup {
    webhook_listener* self;
    std::shared_ptr<connection_table::entry> slot;
    ~cleanup() {
      self->table_.remove(slot);
      self->session_ended();
    }
  } on_exit{this, conn->slot};

  // Until its first request has arrived, a connection has first_request_timeout
  // in all, so clients that only connect cannot hold slots.
  const auto first_deadline = clock::now() + config_.first_request_timeout;
  tcp_layer.expires_at(std::min(first_deadline, clock::now() + config_.handshake_timeout));
  auto [hs_ec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
  if (hs_ec) {
    if (conn->closing) co_return;  // evicted to make room
    m_.count_error(hs_ec == beast::error::timeout ? server_error::timeout
                                                  : server_error::tls_handshake);
    log::debug("TLS handshake failed", {{"error", hs_ec.message()}});
    co_return;
  }

  bool served = false;
  for (;;) {
    // Wait for the next request with the idle deadline; once its first bytes
    // arrive, the whole request must come within request_timeout (slowloris).
    if (buffer.size() == 0) {
      if (draining_ || conn->closing) break;
      slot.set_phase(connection_phase::waiting);
      const auto idle_until = clock::now() + config_.idle_timeout;
      tcp_layer.expires_at(served ? idle_until : std::min(first_deadline, idle_until));
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
      if (ec) break;  // closed, idle timeout, truncated TLS, evicted or shutdown
      buffer.commit(n);
    }
    slot.set_phase(connection_phase::reading);
    const auto request_deadline = clock::now() + config_.request_timeout;

    // Body bytes are reserved before they are read: from Content-Length after
    // the header, or chunk by chunk. The reservation outlives the parser.
    body_reservation reservation(budget_, m_, slot.source);
    std::optional<body_budget::result> refused;
    auto on_chunk = [&](std::uint64_t size, std::string_view, beast::error_code& ec) {
      auto r = reservation.grow(static_cast<std::size_t>(size));
      if (r != body_budget::result::reserved) {
        refused = r;
        ec = net::error::no_buffer_space;
      }
    };
    http::request_parser<http::string_body> parser;
    // The connection's body storage: its capacity is kept across requests.
    conn->body.clear();
    parser.get().body() = std::move(conn->body);
    parser.header_limit(static_cast<std::uint32_t>(config_.max_header_bytes));
    parser.body_limit(config_.max_request_bytes);
    parser.on_chunk_header(on_chunk);
    tcp_layer.expires_at(served ? request_deadline : std::min(first_deadline, request_deadline));
    auto [rec, rn] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    (void)rn;
    if (!rec && !parser.chunked()) {
      if (auto length = parser.content_length(); length) {
        auto r = reservation.grow(static_cast<std::size_t>(*length));
        if (r != body_budget::result::reserved) refused = r;
      }
    }
    if (!rec && !refused && !parser.is_done()) {
      tcp_layer.expires_at(request_deadline);
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser, use_tuple);
      (void)bn;
      rec = bec;
    }
    if (refused) {
      slot.set_phase(connection_phase::busy);
      auto res = over_budget_response(*refused);
      log::debug(
          "request over the body budget",
          {{"source", slot.source.to_string()},
           {"budget", *refused == body_budget::result::over_total ? "total" : "per_source"}});
      tcp_layer.expires_after(config_.write_timeout);
      co_await http::async_write(stream, res, use_tuple);
      break;
    }
    if (rec) {
      if (rec == http::error::end_of_stream || rec == net::error::eof ||
          rec == ssl::error::stream_truncated || rec == net::error::operation_aborted ||
          conn->closing) {
        break;
      }
      std::optional<http_response> res;
      if (rec == http::error::body_limit) {
        m_.count_error(server_error::body_too_large);
        res = error_response("body_too_large",
                             "request body exceeds the limit of " +
                                 std::to_string(config_.max_request_bytes) + " bytes",
                             11);
      } else if (rec == beast::error::timeout) {
        m_.count_error(server_error::timeout);
        break;  // the stream is unusable after a timeout
      } else {
        m_.count_error(server_error::bad_http);
        res = error_response("bad_http", "malformed HTTP request: " + rec.message(), 11);
      }
      // The rest of the request was not read: answer, then close.
      res->keep_alive(false);
      tcp_layer.expires_after(config_.write_timeout);
      auto [wec, wn] = co_await http::async_write(stream, *res, use_tuple);
      (void)wn;
      if (!wec) co_await linger(*conn, buffer);
      break;
    }
    slot.set_phase(connection_phase::busy);
    auto& req = parser.get();
    // Only "chunked" is a transfer coding we read; anything else (xchunked,
    // gzip, identity) leaves the body's end ambiguous: request smuggling.
    if (auto te = req.find(http::field::transfer_encoding); te != req.end()) {
      std::string_view v = te->value();
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      if (!parser.chunked() || !beast::iequals(v, "chunked")) {
        m_.count_error(server_error::bad_http);
        auto bad = error_response("bad_http", "unsupported Transfer-Encoding", 11);
        bad.keep_alive(false);
        tcp_layer.expires_after(config_.write_timeout);
        auto [wec, wn] = co_await http::async_write(stream, bad, use_tuple);
        (void)wn;
        if (!wec) co_await linger(*conn, buffer);
        break;
      }
    }
    http_response res = co_await route(req);
    // The body is read: its storage goes back to the connection, unless a large
    // request grew it.
    if (req.body().capacity() <= retained_body_bytes) conn->body = std::move(req.body());
    const bool keep_alive = req.keep_alive() && !draining_ && !conn->closing;
    res.keep_alive(keep_alive);
    tcp_layer.expires_after(config_.write_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
    (void)wn;
    if (wec || !keep_alive) break;
    served = true;
    slot.served = true;
  }
  if (conn->closing && !tcp_layer.socket().is_open()) co_return;  // evicted: already closed
  tcp_layer.expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(use_tuple);
}

net::awaitable<void> webhook_listener::accept_loop() {
  for (;;) {
    // Straight onto a worker's io_context: the session never touches this one's
    // threads.
    auto [ec, socket] = co_await acceptor_.async_accept(workers_.next(), use_tuple);
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) co_return;
      log::warn("accept failed", {{"error", ec.message()}});
      // EMFILE and friends: back off briefly instead of spinning.
      net::steady_timer t(ioc_);
      t.expires_after(std::chrono::milliseconds(50));
      co_await t.async_wait(use_tuple);
      continue;
    }
    auto source = peer_of(socket);
    if (!source) continue;
    socket.set_option(tcp::no_delay(true));
    auto conn = std::make_shared<connection>(std::move(socket), credentials_.current());
    if (!admit_connection(table_, listener::webhook, m_, conn, *source)) {
      refuse_connection(beast::get_lowest_layer(conn->stream).socket());
      continue;
    }
    sessions_.fetch_add(1);
    m_.connection_opened();
    auto ex = conn->stream.get_executor();
    net::co_spawn(ex, session(std::move(conn)), log_escaped("session failed"));
  }
}

void webhook_listener::session_ended() {
  m_.connection_closed();
  // The last connection to go ends the drain's wait (on the drain's strand).
  if (sessions_.fetch_sub(1) == 1 && draining_) {
    net::post(drain_strand_, [this] { drained_.cancel(); });
  }
}

net::awaitable<bool> webhook_listener::drain(std::chrono::steady_clock::time_point deadline) {
  draining_ = true;
  net::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  // One pass suffices: a connection not waiting now sees draining_ before it
  // waits for another request, and closes after its answer.
  table_.for_each([](connection_table::entry& e) {
    if (e.close) e.close(true);
  });
  drained_.expires_at(deadline);
  while (sessions_.load() > 0) {
    // Cancelled by the last session_ended(), or expires at the deadline.
    auto [ec] = co_await drained_.async_wait(use_tuple);
    if (!ec) break;
  }
  co_return sessions_.load() == 0;
}

}  // namespace netpol_guard
