#pragma once

// A listener's open connections and the choice of which one a new client
// displaces when the listener is full.

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>

namespace netpol_guard {

// What a connection is doing, for choosing which one to close when full.
enum class connection_phase : int { handshake, waiting, reading, busy };

// A listener's open connections, with per-source counts. When full, a new
// client gets a slot by evicting a connection that is not answering a request:
// first one that never completed a request, then an idle keep-alive one, then
// one whose request is still arriving; within that, one of the source holding
// the most connections; then the one longest in its phase. Thread-safe.
class connection_table {
 public:
  struct entry {
    boost::asio::ip::address source;
    // Closes the connection on its own strand: at once unless it is answering a
    // request (then after the answer), or, with `only_if_idle`, only while it
    // waits for a request. Must not block: it may run under the table's lock.
    std::function<void(bool only_if_idle)> close;
    std::atomic<int> phase{static_cast<int>(connection_phase::handshake)};
    std::atomic<bool> served{false};
    std::atomic<std::int64_t> since_ns{0};  // steady_clock, when the phase began
    bool listed = false;                    // guarded by the table's mutex
    void set_phase(connection_phase p);
  };
  enum class admission { admitted, admitted_after_eviction, refused_per_source, refused_full };

  connection_table(std::size_t max_total, std::size_t max_per_source)
      : max_total_(max_total), max_per_source_(std::min(max_per_source, max_total)) {}
  // Lists `e` unless refused; an evicted victim is unlisted and its `close` has run.
  admission admit(const std::shared_ptr<entry>& e);
  void remove(const std::shared_ptr<entry>& e);
  std::size_t size() const;
  std::size_t count(const boost::asio::ip::address& source) const;
  // Runs f on every listed entry, under the lock.
  void for_each(const std::function<void(entry&)>& f);

 private:
  std::shared_ptr<entry> choose_victim_locked() const;
  void unlist_locked(entry& e);
  std::size_t max_total_, max_per_source_;
  mutable std::mutex mutex_;
  std::list<std::shared_ptr<entry>> entries_;
  std::map<boost::asio::ip::address, std::size_t> by_source_;
};

// The source address a limit is kept for: IPv4-mapped IPv6 counts as IPv4.
boost::asio::ip::address source_of(const boost::asio::ip::address& a);

}  // namespace netpol_guard
