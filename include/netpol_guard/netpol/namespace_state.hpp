#pragma once

// Where decisions get namespace state from. The request path only ever calls
// snapshot(): an atomic load of an immutable snapshot, no lock.

#include <atomic>
#include <chrono>
#include <memory>
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

// An atomically swapped snapshot pointer; the building block of every source.
class snapshot_cell {
 public:
  snapshot_cell() : current_(std::make_shared<const namespace_snapshot>()) {}
  std::shared_ptr<const namespace_snapshot> load() const {
    return current_.load(std::memory_order_acquire);
  }
  void publish(std::shared_ptr<const namespace_snapshot> s) {
    current_.store(std::move(s), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const namespace_snapshot>> current_;
};

}  // namespace netpol_guard
