#pragma once

// A small TLS client for integration tests: well-formed HTTP requests and raw
// bytes (for hostile framing), with a deadline on every operation.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace netpol_guard::testing {

struct http_reply {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  bool keep_alive = false;
};

struct tls_options {
  bool verify = true;  // against the dev CA
  std::string server_name = "localhost";
  int max_version = 0;  // e.g. TLS1_1_VERSION to offer only old versions
  int min_version = 0;
  std::string ciphers;  // TLS 1.2 cipher list to offer
  std::string client_cert, client_key;
};

class tls_client {
 public:
  explicit tls_client(unsigned short port, tls_options options = {});
  ~tls_client();

  // TCP connect and TLS handshake; false with `error` set on failure.
  bool connect(std::string& error, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool send(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  std::optional<http_reply> read_reply(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True when the server closes the connection within `timeout`.
  bool closed_by_server(std::chrono::milliseconds timeout);
  // A POST of `body` on this connection, keep-alive.
  std::optional<http_reply> post(std::string_view body, std::string_view path = "/validate",
                                 std::string_view content_type = "application/json");

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// One request on a new connection.
std::optional<http_reply> post_once(unsigned short port, std::string_view body,
                                    std::string_view path = "/validate",
                                    std::string_view content_type = "application/json");
// A plain HTTP GET to the health listener.
std::optional<http_reply> http_get(unsigned short port, std::string_view path);

}  // namespace netpol_guard::testing
