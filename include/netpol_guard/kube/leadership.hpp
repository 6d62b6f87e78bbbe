#pragma once

// Who may write: the leader elector sets it, the report writer and the drift
// Events read it before every write. Admission never looks at it.

#include <atomic>
#include <cstdint>

namespace netpol_guard::kube {

class leadership {
 public:
  // A replica that leads alone (--leader-elect=false) starts leading, term 1.
  static leadership alone() {
    leadership l;
    l.acquired();
    return l;
  }
  leadership() = default;
  leadership(const leadership& o) : leading_(o.leading_.load()), term_(o.term_.load()) {}

  bool leading() const { return leading_.load(std::memory_order_acquire); }
  // Incremented each time leadership is gained: a writer that sees a new term
  // resynchronises from the cluster (another replica may have written meanwhile).
  std::uint64_t term() const { return term_.load(std::memory_order_acquire); }

  void acquired() {
    term_.fetch_add(1, std::memory_order_acq_rel);
    leading_.store(true, std::memory_order_release);
  }
  void lost() { leading_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> leading_{false};
  std::atomic<std::uint64_t> term_{0};
};

}  // namespace netpol_guard::kube
