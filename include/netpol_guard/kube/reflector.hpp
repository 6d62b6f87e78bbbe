#pragma once

// List, then watch from the list's resourceVersion, in the manner of client-go's
// reflector: paginated lists, bookmarks, relist on 410 Expired, exponential
// backoff with jitter, and a watch that ends at once without events counts as
// a failure. The list/watch source and the sink are injected.

#include "netpol_guard/kube/api_client.hpp"
#include "netpol_guard/kube/watch_stream.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>

namespace netpol_guard::kube {

class list_watch_source {
 public:
  virtual ~list_watch_source() = default;
  // One page of the list (limit and continue handled by the source).
  virtual boost::asio::awaitable<api_reply> list(std::string continue_token) = 0;
  virtual boost::asio::awaitable<watch_outcome> watch(
      std::string resource_version, std::chrono::seconds timeout,
      std::function<bool(std::string_view)> on_bytes) = 0;
};

// The apiserver as a list/watch source for one collection path, e.g.
// /apis/networking.k8s.io/v1/networkpolicies.
class api_list_watch final : public list_watch_source {
 public:
  api_list_watch(api_client& client, std::string path, std::size_t page_size = 500,
                 std::chrono::milliseconds list_timeout = std::chrono::seconds(60))
      : client_(client), path_(std::move(path)), page_size_(page_size), list_timeout_(list_timeout) {}
  boost::asio::awaitable<api_reply> list(std::string continue_token) override;
  boost::asio::awaitable<watch_outcome> watch(std::string resource_version,
                                              std::chrono::seconds timeout,
                                              std::function<bool(std::string_view)> on_bytes) override;

 private:
  api_client& client_;
  std::string path_;
  std::size_t page_size_;
  std::chrono::milliseconds list_timeout_;
};

// Receives what the reflector learns. A full list is replace_begin, replace_add
// per item, replace_end; watch events come through apply, then batch_end.
class reflector_sink {
 public:
  virtual ~reflector_sink() = default;
  virtual void replace_begin() = 0;
  virtual void replace_add(const nlohmann::json& object) = 0;
  virtual void replace_end() = 0;
  virtual void apply(const std::string& type, const nlohmann::json& object) = 0;
  virtual void batch_end() = 0;
};

struct reflector_options {
  std::chrono::milliseconds min_backoff{800};
  std::chrono::milliseconds max_backoff{30'000};
  std::chrono::seconds min_watch_timeout{300};
  std::chrono::seconds max_watch_timeout{600};
  std::size_t max_list_pages = 100'000;  // a bound on a paginated list
};

class reflector {
 public:
  reflector(std::string name, list_watch_source& source, reflector_sink& sink,
            reflector_options options = {});

  // Runs until stop(); never throws for apiserver trouble.
  boost::asio::awaitable<void> run();
  void stop() { stopped_ = true; }

  bool synced() const { return synced_.load(); }
  bool watching() const { return watching_.load(); }
  // Seconds since the state was last known current (0 while watching).
  double state_age_seconds() const;
  std::uint64_t relists() const { return relists_.load(); }
  std::uint64_t failures() const { return failures_.load(); }
  const std::string& last_error() const { return last_error_; }
  void on_relist(std::function<void()> f) { on_relist_ = std::move(f); }

 private:
  enum class watch_end { normal, expired, failed, stopped };
  boost::asio::awaitable<bool> list_all(std::string& resource_version);
  boost::asio::awaitable<watch_end> watch_once(std::string& resource_version, bool& saw_events);
  boost::asio::awaitable<void> sleep(std::chrono::milliseconds d);
  std::chrono::milliseconds next_backoff();
  void fail(std::string error);
  void mark_current();
  void mark_stale();

  std::string name_;
  list_watch_source& source_;
  reflector_sink& sink_;
  reflector_options options_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> synced_{false};
  std::atomic<bool> watching_{false};
  std::atomic<std::int64_t> stale_since_ns_{0};  // steady clock; 0 = current
  std::atomic<std::uint64_t> relists_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::chrono::milliseconds backoff_{0};
  std::mt19937_64 rng_{std::random_device{}()};
  std::string last_error_;
  std::function<void()> on_relist_;
};

}  // namespace netpol_guard::kube
