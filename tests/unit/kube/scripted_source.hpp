#pragma once

// Test doubles for the kube layer: a list/watch source that plays a script,
// an apiserver transport that answers from a queue, and a clock that moves
// only when told.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "netpol_guard/kube/reflector.hpp"

namespace netpol_guard::kube::testing {

// A steady clock that moves only when advanced.
struct fake_clock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  void advance(std::chrono::steady_clock::duration d) { now += d; }
  steady_clock_fn fn() {
    return [this] { return now; };
  }
};

// A list/watch source that plays a script; when it is over it calls `on_over`
// (which should stop the reflector) and answers with a transport error.
class scripted_source final : public list_watch_source {
 public:
  struct watch_step {
    unsigned status = 200;
    std::vector<std::string> chunks;
    std::string transport_error;
  };
  std::deque<api_reply> lists;
  std::deque<watch_step> watches;
  std::vector<std::string> list_calls;   // continue tokens asked for
  std::vector<std::string> watch_calls;  // resourceVersions asked for
  std::function<boost::asio::awaitable<void>()> on_over;
  // Runs when the watch step of that index (0-based) starts.
  std::map<std::size_t, std::function<void()>> before_watch;

  boost::asio::awaitable<api_reply> list(std::string continue_token) override {
    list_calls.push_back(continue_token);
    if (lists.empty()) {
      if (on_over) co_await on_over();
      co_return api_reply{0, "", "script over"};
    }
    auto r = lists.front();
    lists.pop_front();
    co_return r;
  }

  boost::asio::awaitable<watch_outcome> watch(
      std::string rv, std::chrono::seconds timeout,
      std::function<bool(std::string_view)> on_bytes) override {
    watch_calls.push_back(rv);
    CHECK(timeout >= std::chrono::seconds(300));
    CHECK(timeout <= std::chrono::seconds(600));
    if (watches.empty()) {
      if (on_over) co_await on_over();
      co_return watch_outcome{0, "script over", ""};
    }
    auto w = watches.front();
    watches.pop_front();
    if (auto hook = before_watch.find(steps_played_++); hook != before_watch.end()) hook->second();
    if (w.status == 200) {
      on_bytes({});
      for (const auto& c : w.chunks) {
        if (!on_bytes(c)) break;
      }
    }
    co_return watch_outcome{w.status, w.transport_error, ""};
  }

 private:
  std::size_t steps_played_ = 0;
};

// Ends a test driving several sources: each source whose script is over waits
// here; when the last one arrives, `stop` runs and every waiter resumes.
class script_end {
 public:
  script_end(std::size_t sources, std::function<void()> stop)
      : sources_(sources), stop_(std::move(stop)) {}

  boost::asio::awaitable<void> arrive() {
    if (++arrived_ >= sources_) {
      stop_();
      for (auto* t : waiting_) t->cancel();
      co_return;
    }
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, std::chrono::hours(24));
    waiting_.push_back(&t);
    co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

  std::function<boost::asio::awaitable<void>()> hook() {
    return [this] { return arrive(); };
  }

 private:
  std::size_t sources_;
  std::size_t arrived_ = 0;
  std::function<void()> stop_;
  std::vector<boost::asio::steady_timer*> waiting_;
};

// An apiserver that answers requests from a queue (then with 503) and records them.
class fake_api final : public api_transport {
 public:
  struct call {
    boost::beast::http::verb verb;
    std::string target;
    std::string body;
  };
  std::deque<api_reply> replies;
  std::vector<call> calls;

  boost::asio::awaitable<api_reply> request(boost::beast::http::verb verb, std::string target,
                                            std::string body, std::chrono::milliseconds) override {
    calls.push_back({verb, target, body});
    if (replies.empty()) co_return api_reply{503, "script over", ""};
    auto r = replies.front();
    replies.pop_front();
    co_return r;
  }

  boost::asio::awaitable<watch_outcome> stream(std::string target, std::chrono::milliseconds,
                                               std::function<bool(std::string_view)>) override {
    calls.push_back({boost::beast::http::verb::get, target, ""});
    co_return watch_outcome{0, "not scripted", ""};
  }
};

}  // namespace netpol_guard::kube::testing
