#pragma once

// The memory held by request bodies: a budget shared by all connections and a
// reservation per request.

#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <map>
#include <mutex>

#include "netpol_guard/server/server_stats.hpp"

namespace netpol_guard {

// Bytes of request bodies buffered in memory: a total and a share per source
// address, so one client cannot take the whole budget. Thread-safe.
class body_budget {
 public:
  enum class result { reserved, over_total, over_per_source };
  body_budget(std::size_t total, std::size_t per_source) : total_(total), per_source_(per_source) {}
  result reserve(const boost::asio::ip::address& source, std::size_t bytes);
  void release(const boost::asio::ip::address& source, std::size_t bytes);
  std::size_t in_use() const;
  std::size_t in_use(const boost::asio::ip::address& source) const;

 private:
  std::size_t total_, per_source_;
  mutable std::mutex mutex_;
  std::size_t used_ = 0;
  std::map<boost::asio::ip::address, std::size_t> by_source_;
};

// A body reservation for one request, returned when the request ends (after
// the parser that holds the body is gone). Counted in the buffered-bytes gauge.
class body_reservation {
 public:
  body_reservation(body_budget& b, server_stats& m, boost::asio::ip::address source)
      : budget_(b), m_(m), source_(source) {}
  ~body_reservation();
  body_reservation(const body_reservation&) = delete;
  body_reservation& operator=(const body_reservation&) = delete;

  body_budget::result grow(std::size_t more);

 private:
  body_budget& budget_;
  server_stats& m_;
  boost::asio::ip::address source_;
  std::size_t bytes_ = 0;
};

}  // namespace netpol_guard
