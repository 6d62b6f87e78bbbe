#pragma once

// Attackers for the exhaustion tests: connections from chosen loopback source
// addresses (127.0.0.2...), so per-source limits see them as other pods, and a
// flood that keeps many of them open and idle.

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "raw_connection.hpp"

namespace netpol_guard::testing {

// Loopback source address number `n`: 127.0.0.n.
std::string source_address(int n);

// A connection from a chosen loopback source address, optionally with TLS
// (the server's certificate not checked: an attacker does not care).
bool connect_from(raw_connection& c, const std::string& source, unsigned short port, bool tls);

// Keeps `per_source` idle connections open from each of `sources` source
// addresses, reopening the ones the server closes, until stopped. `settled`
// counts the ones open for at least settle_time: a refused connection is
// closed long before that.
struct connection_flood {
  static constexpr auto settle_time = std::chrono::milliseconds(300);
  std::atomic<bool> stop{false};
  std::atomic<int> open{0};
  std::atomic<long> opened{0}, lost{0};
  std::vector<std::atomic<int>> settled_by_source;
  std::vector<std::thread> threads;

  connection_flood(unsigned short port, int sources, int per_source, bool tls);
  connection_flood(const connection_flood&) = delete;
  connection_flood& operator=(const connection_flood&) = delete;
  ~connection_flood() { finish(); }

  int settled() const;
  void finish();
};

}  // namespace netpol_guard::testing
