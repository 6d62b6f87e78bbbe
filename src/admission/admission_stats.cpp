#include "netpol_guard/admission/admission_stats.hpp"

#include <string>

namespace netpol_guard {
namespace {

// The kind label: the rule book's pod creators (Pod, then the workloads), Namespace,
// NetworkPolicy, other.
constexpr auto kinds = [] {
  std::array<std::string_view, rules::workload_kinds.size() + 4> k{};
  std::size_t i = 0;
  k[i++] = rules::pod_kind.kind;
  for (const auto& w : rules::workload_kinds) k[i++] = w.kind;
  k[i++] = "Namespace";
  k[i++] = "NetworkPolicy";
  k[i++] = "other";
  return k;
}();
constexpr std::array<std::string_view, 5> ops{"CREATE", "UPDATE", "DELETE", "CONNECT", "other"};
constexpr std::array<verdict, 4> verdicts{verdict::allowed, verdict::denied, verdict::audited,
                                          verdict::warned};

template <std::size_t N>
std::size_t index_or_last(const std::array<std::string_view, N>& names, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return i;
  }
  return N - 1;
}

}  // namespace

std::string_view to_string(admission_error e) {
  return admission_stats::error_names[static_cast<std::size_t>(e)];
}

admission_error admission_stats::error_from(std::string_view codec_reason) {
  for (std::size_t i = 0; i < n_errors; ++i) {
    if (error_names[i] == codec_reason) return static_cast<admission_error>(i);
  }
  return admission_error::internal;
}

void admission_stats::count_request(verdict v, std::string_view kind, std::string_view operation) {
  auto i = (static_cast<std::size_t>(v) * n_kinds + index_or_last(kinds, kind)) * n_ops +
           index_or_last(ops, operation);
  requests_[i].inc();
}

std::uint64_t admission_stats::requests_total() const {
  std::uint64_t n = 0;
  for (const auto& c : requests_) n += c.value();
  return n;
}

void admission_stats::write_requests(stats::exposition& out) const {
  constexpr std::string_view name = "netpol_guard_admission_requests_total";
  out.header(name, "counter", "Admission requests answered, by decision, kind and operation.");
  for (std::size_t v = 0; v < n_verdicts; ++v) {
    for (std::size_t k = 0; k < n_kinds; ++k) {
      for (std::size_t o = 0; o < n_ops; ++o) {
        auto n = requests_[(v * n_kinds + k) * n_ops + o].value();
        if (n == 0) continue;
        std::string labels = "decision=\"" + std::string(to_string(verdicts[v])) + "\",kind=\"" +
                             std::string(kinds[k]) + "\",operation=\"" + std::string(ops[o]) + "\"";
        out.sample(name, labels, static_cast<double>(n));
      }
    }
  }
  latency_.write(out, "netpol_guard_admission_duration_seconds",
                 "Time from a complete request to its answer, in seconds.");
}

void admission_stats::write_confirmations(stats::exposition& out) const {
  constexpr std::string_view name = "netpol_guard_confirmations_total";
  out.header(name, "counter",
             "Live reads of a namespace's NetworkPolicies before a denial, by result.");
  confirmations_.write(out, name);
}

void admission_stats::write_admitted_by_exemption(stats::exposition& out) const {
  constexpr std::string_view name = "netpol_guard_admitted_by_exemption_total";
  out.header(name, "counter",
             "Pods and workloads admitted only because of their namespace's active exemption.");
  out.sample(name, "", static_cast<double>(admitted_by_exemption_.value()));
}

}  // namespace netpol_guard
