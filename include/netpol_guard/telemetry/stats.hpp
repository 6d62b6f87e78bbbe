#pragma once

// Stats primitives, in Envoy's manner: each component declares the counters it
// updates next to its own code (admission_stats, server_stats, ...) from the
// pieces here, and renders its own families. Updates are lock-free atomics on
// the request path; rendering is Prometheus text exposition. This header knows
// no component: it must not include admission/, netpol/, kube/ or server/.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace netpol_guard::stats {

class counter {
 public:
  void inc(std::uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

class gauge {
 public:
  void add(std::int64_t delta) { v_.fetch_add(delta, std::memory_order_relaxed); }
  std::int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> v_{0};
};

class double_gauge {
 public:
  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

// Writes text exposition: one HELP and TYPE header per family, then its samples.
class exposition {
 public:
  exposition() { out_.reserve(8192); }

  void header(std::string_view name, std::string_view type, std::string_view help);
  // `labels` is the inside of the braces (`a="x",b="y"`), empty for none.
  // Values print with %.9g.
  void sample(std::string_view name, std::string_view labels, double value);
  // A value printed as a whole number in full (%.0f): %.9g would round a
  // 10-digit timestamp.
  void sample_whole(std::string_view name, double value);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// `value` as %.9g, the format of every sample and histogram bound.
std::string format_value(double value);

// Counters with one label whose values the owner names up front, indexed by
// position (usually an enum's underlying value). Every value is exported, zero
// or not, so rate() works from the start.
template <std::size_t N>
class labelled_counter {
 public:
  constexpr labelled_counter(std::string_view label, std::array<std::string_view, N> values)
      : label_(label), values_(values) {}

  static constexpr std::size_t size() { return N; }
  void inc(std::size_t i, std::uint64_t n = 1) { counts_[i].inc(n); }
  std::uint64_t value(std::size_t i) const { return counts_[i].value(); }
  std::string_view name(std::size_t i) const { return values_[i]; }

  // The samples [first, last) of family `metric`; the owner writes the header.
  void write(exposition& out, std::string_view metric, std::size_t first = 0,
             std::size_t last = N) const {
    for (std::size_t i = first; i < last; ++i) {
      out.sample(metric, std::string(label_) + "=\"" + std::string(values_[i]) + "\"",
                 static_cast<double>(counts_[i].value()));
    }
  }

 private:
  std::string_view label_;
  std::array<std::string_view, N> values_;
  std::array<counter, N> counts_{};
};

// A histogram with fixed upper bounds, rendered cumulatively with +Inf, _sum
// and _count. The sum is kept in whole nanoseconds so it stays an integer atomic.
template <std::size_t N>
class histogram {
 public:
  constexpr explicit histogram(const std::array<double, N>& bounds) : bounds_(bounds) {}

  void observe(double v) {
    std::size_t b = 0;
    while (b < N && v > bounds_[b]) ++b;
    counts_[b].inc();
    sum_ns_.inc(static_cast<std::uint64_t>(v * 1e9));
  }

  void write(exposition& out, std::string_view metric, std::string_view help) const {
    const std::string name(metric);
    out.header(name, "histogram", help);
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < N; ++b) {
      cumulative += counts_[b].value();
      out.sample(name + "_bucket", "le=\"" + format_value(bounds_[b]) + "\"",
                 static_cast<double>(cumulative));
    }
    cumulative += counts_[N].value();
    out.sample(name + "_bucket", "le=\"+Inf\"", static_cast<double>(cumulative));
    out.sample(name + "_sum", "", static_cast<double>(sum_ns_.value()) / 1e9);
    out.sample(name + "_count", "", static_cast<double>(cumulative));
  }

 private:
  std::array<double, N> bounds_;
  std::array<counter, N + 1> counts_{};
  counter sum_ns_;
};

// The one family every component's failures share, netpol_guard_errors_total{reason}:
// its name and header; components write their own reasons' samples into it.
inline constexpr std::string_view errors_metric = "netpol_guard_errors_total";
void errors_header(exposition& out);

}  // namespace netpol_guard::stats
