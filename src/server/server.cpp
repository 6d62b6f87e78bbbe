#include "netpol_guard/server.hpp"

#include "netpol_guard/codec.hpp"
#include "netpol_guard/log.hpp"

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

// A session in the registry, so shutdown can close idle keep-alive connections.
struct session_slot {
  std::function<void()> cancel_if_idle;
};

}  // namespace

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
  std::mutex registry_mutex;
  std::list<session_slot> registry;

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
        reload_timer(io) {}

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

  // One connection's stream, shared with the registry so shutdown can cancel an
  // idle read on the session's own strand without outliving it.
  struct connection {
    connection(tcp::socket s, std::shared_ptr<ssl::context> c)
        : ctx(std::move(c)), stream(std::move(s), *ctx) {}
    std::shared_ptr<ssl::context> ctx;  // outlives the stream's SSL object
    beast::ssl_stream<beast::tcp_stream> stream;
    std::atomic<bool> idle{false};
  };

  net::awaitable<void> webhook_session(tcp::socket socket, std::shared_ptr<ssl::context> ctx) {
    auto conn = std::make_shared<connection>(std::move(socket), std::move(ctx));
    auto& stream = conn->stream;
    auto& idle = conn->idle;
    beast::flat_buffer buffer;
    auto executor = stream.get_executor();

    std::list<session_slot>::iterator slot;
    {
      std::weak_ptr<connection> weak = conn;
      std::lock_guard lock(registry_mutex);
      registry.push_front(session_slot{[weak, executor] {
        if (auto c = weak.lock()) {
          net::post(executor, [c] {
            if (c->idle.load()) beast::get_lowest_layer(c->stream).cancel();
          });
        }
      }});
      slot = registry.begin();
    }
    struct cleanup {
      impl* self;
      std::list<session_slot>::iterator slot;
      ~cleanup() {
        {
          std::lock_guard lock(self->registry_mutex);
          self->registry.erase(slot);
        }
        self->m.connection_closed();
        self->owner.sessions_.fetch_sub(1);
      }
    } on_exit{this, slot};

    beast::get_lowest_layer(stream).expires_after(config.handshake_timeout);
    auto [hs_ec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
    if (hs_ec) {
      m.count_error(hs_ec == beast::error::timeout ? error_reason::timeout
                                                   : error_reason::tls_handshake);
      log::debug("TLS handshake failed", {{"error", hs_ec.message()}});
      co_return;
    }

    for (;;) {
      // Wait for the next request with the idle deadline; once its first bytes
      // arrive, the whole request must come within request_timeout (slowloris).
      if (buffer.size() == 0) {
        if (owner.draining_) break;
        idle = true;
        beast::get_lowest_layer(stream).expires_after(config.idle_timeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
        idle = false;
        if (ec) break;  // closed, idle timeout, truncated TLS, or shutdown
        buffer.commit(n);
      }
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
      parser.body_limit(config.max_request_bytes);
      beast::get_lowest_layer(stream).expires_after(config.request_timeout);
      auto [rec, rn] = co_await http::async_read(stream, buffer, parser, use_tuple);
      (void)rn;
      if (rec) {
        if (rec == http::error::end_of_stream || rec == net::error::eof ||
            rec == ssl::error::stream_truncated || rec == net::error::operation_aborted) {
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
        beast::get_lowest_layer(stream).expires_after(config.write_timeout);
        co_await http::async_write(stream, *res, use_tuple);
        break;
      }
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
          beast::get_lowest_layer(stream).expires_after(config.write_timeout);
          co_await http::async_write(stream, bad, use_tuple);
          break;
        }
      }
      response res = co_await route(req);
      const bool keep_alive = req.keep_alive() && !owner.draining_;
      res.keep_alive(keep_alive);
      beast::get_lowest_layer(stream).expires_after(config.write_timeout);
      auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
      (void)wn;
      if (wec || !keep_alive) break;
    }
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(use_tuple);
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
      if (owner.sessions_.load() >= config.max_connections) {
        m.count_error(error_reason::connection_limit);
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        continue;
      }
      socket.set_option(tcp::no_delay(true));
      owner.sessions_.fetch_add(1);
      m.connection_opened();
      auto ex = socket.get_executor();
      net::co_spawn(ex, webhook_session(std::move(socket), credentials.current()),
                    [](std::exception_ptr e) {
                      if (!e) return;
                      try {
                        std::rethrow_exception(e);
                      } catch (const std::exception& x) {
                        log::error("session failed", {{"error", x.what()}});
                      }
                    });
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
      return make_response(200, "ok\n", version, "text/plain");
    }
    if (path == "/metrics") {
      return make_response(200, m.render(gauges()), version,
                           "text/plain; version=0.0.4; charset=utf-8");
    }
    return make_response(404, "not found\n", version, "text/plain");
  }

  net::awaitable<void> health_session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(8 * 1024);
      parser.body_limit(4 * 1024);
      stream.expires_after(std::chrono::seconds(10));
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
      (void)n;
      if (ec) break;
      auto res = health_route(parser.get());
      res.keep_alive(parser.get().keep_alive());
      if (parser.get().method() == http::verb::head) res.body().clear();
      auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
      (void)wn;
      if (wec || !res.keep_alive()) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  net::awaitable<void> health_accept_loop() {
    std::size_t open = 0;
    auto counter = std::make_shared<std::atomic<std::size_t>>(0);
    (void)open;
    for (;;) {
      auto [ec, socket] = co_await health_acceptor.async_accept(net::make_strand(ioc), use_tuple);
      if (ec) {
        if (ec == net::error::operation_aborted || !health_acceptor.is_open()) co_return;
        net::steady_timer t(ioc);
        t.expires_after(std::chrono::milliseconds(50));
        co_await t.async_wait(use_tuple);
        continue;
      }
      if (counter->load() >= 64) continue;  // probes and scrapes need few connections
      counter->fetch_add(1);
      auto ex = socket.get_executor();
      net::co_spawn(ex, health_session(std::move(socket)),
                    [counter](std::exception_ptr) { counter->fetch_sub(1); });
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
  auto report = [](const char* what) {
    return [what](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        log::error(std::string(what) + " stopped", {{"error", x.what()}});
      }
    };
  };
  net::co_spawn(impl_->acceptor.get_executor(), impl_->accept_loop(), report("webhook listener"));
  net::co_spawn(impl_->health_acceptor.get_executor(), impl_->health_accept_loop(),
                report("health listener"));
  net::co_spawn(impl_->ioc, impl_->reload_loop(), report("certificate reloader"));
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
          {
            std::lock_guard lock(self->registry_mutex);
            for (auto& s : self->registry) s.cancel_if_idle();
          }
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
