#include "netpol_guard/server/server.hpp"

#include "netpol_guard/admission/codec.hpp"
#include "netpol_guard/telemetry/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <cassert>
#include <list>
#include <stdexcept>

namespace netpol_guard {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

using response = http::response<http::string_body>;

response make_response(unsigned status, std::string body, unsigned version,
                       std::string_view content_type = "application/json") {
  response res{static_cast<http::status>(status), version};
  res.set(http::field::server, "netpol-guard");
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

response error_response(unsigned status, const char* reason, std::string message,
                        unsigned version) {
  return make_response(status, encode_error(codec_error{static_cast<int>(status), reason,
                                                        std::move(message)}),
                       version);
}

std::string_view path_of(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

bool is_json_content_type(std::string_view ct) {
  auto semi = ct.find(';');
  std::string_view media = ct.substr(0, semi);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return beast::iequals(media, "application/json");
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A body reservation for one request, returned when the request ends (after
// the parser that holds the body is gone).
class body_reservation {
 public:
  body_reservation(body_budget& b, metrics& m, net::ip::address source)
      : budget_(b), m_(m), source_(source) {}
  ~body_reservation() {
    if (bytes_ == 0) return;
    budget_.release(source_, bytes_);
    m_.add_buffered_bytes(-static_cast<std::int64_t>(bytes_));
  }
  body_reservation(const body_reservation&) = delete;
  body_reservation& operator=(const body_reservation&) = delete;

  body_budget::result grow(std::size_t more) {
    if (more == 0) return body_budget::result::reserved;
    auto r = budget_.reserve(source_, more);
    if (r == body_budget::result::reserved) {
      bytes_ += more;
      m_.add_buffered_bytes(static_cast<std::int64_t>(more));
    }
    return r;
  }

 private:
  body_budget& budget_;
  metrics& m_;
  net::ip::address source_;
  std::size_t bytes_ = 0;
};

// Completion handler for a detached coroutine: an exception that escapes it
// (a bug, not bad input) is logged as "<what> failed" rather than lost.
auto log_escaped(std::string what) {
  return [what = std::move(what)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      log::error(what, {{"error", x.what()}});
    }
  };
}

}  // namespace

net::ip::address source_of(const net::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
  }
  return a;
}

body_budget::result body_budget::reserve(const net::ip::address& source, std::size_t bytes) {
  std::lock_guard lock(mutex_);
  if (bytes > total_ - std::min(used_, total_)) return result::over_total;
  auto& mine = by_source_[source];
  if (bytes > per_source_ - std::min(mine, per_source_)) {
    if (mine == 0) by_source_.erase(source);
    return result::over_per_source;
  }
  mine += bytes;
  used_ += bytes;
  return result::reserved;
}

void body_budget::release(const net::ip::address& source, std::size_t bytes) {
  std::lock_guard lock(mutex_);
  auto it = by_source_.find(source);
  assert(it != by_source_.end() && it->second >= bytes && used_ >= bytes);
  used_ -= bytes;
  it->second -= bytes;
  if (it->second == 0) by_source_.erase(it);
}

std::size_t body_budget::in_use() const {
  std::lock_guard lock(mutex_);
  return used_;
}

std::size_t body_budget::in_use(const net::ip::address& source) const {
  std::lock_guard lock(mutex_);
  auto it = by_source_.find(source);
  return it == by_source_.end() ? 0 : it->second;
}

void connection_table::entry::set_phase(connection_phase p) {
  since_ns.store(now_ns(), std::memory_order_relaxed);
  phase.store(static_cast<int>(p), std::memory_order_relaxed);
}

connection_table::admission connection_table::admit(const std::shared_ptr<entry>& e) {
  std::shared_ptr<entry> victim;
  admission result = admission::admitted;
  {
    std::lock_guard lock(mutex_);
    // A share as large as the whole table is no share: then a source that
    // holds every slot still gets eviction, like any other client.
    auto it = by_source_.find(e->source);
    if (max_per_source_ < max_total_ && it != by_source_.end() &&
        it->second >= max_per_source_) {
      return admission::refused_per_source;
    }
    if (entries_.size() >= max_total_) {
      victim = choose_victim_locked();
      if (!victim) return admission::refused_full;
      unlist_locked(*victim);
      result = admission::admitted_after_eviction;
    }
    e->since_ns = now_ns();
    e->listed = true;
    entries_.push_back(e);
    ++by_source_[e->source];
  }
  if (victim && victim->close) victim->close(false);
  return result;
}

std::shared_ptr<connection_table::entry> connection_table::choose_victim_locked() const {
  // Lower is evicted first: never served, then idle, then a request arriving.
  auto rank = [](const entry& e) {
    const auto p = static_cast<connection_phase>(e.phase.load(std::memory_order_relaxed));
    if (!e.served.load(std::memory_order_relaxed)) return 0;
    return p == connection_phase::waiting ? 1 : 2;
  };
  std::shared_ptr<entry> best;
  int best_rank = 0;
  std::size_t best_count = 0;
  std::int64_t best_since = 0;
  for (const auto& e : entries_) {
    if (static_cast<connection_phase>(e->phase.load(std::memory_order_relaxed)) ==
        connection_phase::busy) {
      continue;  // answering a request: let it finish
    }
    const int r = rank(*e);
    const std::size_t n = by_source_.at(e->source);
    const std::int64_t since = e->since_ns.load(std::memory_order_relaxed);
    if (!best || r < best_rank || (r == best_rank && n > best_count) ||
        (r == best_rank && n == best_count && since < best_since)) {
      best = e;
      best_rank = r;
      best_count = n;
      best_since = since;
    }
  }
  return best;
}

void connection_table::unlist_locked(entry& e) {
  if (!e.listed) return;
  e.listed = false;
  entries_.remove_if([&](const std::shared_ptr<entry>& p) { return p.get() == &e; });
  auto it = by_source_.find(e.source);
  if (it != by_source_.end() && --it->second == 0) by_source_.erase(it);
}

void connection_table::remove(const std::shared_ptr<entry>& e) {
  std::lock_guard lock(mutex_);
  unlist_locked(*e);
}

std::size_t connection_table::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t connection_table::count(const net::ip::address& source) const {
  std::lock_guard lock(mutex_);
  auto it = by_source_.find(source);
  return it == by_source_.end() ? 0 : it->second;
}

void connection_table::for_each(const std::function<void(entry&)>& f) {
  std::lock_guard lock(mutex_);
  for (auto& e : entries_) f(*e);
}

std::string limits_error(const server_config& c) {
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

bool parse_listen_address(const std::string& text, tcp::endpoint& out, std::string& error) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    error = "listen address \"" + text + "\" has no port (want host:port)";
    return false;
  }
  std::string host = text.substr(0, colon);
  std::string port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535) {
    error = "listen address \"" + text + "\" has an invalid port";
    return false;
  }
  boost::system::error_code ec;
  auto addr = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) {
    error = "listen address \"" + text + "\": invalid IP address";
    return false;
  }
  out = tcp::endpoint(addr, static_cast<unsigned short>(p));
  return true;
}

struct server::impl {
  net::io_context& ioc;
  server_config config;
  webhook& hook;
  const namespace_state& state;
  metrics& m;
  server& owner;
  tls_credentials credentials;
  tcp::acceptor acceptor;
  tcp::acceptor health_acceptor;
  net::steady_timer reload_timer;
  connection_table webhook_table;
  connection_table health_table;
  body_budget budget;

  impl(net::io_context& io, server_config cfg, webhook& h, const namespace_state& s,
       metrics& mm, server& o)
      : ioc(io),
        config(std::move(cfg)),
        hook(h),
        state(s),
        m(mm),
        owner(o),
        credentials(config.tls_cert_file, config.tls_private_key_file, config.client_ca_file,
                    &mm),
        acceptor(net::make_strand(io)),
        health_acceptor(net::make_strand(io)),
        reload_timer(io),
        webhook_table(config.max_connections, config.max_connections_per_source),
        health_table(config.health_max_connections, config.health_max_connections_per_source),
        budget(config.max_buffered_request_bytes, config.max_buffered_request_bytes_per_source) {}

  void bind(tcp::acceptor& a, const std::string& address, const char* flag) {
    tcp::endpoint ep;
    std::string error;
    if (!parse_listen_address(address, ep, error)) throw std::runtime_error(flag + (": " + error));
    boost::system::error_code ec;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      throw std::runtime_error(std::string("cannot listen on ") + flag + " " + address + ": " +
                               ec.message());
    }
  }

  // Answers one request on the admission port.
  net::awaitable<response> route(http::request<http::string_body>& req) {
    const unsigned version = req.version();
    if (path_of(req.target()) != "/validate") {
      m.count_error(error_reason::not_found);
      co_return error_response(404, "not_found", "no such path; POST AdmissionReviews to /validate",
                               version);
    }
    if (req.method() != http::verb::post) {
      m.count_error(error_reason::method_not_allowed);
      auto res = error_response(405, "method_not_allowed", "use POST", version);
      res.set(http::field::allow, "POST");
      co_return res;
    }
    if (!is_json_content_type(req[http::field::content_type])) {
      m.count_error(error_reason::unsupported_media_type);
      co_return error_response(415, "unsupported_media_type",
                               "Content-Type must be application/json", version);
    }
    auto answer = co_await hook.review(req.body());
    co_return make_response(answer.status, std::move(answer.body), version);
  }

  // One connection's stream and its slot in the table, shared with the table's
  // close callback so eviction and shutdown act on the session's own strand
  // without outliving it.
  struct connection {
    connection(tcp::socket s, std::shared_ptr<ssl::context> c)
        : ctx(std::move(c)), stream(std::move(s), *ctx) {}
    std::shared_ptr<ssl::context> ctx;  // outlives the stream's SSL object
    beast::ssl_stream<beast::tcp_stream> stream;
    std::shared_ptr<connection_table::entry> slot;
    bool closing = false;  // on the strand: evicted or shut down; no more requests
  };

  struct health_connection {
    explicit health_connection(tcp::socket s) : stream(std::move(s)) {}
    beast::tcp_stream stream;
    std::shared_ptr<connection_table::entry> slot;
    bool closing = false;
  };

  // The table's close callback for a connection of type C.
  template <class C>
  static std::function<void(bool)> closer(const std::shared_ptr<C>& conn) {
    std::weak_ptr<C> weak = conn;
    auto executor = conn->stream.get_executor();
    return [weak, executor](bool only_if_idle) {
      auto c = weak.lock();
      if (!c) return;
      net::post(executor, [c, only_if_idle] {
        const auto phase = static_cast<connection_phase>(c->slot->phase.load());
        if (only_if_idle && phase != connection_phase::waiting) return;
        c->closing = true;
        // A request being answered gets its answer, then the connection closes.
        if (phase != connection_phase::busy) beast::get_lowest_layer(c->stream).close();
      });
    };
  }

  // Answers a request whose body does not fit in the budget: 503, and close,
  // since the body was not read.
  response over_budget_response(body_budget::result r) {
    const bool total = r == body_budget::result::over_total;
    m.count_over_budget(total ? budget_scope::total : budget_scope::per_source);
    auto res = error_response(
        503, "over_budget",
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
  net::awaitable<void> linger(connection& conn, beast::flat_buffer& buffer) {
    auto& tcp_layer = beast::get_lowest_layer(conn.stream);
    // Done with the client: a full table may evict it and a drain closes it.
    conn.slot->set_phase(connection_phase::waiting);
    std::size_t dropped = buffer.size();
    buffer.consume(buffer.size());
    std::array<char, 4096> sink;
    tcp_layer.expires_after(config.linger_timeout);
    while (dropped < config.linger_max_bytes && !conn.closing) {
      // Ends at the client's close (EOF, close_notify), the deadline, or eviction.
      auto [ec, n] = co_await conn.stream.async_read_some(net::buffer(sink), use_tuple);
      if (ec) break;
      dropped += n;
    }
  }

  net::awaitable<void> webhook_session(std::shared_ptr<connection> conn) {
    using clock = std::chrono::steady_clock;
    auto& stream = conn->stream;
    auto& slot = *conn->slot;
    auto& tcp_layer = beast::get_lowest_layer(stream);
    beast::flat_buffer buffer;
    struct cleanup {
      impl* self;
      std::shared_ptr<connection_table::entry> slot;
      ~cleanup() {
        self->webhook_table.remove(slot);
        self->m.connection_closed();
        self->owner.sessions_.fetch_sub(1);
      }
    } on_exit{this, conn->slot};

    // Until its first request has arrived, a connection has first_request_timeout
    // in all, so clients that only connect cannot hold slots.
    const auto first_deadline = clock::now() + config.first_request_timeout;
    tcp_layer.expires_at(std::min(first_deadline, clock::now() + config.handshake_timeout));
    auto [hs_ec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
    if (hs_ec) {
      if (conn->closing) co_return;  // evicted to make room
      m.count_error(hs_ec == beast::error::timeout ? error_reason::timeout
                                                   : error_reason::tls_handshake);
      log::debug("TLS handshake failed", {{"error", hs_ec.message()}});
      co_return;
    }

    bool served = false;
    for (;;) {
      // Wait for the next request with the idle deadline; once its first bytes
      // arrive, the whole request must come within request_timeout (slowloris).
      if (buffer.size() == 0) {
        if (owner.draining_ || conn->closing) break;
        slot.set_phase(connection_phase::waiting);
        const auto idle_until = clock::now() + config.idle_timeout;
        tcp_layer.expires_at(served ? idle_until : std::min(first_deadline, idle_until));
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
        if (ec) break;  // closed, idle timeout, truncated TLS, evicted or shutdown
        buffer.commit(n);
      }
      slot.set_phase(connection_phase::reading);
      const auto request_deadline = clock::now() + config.request_timeout;

      // Body bytes are reserved before they are read: from Content-Length after
      // the header, or chunk by chunk. The reservation outlives the parser.
      body_reservation reservation(budget, m, slot.source);
      std::optional<body_budget::result> refused;
      auto on_chunk = [&](std::uint64_t size, std::string_view, beast::error_code& ec) {
        auto r = reservation.grow(static_cast<std::size_t>(size));
        if (r != body_budget::result::reserved) {
          refused = r;
          ec = net::error::no_buffer_space;
        }
      };
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
      parser.body_limit(config.max_request_bytes);
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
        log::debug("request over the body budget",
                   {{"source", slot.source.to_string()},
                    {"budget", *refused == body_budget::result::over_total ? "total"
                                                                           : "per_source"}});
        tcp_layer.expires_after(config.write_timeout);
        co_await http::async_write(stream, res, use_tuple);
        break;
      }
      if (rec) {
        if (rec == http::error::end_of_stream || rec == net::error::eof ||
            rec == ssl::error::stream_truncated || rec == net::error::operation_aborted ||
            conn->closing) {
          break;
        }
        std::optional<response> res;
        if (rec == http::error::body_limit) {
          m.count_error(error_reason::body_too_large);
          res = error_response(413, "body_too_large",
                               "request body exceeds the limit of " +
                                   std::to_string(config.max_request_bytes) + " bytes",
                               11);
        } else if (rec == beast::error::timeout) {
          m.count_error(error_reason::timeout);
          break;  // the stream is unusable after a timeout
        } else {
          m.count_error(error_reason::bad_http);
          res = error_response(400, "bad_http", "malformed HTTP request: " + rec.message(), 11);
        }
        // The rest of the request was not read: answer, then close.
        res->keep_alive(false);
        tcp_layer.expires_after(config.write_timeout);
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
          m.count_error(error_reason::bad_http);
          auto bad = error_response(400, "bad_http", "unsupported Transfer-Encoding", 11);
          bad.keep_alive(false);
          tcp_layer.expires_after(config.write_timeout);
          auto [wec, wn] = co_await http::async_write(stream, bad, use_tuple);
          (void)wn;
          if (!wec) co_await linger(*conn, buffer);
          break;
        }
      }
      response res = co_await route(req);
      const bool keep_alive = req.keep_alive() && !owner.draining_ && !conn->closing;
      res.keep_alive(keep_alive);
      tcp_layer.expires_after(config.write_timeout);
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

  // Admits a new connection into `table` or says why not, counting either way.
  template <class C>
  bool admit(connection_table& table, listener which, const std::shared_ptr<C>& conn,
             const net::ip::address& source) {
    conn->slot = std::make_shared<connection_table::entry>();
    conn->slot->source = source;
    conn->slot->close = closer(conn);
    switch (table.admit(conn->slot)) {
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
        if (which == listener::webhook) m.count_error(error_reason::connection_limit);
        return false;
    }
    return false;
  }

  template <class Socket>
  static void refuse(Socket& socket) {
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  template <class Socket>
  static std::optional<net::ip::address> peer_of(Socket& socket) {
    boost::system::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (ec) return std::nullopt;  // already gone
    return source_of(ep.address());
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(net::make_strand(ioc), use_tuple);
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
        log::warn("accept failed", {{"error", ec.message()}});
        // EMFILE and friends: back off briefly instead of spinning.
        net::steady_timer t(ioc);
        t.expires_after(std::chrono::milliseconds(50));
        co_await t.async_wait(use_tuple);
        continue;
      }
      auto source = peer_of(socket);
      if (!source) continue;
      socket.set_option(tcp::no_delay(true));
      auto conn = std::make_shared<connection>(std::move(socket), credentials.current());
      if (!admit(webhook_table, listener::webhook, conn, *source)) {
        refuse(beast::get_lowest_layer(conn->stream).socket());
        continue;
      }
      owner.sessions_.fetch_add(1);
      m.connection_opened();
      auto ex = conn->stream.get_executor();
      net::co_spawn(ex, webhook_session(std::move(conn)), log_escaped("session failed"));
    }
  }

  state_gauges gauges() const {
    state_gauges g;
    auto snap = state.snapshot();
    g.namespaces = snap->namespace_count();
    for (const auto& [ns, entry] : snap->entries()) {
      if (config.exempt_namespaces.contains(ns)) continue;
      auto c = entry.coverage();
      if (!c.full()) ++g.non_compliant;
      if (!c.ingress) ++g.missing_ingress;
      if (!c.egress) ++g.missing_egress;
    }
    auto r = state.readiness();
    g.state_age_seconds = r.age_seconds;
    g.ready = r.ready && !owner.stopping_;
    return g;
  }

  response health_route(const http::request<http::string_body>& req) {
    const unsigned version = req.version();
    auto path = path_of(req.target());
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      auto res = make_response(405, "use GET\n", version, "text/plain");
      res.set(http::field::allow, "GET, HEAD");
      return res;
    }
    if (path == "/healthz" || path == "/livez") return make_response(200, "ok\n", version, "text/plain");
    if (path == "/readyz") {
      if (owner.stopping_) return make_response(503, "shutting down\n", version, "text/plain");
      auto r = state.readiness();
      if (!r.ready) return make_response(503, r.reason + "\n", version, "text/plain");
      // Ready with a degraded detail, such as a refused --policies reload that
      // left the last good state in force.
      if (!r.reason.empty()) return make_response(200, "ok: " + r.reason + "\n", version, "text/plain");
      return make_response(200, "ok\n", version, "text/plain");
    }
    if (path == "/metrics") {
      return make_response(200, m.render(gauges()), version,
                           "text/plain; version=0.0.4; charset=utf-8");
    }
    return make_response(404, "not found\n", version, "text/plain");
  }

  // The health port has the admission port's protections: a short deadline
  // for the first request, a per-source limit, and eviction when full.
  net::awaitable<void> health_session(std::shared_ptr<health_connection> conn) {
    using clock = std::chrono::steady_clock;
    auto& stream = conn->stream;
    auto& slot = *conn->slot;
    beast::flat_buffer buffer;
    struct cleanup {
      impl* self;
      std::shared_ptr<connection_table::entry> slot;
      ~cleanup() { self->health_table.remove(slot); }
    } on_exit{this, conn->slot};

    const auto first_deadline = clock::now() + config.health_first_request_timeout;
    bool served = false;
    for (;;) {
      if (buffer.size() == 0) {
        if (conn->closing) break;
        slot.set_phase(connection_phase::waiting);
        const auto idle_until = clock::now() + config.health_idle_timeout;
        stream.expires_at(served ? idle_until : std::min(first_deadline, idle_until));
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(1024), use_tuple);
        if (ec) break;
        buffer.commit(n);
      }
      slot.set_phase(connection_phase::reading);
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(config.health_max_header_bytes));
      parser.body_limit(config.health_max_body_bytes);
      const auto request_deadline = clock::now() + config.health_request_timeout;
      stream.expires_at(served ? request_deadline : std::min(first_deadline, request_deadline));
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
      (void)n;
      if (ec) break;
      slot.set_phase(connection_phase::busy);
      auto res = health_route(parser.get());
      res.keep_alive(parser.get().keep_alive() && !conn->closing);
      if (parser.get().method() == http::verb::head) res.body().clear();
      stream.expires_after(config.write_timeout);
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

  net::awaitable<void> health_accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await health_acceptor.async_accept(net::make_strand(ioc), use_tuple);
      if (ec) {
        if (ec == net::error::operation_aborted || !health_acceptor.is_open()) co_return;
        net::steady_timer t(ioc);
        t.expires_after(std::chrono::milliseconds(50));
        co_await t.async_wait(use_tuple);
        continue;
      }
      auto source = peer_of(socket);
      if (!source) continue;
      auto conn = std::make_shared<health_connection>(std::move(socket));
      if (!admit(health_table, listener::health, conn, *source)) {
        refuse(conn->stream.socket());
        continue;
      }
      auto ex = conn->stream.get_executor();
      net::co_spawn(ex, health_session(std::move(conn)), log_escaped("health session failed"));
    }
  }

  net::awaitable<void> reload_loop() {
    for (;;) {
      reload_timer.expires_after(config.tls_reload_interval);
      auto [ec] = co_await reload_timer.async_wait(use_tuple);
      if (ec || owner.stopping_) co_return;
      std::string error;
      if (credentials.reload_if_changed(error)) {
        m.count_cert_reload(true);
        log::info("reloaded serving certificate", {{"cert", config.tls_cert_file}});
      } else if (!error.empty()) {
        m.count_cert_reload(false);
        m.count_error(error_reason::cert_reload);
        log::warn("serving certificate reload failed; keeping the previous one",
                  {{"error", error}});
      }
    }
  }
};

server::server(net::io_context& ioc, server_config config, webhook& hook,
               const namespace_state& state, metrics& m)
    : impl_(std::make_unique<impl>(ioc, std::move(config), hook, state, m, *this)) {}

server::~server() = default;

void server::start() {
  std::string error;
  if (!impl_->credentials.load(error)) throw std::runtime_error(error);
  impl_->bind(impl_->acceptor, impl_->config.listen, "--listen");
  impl_->bind(impl_->health_acceptor, impl_->config.health_listen, "--health-listen");
  net::co_spawn(impl_->acceptor.get_executor(), impl_->accept_loop(),
                log_escaped("webhook listener stopped"));
  net::co_spawn(impl_->health_acceptor.get_executor(), impl_->health_accept_loop(),
                log_escaped("health listener stopped"));
  net::co_spawn(impl_->ioc, impl_->reload_loop(), log_escaped("certificate reloader stopped"));
}

tcp::endpoint server::webhook_endpoint() const { return impl_->acceptor.local_endpoint(); }
tcp::endpoint server::health_endpoint() const { return impl_->health_acceptor.local_endpoint(); }

void server::begin_shutdown(std::function<void()> done) {
  if (stopping_.exchange(true)) return;
  auto* self = impl_.get();
  net::co_spawn(
      self->ioc,
      [self, this, done = std::move(done)]() -> net::awaitable<void> {
        net::steady_timer t(self->ioc);
        // Readiness already fails; keep serving while endpoints stop routing here.
        t.expires_after(self->config.shutdown_delay);
        co_await t.async_wait(use_tuple);
        draining_ = true;
        net::post(self->acceptor.get_executor(), [self] {
          boost::system::error_code ignored;
          self->acceptor.close(ignored);
        });
        self->reload_timer.cancel();
        const auto deadline = std::chrono::steady_clock::now() + self->config.shutdown_grace;
        while (sessions_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
          self->webhook_table.for_each([](connection_table::entry& e) {
            if (e.close) e.close(true);
          });
          t.expires_after(std::chrono::milliseconds(20));
          co_await t.async_wait(use_tuple);
        }
        if (sessions_.load() > 0) {
          log::warn("shutdown grace period over; closing remaining connections",
                    {{"open", std::to_string(sessions_.load())}});
        }
        net::post(self->health_acceptor.get_executor(), [self] {
          boost::system::error_code ignored;
          self->health_acceptor.close(ignored);
        });
        if (done) done();
      },
      net::detached);
}

}  // namespace netpol_guard
