#pragma once

// Where decisions get namespace state from. The request path only ever calls
// snapshot(): a copy of the pointer to an immutable snapshot, taken under a
// lock held for that copy alone.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "netpol_guard/netpol/namespace_snapshot.hpp"

namespace netpol_guard {

struct state_readiness {
  bool ready = false;
  std::string reason;      // why not ready, for /readyz
  double age_seconds = 0;  // how long since the state was known current
};

class namespace_state {
 public:
  virtual ~namespace_state() = default;
  // Never null: an empty snapshot before the first load.
  virtual std::shared_ptr<const namespace_snapshot> snapshot() const = 0;
  virtual state_readiness readiness() const = 0;
};

// A swapped snapshot pointer; the building block of every source.
// Not std::atomic<std::shared_ptr>: libstdc++ 12 releases its internal lock
// in load() with memory_order_relaxed (bits/shared_ptr_atomic.h), so a
// reader's read of the pointer is not ordered before the next publish()'s
// write, a data race TSan reports once readers and the publisher are on
// different threads. The mutex is held for a pointer copy and a swap.
class snapshot_cell {
 public:
  snapshot_cell() : current_(std::make_shared<const namespace_snapshot>()) {}
  std::shared_ptr<const namespace_snapshot> load() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void publish(std::shared_ptr<const namespace_snapshot> s) {
    {
      std::lock_guard lock(mutex_);
      current_.swap(s);
    }
    // The previous snapshot, if this was its last owner, is freed here,
    // outside the lock.
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const namespace_snapshot> current_;
};

}  // namespace netpol_guard
