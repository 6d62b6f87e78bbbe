#pragma once

// The live path's stats: relists by the reflectors, baseline provisioning by
// result, and the watch and provisioning failures among netpol_guard_errors_total.
// A new kube counter goes here, with its family in kube_stats.cpp.

#include <cstdint>

#include "netpol_guard/telemetry/stats.hpp"

namespace netpol_guard::kube {

enum class kube_error : unsigned char { watch_failed, provision_failed, count_ };

class kube_stats {
 public:
  void count_relist() { relists_.inc(); }
  void count_provisioned(bool ok) { provisioned_.inc(ok ? 0 : 1); }
  // A policy named default-deny-all existed that is not a deny-all.
  void count_provision_conflict() { provisioned_.inc(2); }
  void count_error(kube_error e) { errors_.inc(static_cast<std::size_t>(e)); }

  std::uint64_t errors(kube_error e) const { return errors_.value(static_cast<std::size_t>(e)); }

  void write_relists(stats::exposition& out) const;
  void write_provisioned(stats::exposition& out) const;
  // This component's samples of netpol_guard_errors_total.
  void write_errors(stats::exposition& out) const { errors_.write(out, stats::errors_metric); }

 private:
  stats::counter relists_;
  stats::labelled_counter<3> provisioned_{"result", {"success", "failure", "conflict"}};
  stats::labelled_counter<2> errors_{"reason", {"watch_failed", "provision_failed"}};
};

}  // namespace netpol_guard::kube
