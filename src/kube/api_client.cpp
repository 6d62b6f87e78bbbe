#include "netpol_guard/kube/api_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <stdexcept>

namespace netpol_guard::kube {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr auto connect_timeout = std::chrono::seconds(5);

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

std::shared_ptr<ssl::context> make_client_context(const cluster_config& c) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  if (c.ca_pem.empty()) {
    ctx->set_default_verify_paths(ec);
  } else {
    ctx->add_certificate_authority(net::buffer(c.ca_pem), ec);
    // A bundle may hold several certificates; add_certificate_authority reads them all.
  }
  if (ec) throw std::runtime_error("invalid apiserver CA (" + c.source + "): " + ec.message());
  ctx->set_verify_mode(ssl::verify_peer);
  if (!c.client_cert_pem.empty()) {
    ctx->use_certificate_chain(net::buffer(c.client_cert_pem), ec);
    if (!ec) ctx->use_private_key(net::buffer(c.client_key_pem), ssl::context::pem, ec);
    if (ec)
      throw std::runtime_error("invalid client certificate (" + c.source + "): " + ec.message());
  }
  return ctx;
}

// Verifies the apiserver's name: an IP SAN for an address, a DNS SAN otherwise.
bool set_peer_name(SSL* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  boost::system::error_code ec;
  net::ip::make_address(host, ec);
  if (!ec) return X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  SSL_set_tlsext_host_name(ssl, host.c_str());
  return X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1;
}

net::awaitable<std::string> open(tls_stream& stream, const cluster_config& c,
                                 std::chrono::steady_clock::time_point deadline) {
  auto ex = co_await net::this_coro::executor;
  tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolver.async_resolve(c.host, c.port, use_tuple);
  if (rec) co_return "cannot resolve " + c.host + ": " + rec.message();
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_at(std::min(deadline, std::chrono::steady_clock::now() + connect_timeout));
  auto [cec, ep] = co_await tcp_layer.async_connect(results, use_tuple);
  (void)ep;
  if (cec) co_return "cannot connect to " + c.server + ": " + cec.message();
  if (!set_peer_name(stream.native_handle(), c.host)) co_return "cannot set TLS peer name";
  tcp_layer.expires_at(deadline);
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
  if (hec) co_return "TLS handshake with " + c.server + " failed: " + hec.message();
  co_return "";
}

http::request<http::string_body> make_request(http::verb verb, const std::string& target,
                                              std::string body, const cluster_config& c,
                                              const std::string& token) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, c.host.find(':') != std::string::npos ? "[" + c.host + "]" : c.host);
  req.set(http::field::user_agent, "netpol-guard");
  req.set(http::field::accept, "application/json");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (!body.empty()) {
    // PATCH is only sent as server-side apply (remediate); its body is the
    // whole object, which apply-patch+yaml accepts as JSON.
    req.set(http::field::content_type,
            verb == http::verb::patch ? "application/apply-patch+yaml" : "application/json");
    req.body() = std::move(body);
  }
  req.prepare_payload();
  return req;
}

}  // namespace

api_client::api_client(cluster_config config)
    : config_(std::move(config)),
      tls_(make_client_context(config_)),
      tokens_(config_.token, config_.token_file) {}

net::awaitable<api_reply> api_client::request(http::verb verb, std::string target, std::string body,
                                              std::chrono::milliseconds timeout) {
  auto ex = co_await net::this_coro::executor;
  tls_stream stream(ex, *tls_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  api_reply reply;
  reply.error = co_await open(stream, config_, deadline);
  if (!reply.error.empty()) co_return reply;
  auto req = make_request(verb, target, std::move(body), config_, tokens_.token());
  auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
  (void)wn;
  if (wec) {
    reply.error = "write to apiserver failed: " + wec.message();
    co_return reply;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_response_bytes);
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, use_tuple);
  (void)rn;
  if (rec) {
    reply.error = "read from apiserver failed: " + rec.message();
    co_return reply;
  }
  reply.status = parser.get().result_int();
  reply.body = std::move(parser.get().body());
  if (reply.status == 401) tokens_.invalidate();
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
  co_await stream.async_shutdown(use_tuple);
  co_return reply;
}

net::awaitable<watch_outcome> api_client::stream(std::string target,
                                                 std::chrono::milliseconds idle_timeout,
                                                 std::function<bool(std::string_view)> on_bytes) {
  auto ex = co_await net::this_coro::executor;
  tls_stream stream(ex, *tls_);
  watch_outcome out;
  out.error = co_await open(stream, config_, std::chrono::steady_clock::now() + idle_timeout);
  if (!out.error.empty()) co_return out;
  auto req = make_request(http::verb::get, target, {}, config_, tokens_.token());
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_after(idle_timeout);
  auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
  (void)wn;
  if (wec) {
    out.error = "write to apiserver failed: " + wec.message();
    co_return out;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);  // a watch runs for minutes; each event is bounded by its parser
  auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
  (void)hn;
  if (hec) {
    out.error = "watch: reading the response header failed: " + hec.message();
    co_return out;
  }
  out.status = parser.get().result_int();
  if (out.status == 401) tokens_.invalidate();
  // Tell the caller the stream is up before the first event arrives.
  if (out.status == 200 && !on_bytes(std::string_view())) co_return out;
  std::array<char, 64 * 1024> chunk;
  std::string error_body;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    tcp_layer.expires_after(idle_timeout);
    // read_some returns as soon as some body arrived: events are delivered as
    // they come, not when the buffer fills.
    auto [rec, rn] = co_await http::async_read_some(stream, buffer, parser, use_tuple);
    (void)rn;
    if (rec && rec != http::error::need_buffer) {
      if (rec != http::error::end_of_stream && rec != net::error::eof &&
          rec != ssl::error::stream_truncated) {
        out.error = "watch: " + rec.message();
      }
      break;
    }
    std::size_t got = chunk.size() - parser.get().body().size;
    if (got == 0) continue;
    std::string_view bytes(chunk.data(), got);
    if (out.status != 200) {
      if (error_body.size() < 64 * 1024) error_body.append(bytes);
      continue;
    }
    if (!on_bytes(bytes)) break;
  }
  out.body = std::move(error_body);
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().close(ignored);
  co_return out;
}

}  // namespace netpol_guard::kube
