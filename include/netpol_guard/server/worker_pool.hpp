#pragma once

// The admission connections' threads: N io_contexts, each run by one thread of
// its own (concurrency hint 1), so a session's handlers never need a strand:
// its io_context is its serialization. The webhook acceptor hands each new
// connection to next() in turn.
//
// The control plane (both acceptors, the health listener, the certificate
// reload, the drain, the cluster watch, leader election and reports) stays on
// serve's main io_context, run by the main thread; a session reaches it only
// through thread-safe calls (the connection table, the body budget, stats, the
// drain's post).

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace netpol_guard {

class worker_pool {
 public:
  // `threads` io_contexts (at least one); no thread runs until start().
  explicit worker_pool(std::size_t threads);
  ~worker_pool();
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  void start();
  // Round robin over the io_contexts. Thread-safe.
  boost::asio::io_context& next();
  std::size_t size() const { return contexts_.size(); }
  // Stops every io_context and joins the threads. Idempotent.
  void stop();
  // After stop(): destroys the handlers still pending (suspended sessions and
  // their coroutine frames), while what they refer to still exists.
  void destroy_pending_handlers();

 private:
  struct context : boost::asio::io_context {
    context() : boost::asio::io_context(1) {}
    void destroy_pending() { shutdown(); }
  };
  using guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<context>> contexts_;
  std::vector<guard> guards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace netpol_guard
