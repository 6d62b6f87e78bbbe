#include "tls_client.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "server_process.hpp"

namespace netpol_guard::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

struct tls_client::impl {
  unsigned short port;
  tls_options options;
  net::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> stream;
  beast::flat_buffer buffer;

  // Runs the io_context until `done` or the deadline; cancels on timeout.
  bool run(bool& done, std::chrono::milliseconds timeout) {
    ioc.restart();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      ioc.run_for(std::chrono::milliseconds(10));
      if (ioc.stopped()) ioc.restart();
    }
    if (!done) {
      beast::get_lowest_layer(*stream).cancel();
      ioc.restart();
      ioc.run_for(std::chrono::milliseconds(200));
    }
    return done;
  }
};

tls_client::tls_client(unsigned short port, tls_options options) : impl_(std::make_unique<impl>()) {
  impl_->port = port;
  impl_->options = std::move(options);
  auto& ctx = impl_->ctx;
  if (impl_->options.verify) {
    ctx.load_verify_file(certs().ca);
    ctx.set_verify_mode(ssl::verify_peer);
  } else {
    ctx.set_verify_mode(ssl::verify_none);
  }
  if (impl_->options.max_version)
    SSL_CTX_set_max_proto_version(ctx.native_handle(), impl_->options.max_version);
  if (impl_->options.min_version)
    SSL_CTX_set_min_proto_version(ctx.native_handle(), impl_->options.min_version);
  if (!impl_->options.ciphers.empty()) {
    SSL_CTX_set_cipher_list(ctx.native_handle(), impl_->options.ciphers.c_str());
    SSL_CTX_set_security_level(ctx.native_handle(), 0);
  }
  if (impl_->options.max_version && impl_->options.max_version < TLS1_2_VERSION) {
    SSL_CTX_set_security_level(ctx.native_handle(), 0);
  }
  if (!impl_->options.client_cert.empty()) {
    ctx.use_certificate_chain_file(impl_->options.client_cert);
    ctx.use_private_key_file(impl_->options.client_key, ssl::context::pem);
  }
  impl_->stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(impl_->ioc, ctx);
}

tls_client::~tls_client() = default;

bool tls_client::connect(std::string& error, std::chrono::milliseconds timeout) {
  auto& s = *impl_->stream;
  if (!impl_->options.server_name.empty()) {
    SSL_set_tlsext_host_name(s.native_handle(), impl_->options.server_name.c_str());
    if (impl_->options.verify) {
      s.set_verify_callback(ssl::host_name_verification(impl_->options.server_name));
    }
  }
  bool done = false;
  boost::system::error_code result;
  tcp::endpoint ep(net::ip::make_address("127.0.0.1"), impl_->port);
  beast::get_lowest_layer(s).async_connect(ep, [&](boost::system::error_code ec) {
    if (ec) {
      result = ec;
      done = true;
      return;
    }
    s.async_handshake(ssl::stream_base::client, [&](boost::system::error_code hec) {
      result = hec;
      done = true;
    });
  });
  if (!impl_->run(done, timeout)) {
    error = "timeout";
    return false;
  }
  if (result) {
    error = result.message();
    return false;
  }
  return true;
}

bool tls_client::send(std::string_view bytes, std::chrono::milliseconds timeout) {
  bool done = false;
  boost::system::error_code result;
  net::async_write(*impl_->stream, net::buffer(bytes.data(), bytes.size()),
                   [&](boost::system::error_code ec, std::size_t) {
                     result = ec;
                     done = true;
                   });
  return impl_->run(done, timeout) && !result;
}

std::optional<http_reply> tls_client::read_reply(std::chrono::milliseconds timeout) {
  bool done = false;
  boost::system::error_code result;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::async_read(*impl_->stream, impl_->buffer, parser,
                   [&](boost::system::error_code ec, std::size_t) {
                     result = ec;
                     done = true;
                   });
  if (!impl_->run(done, timeout) || result) return std::nullopt;
  auto& res = parser.get();
  http_reply r;
  r.status = res.result_int();
  r.body = res.body();
  r.content_type = std::string(res[http::field::content_type]);
  r.keep_alive = res.keep_alive();
  return r;
}

bool tls_client::closed_by_server(std::chrono::milliseconds timeout) {
  bool done = false;
  boost::system::error_code result;
  auto buf = std::make_shared<std::array<char, 4096>>();
  std::function<void()> read_more;
  read_more = [&] {
    impl_->stream->async_read_some(net::buffer(*buf),
                                   [&](boost::system::error_code ec, std::size_t) {
                                     if (ec) {
                                       result = ec;
                                       done = true;
                                       return;
                                     }
                                     read_more();
                                   });
  };
  read_more();
  return impl_->run(done, timeout) && result;
}

std::optional<http_reply> tls_client::post(std::string_view body, std::string_view path,
                                           std::string_view content_type) {
  std::string req = "POST " + std::string(path) +
                    " HTTP/1.1\r\nHost: localhost\r\nContent-Type: " + std::string(content_type) +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  req += body;
  if (!send(req)) return std::nullopt;
  return read_reply();
}

std::optional<http_reply> post_once(unsigned short port, std::string_view body,
                                    std::string_view path, std::string_view content_type) {
  tls_client c(port);
  std::string error;
  if (!c.connect(error)) return std::nullopt;
  return c.post(body, path, content_type);
}

std::optional<http_reply> http_get(unsigned short port, std::string_view path) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  boost::system::error_code ec;
  stream.expires_after(std::chrono::seconds(5));
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return std::nullopt;
  // Blocking calls here: bound them with socket timeouts.
  timeval tv{5, 0};
  ::setsockopt(stream.socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(stream.socket().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  http::request<http::empty_body> req{http::verb::get, path, 11};
  req.set(http::field::host, "localhost");
  http::write(stream, req, ec);
  if (ec) return std::nullopt;
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res, ec);
  if (ec) return std::nullopt;
  http_reply r;
  r.status = res.result_int();
  r.body = res.body();
  r.content_type = std::string(res[http::field::content_type]);
  return r;
}

}  // namespace netpol_guard::testing
