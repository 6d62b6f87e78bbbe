#pragma once

// When the report writer may write: at most one write per namespace per
// interval (changes in between coalesce into the next write), a global token
// bucket so a resync of many namespaces cannot flood the apiserver, and an
// exponential backoff after 429, 5xx or a transport error. Pure: time comes
// from a steady_clock_fn, so it is tested with a fake clock.

#include <chrono>
#include <string>
#include <string_view>
#include <unordered_map>

#include "netpol_guard/kube/clock.hpp"
#include "netpol_guard/netpol/namespace_snapshot.hpp"

namespace netpol_guard::kube {

struct report_pace {
  std::chrono::milliseconds interval{std::chrono::seconds(10)};  // per namespace
  // The global limit: 10 writes a second sustained, bursts of 20 (a resync
  // after a failover of a cluster whose reports all changed).
  double rate_per_second = 10;
  double burst = 20;
  std::chrono::milliseconds first_backoff{std::chrono::seconds(1)};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(60)};
};

class report_pacer {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  report_pacer(report_pace pace, steady_clock_fn now);

  // The earliest time `ns` may be written: a time in the past if it was never
  // written. Neither this nor write_ready_at reads a time later than the caller's.
  time_point namespace_ready_at(std::string_view ns) const;
  // The earliest time any write may go out: the end of the backoff, or when the
  // bucket holds a token.
  time_point write_ready_at() const;
  // Whether `ns`'s interval has passed, and whether a write may go out now
  // (no backoff, a token in the bucket); both read the clock themselves.
  bool namespace_ready(std::string_view ns) const;
  bool write_ready() const;
  // True, and takes a token, when a write of `ns` may go out now.
  bool try_write(std::string_view ns);

  void succeeded();  // ends the backoff
  // Starts or doubles the backoff; `ns` is retried when it ends, not after its
  // interval (its failed write did not count as one).
  void failed(std::string_view ns);
  std::chrono::milliseconds backoff() const { return backoff_; }

  // Forgets namespaces that are gone, so memory follows the cluster.
  void retain(const namespace_map& known);

 private:
  void refill() const;

  report_pace pace_;
  steady_clock_fn now_;
  std::unordered_map<std::string, time_point, string_hash, std::equal_to<>> written_at_;
  mutable double tokens_;
  mutable time_point refilled_at_;
  std::chrono::milliseconds backoff_{0};
  time_point backoff_until_{};
};

}  // namespace netpol_guard::kube
