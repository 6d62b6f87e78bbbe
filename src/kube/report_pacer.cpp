#include "netpol_guard/kube/report_pacer.hpp"

#include <algorithm>

namespace netpol_guard::kube {

report_pacer::report_pacer(report_pace pace, steady_clock_fn now)
    : pace_(pace), now_(std::move(now)), tokens_(pace.burst) {
  if (!now_) now_ = real_steady_clock();
  refilled_at_ = now_();
}

void report_pacer::refill() const {
  const auto t = now_();
  const std::chrono::duration<double> elapsed = t - refilled_at_;
  tokens_ = std::min(pace_.burst, tokens_ + elapsed.count() * pace_.rate_per_second);
  refilled_at_ = t;
}

report_pacer::time_point report_pacer::namespace_ready_at(std::string_view ns) const {
  // Never a time read after the caller's own "now": a caller compares the two.
  auto it = written_at_.find(ns);
  return it == written_at_.end() ? time_point{} : it->second + pace_.interval;
}

report_pacer::time_point report_pacer::write_ready_at() const {
  refill();
  auto t = refilled_at_;
  if (tokens_ < 1) {
    const std::chrono::duration<double> wait((1 - tokens_) / pace_.rate_per_second);
    t += std::chrono::ceil<std::chrono::steady_clock::duration>(wait);
  }
  return std::max(t, backoff_until_);
}

bool report_pacer::namespace_ready(std::string_view ns) const {
  return now_() >= namespace_ready_at(ns);
}

bool report_pacer::write_ready() const {
  refill();
  return tokens_ >= 1 && refilled_at_ >= backoff_until_;
}

bool report_pacer::try_write(std::string_view ns) {
  const auto t = now_();
  if (t < backoff_until_ || namespace_ready_at(ns) > t) return false;
  refill();
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  if (auto it = written_at_.find(ns); it != written_at_.end()) {
    it->second = t;
  } else {
    written_at_.emplace(std::string(ns), t);
  }
  return true;
}

void report_pacer::succeeded() {
  backoff_ = std::chrono::milliseconds(0);
  backoff_until_ = {};
}

void report_pacer::failed(std::string_view ns) {
  if (auto it = written_at_.find(ns); it != written_at_.end()) written_at_.erase(it);
  backoff_ =
      backoff_.count() == 0 ? pace_.first_backoff : std::min(backoff_ * 2, pace_.max_backoff);
  backoff_until_ = now_() + backoff_;
}

void report_pacer::retain(const namespace_map& known) {
  std::erase_if(written_at_, [&known](const auto& kv) { return !known.contains(kv.first); });
}

}  // namespace netpol_guard::kube
