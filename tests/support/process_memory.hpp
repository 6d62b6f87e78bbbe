#pragma once

// How much memory a process of the test holds, read from /proc rather than
// limited with `ulimit -v`, so the measures stay valid under ASan.

#include <sys/types.h>

#include <atomic>
#include <string>
#include <thread>

namespace netpol_guard::testing {

// A kB field of /proc/PID/status ("VmRSS", "VmHWM"); -1 when it cannot be read.
long proc_status_kb(pid_t pid, const std::string& field);

// Under ASan, freed memory sits in a quarantine of up to 256 MB, which would
// read as growth; keeping it small in the environment the server inherits lets
// RSS measure what the server holds.
void keep_asan_quarantine_small();

// Polls VmRSS while it lives, keeping the peak (VmHWM also counts startup).
class rss_sampler {
 public:
  explicit rss_sampler(pid_t pid);
  ~rss_sampler() { finish(); }
  rss_sampler(const rss_sampler&) = delete;
  rss_sampler& operator=(const rss_sampler&) = delete;

  // Stops polling; returns the peak VmRSS seen, in kB.
  long finish();

 private:
  pid_t pid_;
  std::atomic<bool> stop_{false};
  std::atomic<long> peak_kb_{0};
  std::thread poller_;
};

}  // namespace netpol_guard::testing
