// The worker pool: one io_context per thread, handed out in turn.
#include "netpol_guard/server/worker_pool.hpp"

#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <set>
#include <thread>

using namespace netpol_guard;

TEST_CASE("the worker pool hands out its io_contexts round robin", "[server]") {
  worker_pool pool(3);
  CHECK(pool.size() == 3);
  boost::asio::io_context* first[3] = {&pool.next(), &pool.next(), &pool.next()};
  CHECK(std::set<boost::asio::io_context*>(first, first + 3).size() == 3);
  for (auto* c : first) CHECK(&pool.next() == c);
  CHECK(worker_pool(0).size() == 1);
}

TEST_CASE("each io_context of the worker pool runs on one thread of its own", "[server]") {
  worker_pool pool(2);
  pool.start();
  std::set<std::thread::id> ids;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 2; ++i) {
      std::promise<std::thread::id> p;
      auto f = p.get_future();
      boost::asio::post(pool.next(), [&p] { p.set_value(std::this_thread::get_id()); });
      REQUIRE(f.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
      ids.insert(f.get());
    }
  }
  CHECK(ids.size() == 2);
  CHECK(ids.count(std::this_thread::get_id()) == 0);
  pool.stop();
  pool.stop();  // idempotent
  pool.destroy_pending_handlers();
}
