#include "process_memory.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>

namespace netpol_guard::testing {

long proc_status_kb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

void keep_asan_quarantine_small() {
  std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  ::setenv("ASAN_OPTIONS", (asan + (asan.empty() ? "" : ":") + "quarantine_size_mb=8").c_str(), 1);
}

rss_sampler::rss_sampler(pid_t pid) : pid_(pid) {
  poller_ = std::thread([this] {
    while (!stop_) {
      long v = proc_status_kb(pid_, "VmRSS");
      if (v > peak_kb_) peak_kb_ = v;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
}

long rss_sampler::finish() {
  stop_ = true;
  if (poller_.joinable()) poller_.join();
  return peak_kb_;
}

}  // namespace netpol_guard::testing
