#pragma once

// An apiserver that holds one Lease as the real one does for the leader
// elector: GET it (404 when absent), POST creates it (409 when it exists), PUT
// replaces it when the resourceVersion matches (409 when not), each write a new
// resourceVersion. Several electors may share it, on several threads.

#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "netpol_guard/kube/api_client.hpp"

namespace netpol_guard::kube::testing {

class lease_server final : public api_transport {
 public:
  // Every request answers 503 while down.
  void set_down(bool down) {
    std::lock_guard lock(mutex_);
    down_ = down;
  }
  std::optional<nlohmann::json> lease() const {
    std::lock_guard lock(mutex_);
    return lease_;
  }
  int writes() const {
    std::lock_guard lock(mutex_);
    return version_;
  }

  boost::asio::awaitable<api_reply> request(boost::beast::http::verb method, std::string,
                                            std::string body, std::chrono::milliseconds) override {
    co_return answer(method, body);
  }

  boost::asio::awaitable<watch_outcome> stream(std::string, std::chrono::milliseconds,
                                               std::function<bool(std::string_view)>) override {
    co_return watch_outcome{0, "not served", ""};
  }

 private:
  api_reply answer(boost::beast::http::verb method, const std::string& body) {
    using boost::beast::http::verb;
    std::lock_guard lock(mutex_);
    if (down_) return {503, "down", ""};
    if (method == verb::get)
      return lease_ ? api_reply{200, lease_->dump(), ""} : api_reply{404, "", ""};
    auto doc = nlohmann::json::parse(body);
    if (method == verb::post) {
      if (lease_) return {409, "AlreadyExists", ""};
      return store(std::move(doc), 201);
    }
    if (!lease_) return {404, "", ""};
    if (doc["metadata"]["resourceVersion"] != lease_->at("metadata").at("resourceVersion")) {
      return {409, "Conflict", ""};
    }
    return store(std::move(doc), 200);
  }

  api_reply store(nlohmann::json doc, unsigned status) {
    doc["metadata"]["resourceVersion"] = std::to_string(++version_);
    lease_ = std::move(doc);
    return {status, lease_->dump(), ""};
  }

  mutable std::mutex mutex_;
  bool down_ = false;
  std::optional<nlohmann::json> lease_;
  int version_ = 0;
};

}  // namespace netpol_guard::kube::testing
