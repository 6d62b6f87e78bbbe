#include "netpol_guard/server/body_budget.hpp"

#include <algorithm>
#include <cassert>

namespace netpol_guard {

namespace net = boost::asio;

body_budget::result body_budget::reserve(const net::ip::address& source, std::size_t bytes) {
  std::lock_guard lock(mutex_);
  if (bytes > total_ - std::min(used_, total_)) return result::over_total;
  auto& mine = by_source_[source];
  if (bytes > per_source_ - std::min(mine, per_source_)) {
    if (mine == 0) by_source_.erase(source);
    return result::over_per_source;
  }
  mine += bytes;
  used_ += bytes;
  return result::reserved;
}

void body_budget::release(const net::ip::address& source, std::size_t bytes) {
  std::lock_guard lock(mutex_);
  auto it = by_source_.find(source);
  assert(it != by_source_.end() && it->second >= bytes && used_ >= bytes);
  used_ -= bytes;
  it->second -= bytes;
  if (it->second == 0) by_source_.erase(it);
}

std::size_t body_budget::in_use() const {
  std::lock_guard lock(mutex_);
  return used_;
}

std::size_t body_budget::in_use(const net::ip::address& source) const {
  std::lock_guard lock(mutex_);
  auto it = by_source_.find(source);
  return it == by_source_.end() ? 0 : it->second;
}

body_reservation::~body_reservation() {
  if (bytes_ == 0) return;
  budget_.release(source_, bytes_);
  m_.add_buffered_bytes(-static_cast<std::int64_t>(bytes_));
}

body_budget::result body_reservation::grow(std::size_t more) {
  if (more == 0) return body_budget::result::reserved;
  auto r = budget_.reserve(source_, more);
  if (r == body_budget::result::reserved) {
    bytes_ += more;
    m_.add_buffered_bytes(static_cast<std::int64_t>(more));
  }
  return r;
}

}  // namespace netpol_guard
