#pragma once

// A minimal Kubernetes API client over Beast + OpenSSL: one-shot requests and
// streaming watches, each with deadlines and size limits, TLS always verified.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "netpol_guard/kube/config.hpp"

namespace netpol_guard::kube {

struct api_reply {
  unsigned status = 0;  // 0: no answer (see error)
  std::string body;
  std::string error;  // transport error, when status is 0
};

struct watch_outcome {
  unsigned status = 0;  // HTTP status of the watch request (0: transport error)
  std::string error;
  std::string body;  // the error body, for a non-200 status
};

// The apiserver as the code above the transport sees it, so list/watch,
// provisioning and the confirm read can be driven by a test double.
class api_transport {
 public:
  virtual ~api_transport() = default;
  // One request; the whole exchange within `timeout`.
  virtual boost::asio::awaitable<api_reply> request(boost::beast::http::verb verb,
                                                    std::string target, std::string body,
                                                    std::chrono::milliseconds timeout) = 0;
  // A streaming GET: `on_bytes` gets the decoded body as it arrives and returns
  // false to stop. Each read must arrive within `idle_timeout`.
  virtual boost::asio::awaitable<watch_outcome> stream(
      std::string target, std::chrono::milliseconds idle_timeout,
      std::function<bool(std::string_view)> on_bytes) = 0;
};

class api_client final : public api_transport {
 public:
  static constexpr std::size_t max_response_bytes = 64 * 1024 * 1024;

  // Throws std::runtime_error with one clear line when the TLS material is bad.
  explicit api_client(cluster_config config);

  // On a new connection. A 401 invalidates the cached token, so the next
  // request re-reads it.
  boost::asio::awaitable<api_reply> request(boost::beast::http::verb verb, std::string target,
                                            std::string body,
                                            std::chrono::milliseconds timeout) override;

  boost::asio::awaitable<watch_outcome> stream(
      std::string target, std::chrono::milliseconds idle_timeout,
      std::function<bool(std::string_view)> on_bytes) override;

  const cluster_config& config() const { return config_; }

 private:
  cluster_config config_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  token_source tokens_;
};

}  // namespace netpol_guard::kube
