#include "netpol_guard/server/connection_table.hpp"

#include <chrono>

namespace netpol_guard {

namespace net = boost::asio;

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

net::ip::address source_of(const net::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
  }
  return a;
}

void connection_table::entry::set_phase(connection_phase p) {
  since_ns.store(now_ns(), std::memory_order_relaxed);
  phase.store(static_cast<int>(p), std::memory_order_relaxed);
}

connection_table::admission connection_table::admit(const std::shared_ptr<entry>& e) {
  std::shared_ptr<entry> victim;
  admission result = admission::admitted;
  {
    std::lock_guard lock(mutex_);
    // A share as large as the whole table is no share: then a source that
    // holds every slot still gets eviction, like any other client.
    auto it = by_source_.find(e->source);
    if (max_per_source_ < max_total_ && it != by_source_.end() && it->second >= max_per_source_) {
      return admission::refused_per_source;
    }
    if (entries_.size() >= max_total_) {
      victim = choose_victim_locked();
      if (!victim) return admission::refused_full;
      unlist_locked(*victim);
      result = admission::admitted_after_eviction;
    }
    e->since_ns = now_ns();
    e->listed = true;
    entries_.push_back(e);
    ++by_source_[e->source];
  }
  if (victim && victim->close) victim->close(false);
  return result;
}

std::shared_ptr<connection_table::entry> connection_table::choose_victim_locked() const {
  // Lower is evicted first: never served, then idle, then a request arriving.
  auto rank = [](const entry& e) {
    const auto p = static_cast<connection_phase>(e.phase.load(std::memory_order_relaxed));
    if (!e.served.load(std::memory_order_relaxed)) return 0;
    return p == connection_phase::waiting ? 1 : 2;
  };
  std::shared_ptr<entry> best;
  int best_rank = 0;
  std::size_t best_count = 0;
  std::int64_t best_since = 0;
  for (const auto& e : entries_) {
    if (static_cast<connection_phase>(e->phase.load(std::memory_order_relaxed)) ==
        connection_phase::busy) {
      continue;  // answering a request: let it finish
    }
    const int r = rank(*e);
    const std::size_t n = by_source_.at(e->source);
    const std::int64_t since = e->since_ns.load(std::memory_order_relaxed);
    if (!best || r < best_rank || (r == best_rank && n > best_count) ||
        (r == best_rank && n == best_count && since < best_since)) {
      best = e;
      best_rank = r;
      best_count = n;
      best_since = since;
    }
  }
  return best;
}

void connection_table::unlist_locked(entry& e) {
  if (!e.listed) return;
  e.listed = false;
  entries_.remove_if([&](const std::shared_ptr<entry>& p) { return p.get() == &e; });
  auto it = by_source_.find(e.source);
  if (it != by_source_.end() && --it->second == 0) by_source_.erase(it);
}

void connection_table::remove(const std::shared_ptr<entry>& e) {
  std::lock_guard lock(mutex_);
  unlist_locked(*e);
}

std::size_t connection_table::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t connection_table::count(const net::ip::address& source) const {
  std::lock_guard lock(mutex_);
  auto it = by_source_.find(source);
  return it == by_source_.end() ? 0 : it->second;
}

void connection_table::for_each(const std::function<void(entry&)>& f) {
  std::lock_guard lock(mutex_);
  for (auto& e : entries_) f(*e);
}

}  // namespace netpol_guard
