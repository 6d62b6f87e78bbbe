#include "raw_connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <csignal>

#include "server_process.hpp"

namespace netpol_guard::testing {

namespace http = boost::beast::http;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

bool raw_connection::connect(unsigned short port, const options& o, std::string& error) {
  std::signal(SIGPIPE, SIG_IGN);  // SSL_write to a connection the server closed
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) {
    error = "socket failed";
    return false;
  }
  timeval tv{static_cast<time_t>(o.io_timeout.count()), 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!o.source.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, o.source.c_str(), &local.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      error = "cannot bind " + o.source;
      return false;
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = "connect failed";
    return false;
  }
  if (!o.tls) return true;

  ctx_ = SSL_CTX_new(TLS_client_method());
  if (o.verify) {
    SSL_CTX_load_verify_locations(ctx_, certs().ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  }
  if (o.min_version || o.max_version) SSL_CTX_set_security_level(ctx_, 0);
  if (o.min_version) SSL_CTX_set_min_proto_version(ctx_, o.min_version);
  if (o.max_version) SSL_CTX_set_max_proto_version(ctx_, o.max_version);
  if (!o.ciphers.empty() && SSL_CTX_set_cipher_list(ctx_, o.ciphers.c_str()) != 1) {
    error = "this OpenSSL cannot offer " + o.ciphers;
    ERR_clear_error();
    return false;
  }
  ssl_ = SSL_new(ctx_);
  SSL_set_tlsext_host_name(ssl_, "localhost");
  if (o.verify) SSL_set1_host(ssl_, "localhost");
  SSL_set_fd(ssl_, fd_);
  if (SSL_connect(ssl_) != 1) {
    char buf[256] = "handshake failed";
    if (auto e = ERR_get_error()) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    error = buf;
    return false;
  }
  return true;
}

bool raw_connection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto chunk = std::min<std::size_t>(bytes.size(), 16384);
    long n = ssl_ ? SSL_write(ssl_, bytes.data(), static_cast<int>(chunk))
                  : ::send(fd_, bytes.data(), chunk, MSG_NOSIGNAL);
    if (n <= 0) {
      ERR_clear_error();
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

read_status raw_connection::read_some(milliseconds timeout) {
  if (!ssl_ || SSL_pending(ssl_) == 0) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r == 0) return read_status::timeout;
    if (r < 0) return read_status::closed;
  }
  char buf[16384];
  long n = ssl_ ? SSL_read(ssl_, buf, sizeof buf) : ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    if (ssl_ && SSL_get_error(ssl_, static_cast<int>(n)) == SSL_ERROR_WANT_READ) {
      return read_status::data;  // a record without application data (a ticket)
    }
    ERR_clear_error();
    return read_status::closed;
  }
  received_.append(buf, static_cast<std::size_t>(n));
  return read_status::data;
}

std::optional<raw_reply> raw_connection::read_reply(milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  boost::beast::error_code ec;
  for (;;) {
    if (!received_.empty()) {
      auto n = parser.put(boost::asio::buffer(received_.data(), received_.size()), ec);
      received_.erase(0, n);
      if (ec == http::error::need_more) {
        ec = {};
      } else if (ec) {
        return std::nullopt;
      }
      if (parser.is_done()) break;
      if (n > 0) continue;
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0) return std::nullopt;
    if (read_some(left) != read_status::data) return std::nullopt;
  }
  raw_reply r;
  const auto& res = parser.get();
  r.status = res.result_int();
  r.body = res.body();
  r.content_type = std::string(res[http::field::content_type]);
  r.keep_alive = res.keep_alive();
  return r;
}

std::string raw_connection::read_head(milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  const auto from = received_.size();
  while (received_.find("\r\n\r\n", from) == std::string::npos) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0 || read_some(left) == read_status::closed) break;
  }
  return received_.substr(from);
}

bool raw_connection::closed_within(milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0) return false;
    if (read_some(left) == read_status::closed) return true;
  }
}

bool raw_connection::closed_now() {
  if (fd_ < 0) return true;
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
  char buf[4096];
  return ::recv(fd_, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT) == 0;
}

void raw_connection::drop(bool reset) {
  if (reset && fd_ >= 0) {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  close();
}

void raw_connection::close() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  ssl_ = nullptr;
  ctx_ = nullptr;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace netpol_guard::testing
