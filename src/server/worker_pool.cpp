#include "netpol_guard/server/worker_pool.hpp"

namespace netpol_guard {

worker_pool::worker_pool(std::size_t threads) {
  if (threads == 0) threads = 1;
  contexts_.reserve(threads);
  guards_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    contexts_.push_back(std::make_unique<context>());
    guards_.emplace_back(contexts_.back()->get_executor());
  }
}

worker_pool::~worker_pool() { stop(); }

void worker_pool::start() {
  threads_.reserve(contexts_.size());
  for (auto& c : contexts_) {
    threads_.emplace_back([ctx = c.get()] { ctx->run(); });
  }
}

boost::asio::io_context& worker_pool::next() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void worker_pool::stop() {
  for (auto& g : guards_) g.reset();
  for (auto& c : contexts_) c->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void worker_pool::destroy_pending_handlers() {
  for (auto& c : contexts_) c->destroy_pending();
}

}  // namespace netpol_guard
