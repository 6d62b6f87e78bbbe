#pragma once

// List, then watch from the list's resourceVersion, in the manner of client-go's
// reflector: paginated lists, bookmarks, relist on 410 Expired, exponential
// backoff with jitter, and a watch that ends at once without events counts as
// a failure. The list/watch source and the sink are injected.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <climits>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "netpol_guard/kube/api_client.hpp"
#include "netpol_guard/kube/clock.hpp"
#include "netpol_guard/kube/kube_stats.hpp"
#include "netpol_guard/kube/watch_stream.hpp"

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
  api_list_watch(api_transport& client, std::string path, std::size_t page_size = 500,
                 std::chrono::milliseconds list_timeout = std::chrono::seconds(60))
      : client_(client),
        path_(std::move(path)),
        page_size_(page_size),
        list_timeout_(list_timeout) {}
  boost::asio::awaitable<api_reply> list(std::string continue_token) override;
  boost::asio::awaitable<watch_outcome> watch(
      std::string resource_version, std::chrono::seconds timeout,
      std::function<bool(std::string_view)> on_bytes) override;

 private:
  api_transport& client_;
  std::string path_;
  std::size_t page_size_;
  std::chrono::milliseconds list_timeout_;
};

// How one full list ended.
struct list_outcome {
  enum class result { complete, failed, malformed, too_many_pages, stopped };
  result how = result::failed;
  api_reply reply;               // the refused page, when failed
  std::string resource_version;  // of a complete list
};

// Pages through a collection, the one paging implementation (the reflector and
// `audit` both list through it). `begin` runs before the first item of each
// attempt: a continue token that expired (410) lists again from the start.
boost::asio::awaitable<list_outcome> list_pages(
    list_watch_source& source, const std::string& name, std::size_t max_pages,
    const std::function<bool()>& stopped, const std::function<void()>& begin,
    const std::function<void(const nlohmann::json&)>& item);

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
  std::size_t max_list_pages = 100'000;       // a bound on a paginated list
  steady_clock_fn now = real_steady_clock();  // state age, quick-empty watches
};

class reflector {
 public:
  // Relists and failed lists/watches are counted in `m` (relists_total,
  // errors_total{reason="watch_failed"}).
  reflector(std::string name, list_watch_source& source, reflector_sink& sink, kube_stats& m,
            reflector_options options = {});

  // Runs until stop(); never throws for apiserver trouble.
  boost::asio::awaitable<void> run();
  void stop() { stopped_ = true; }

  bool synced() const { return synced_.load(); }
  // Seconds since the state was last known current (0 while watching).
  double state_age_seconds() const;
  std::uint64_t relists() const { return relists_.load(); }
  const std::string& last_error() const { return last_error_; }

 private:
  enum class watch_end { normal, expired, failed, stopped };
  boost::asio::awaitable<bool> list_all(std::string& resource_version);
  boost::asio::awaitable<watch_end> watch_once(std::string& resource_version, bool& saw_events);
  boost::asio::awaitable<void> sleep(std::chrono::milliseconds d);
  std::chrono::milliseconds next_backoff();
  void fail(std::string error);
  void mark_current();
  void mark_stale();
  std::int64_t now_ns() const;

  std::string name_;
  list_watch_source& source_;
  reflector_sink& sink_;
  kube_stats& stats_;
  reflector_options options_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> synced_{false};
  static constexpr std::int64_t current = INT64_MIN;
  std::atomic<std::int64_t> stale_since_ns_{current};  // options_.now, in ns
  std::atomic<std::uint64_t> relists_{0};
  std::chrono::milliseconds backoff_{0};
  std::mt19937_64 rng_{std::random_device{}()};
  std::string last_error_;
};

}  // namespace netpol_guard::kube
