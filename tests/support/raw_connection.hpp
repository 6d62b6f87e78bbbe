#pragma once

// A blocking client on a plain socket, with or without OpenSSL on top, for
// tests that control every byte: hostile framing, the pace of sending, how the
// connection ends (FIN or RST), and floods from chosen source addresses. Every
// blocking call is bounded by socket timeouts and poll().

#include <openssl/ssl.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace netpol_guard::testing {

struct raw_reply {
  unsigned status = 0;
  std::string body, content_type;
  bool keep_alive = false;
};

enum class read_status { data, closed, timeout };

class raw_connection {
 public:
  struct options {
    bool tls = true;
    bool verify = true;  // the server's certificate against the dev CA, for "localhost"
    std::string source;  // local address to connect from (127.0.0.2...); empty: any
    int min_version = 0, max_version = 0;
    std::string ciphers;                 // TLS 1.2 cipher list to offer
    std::chrono::seconds io_timeout{5};  // a bound on any single blocking call
  };

  raw_connection() = default;
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;
  ~raw_connection() { close(); }

  // TCP connect to 127.0.0.1:port, then the TLS handshake when o.tls; false
  // with `error` set on failure.
  bool connect(unsigned short port, const options& o, std::string& error);
  std::string negotiated_cipher() const { return ssl_ ? SSL_get_cipher_name(ssl_) : ""; }

  bool send(std::string_view bytes);
  // Reads what is available within `timeout` into received().
  read_status read_some(std::chrono::milliseconds timeout);
  // One HTTP response, parsed from received() and what arrives within `timeout`.
  std::optional<raw_reply> read_reply(std::chrono::milliseconds timeout);
  // What arrives within `timeout` up to the end of a response header, as text.
  std::string read_head(std::chrono::milliseconds timeout);
  // Waits for the server to close; anything it sends first is kept in received().
  bool closed_within(std::chrono::milliseconds timeout);
  // True when the server has closed (or reset) the connection by now; reads nothing.
  bool closed_now();
  const std::string& received() const { return received_; }

  // Ends the connection without TLS close_notify: FIN, or RST when `reset`.
  void drop(bool reset);
  void close();

 private:
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string received_;
};

}  // namespace netpol_guard::testing
