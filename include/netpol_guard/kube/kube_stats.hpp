#pragma once

// The live path's stats: relists by the reflectors, baseline provisioning by
// result, and the watch and provisioning failures among netpol_guard_errors_total.
// A new kube counter goes here, with its family in kube_stats.cpp.

#include <cstdint>

#include "netpol_guard/telemetry/stats.hpp"

namespace netpol_guard::kube {

enum class kube_error : unsigned char {
  watch_failed,
  provision_failed,
  lease_failed,        // a Lease read or write that failed (not a lost race)
  report_failed,       // a report write that failed after its retries
  reports_not_served,  // the report CRD is not installed (counted once per look)
  event_failed,        // a drift Event that could not be created
  count_
};

// Report writes by result: written (content changed), unchanged (nothing to write),
// failure (the apiserver refused or did not answer).
enum class report_write : unsigned char { written, unchanged, failure, count_ };

class kube_stats {
 public:
  void count_relist() { relists_.inc(); }
  void count_provisioned(bool ok) { provisioned_.inc(ok ? 0 : 1); }
  // A policy named default-deny-all existed that is not a deny-all.
  void count_provision_conflict() { provisioned_.inc(2); }
  void count_error(kube_error e) { errors_.inc(static_cast<std::size_t>(e)); }

  std::uint64_t errors(kube_error e) const { return errors_.value(static_cast<std::size_t>(e)); }

  // Leader election: 1 while this replica holds the Lease (or leads alone).
  void set_leader(bool leading) { leader_.set(leading ? 1 : 0); }
  bool leader() const { return leader_.value() != 0; }
  void count_leader_transition() { leader_transitions_.inc(); }
  void count_report_write(report_write r) { report_writes_.inc(static_cast<std::size_t>(r)); }
  std::uint64_t report_writes(report_write r) const {
    return report_writes_.value(static_cast<std::size_t>(r));
  }
  void count_event(bool ok) { events_.inc(ok ? 0 : 1); }
  std::uint64_t events(bool ok) const { return events_.value(ok ? 0 : 1); }

  void write_leader(stats::exposition& out) const;
  void write_report_writes(stats::exposition& out) const;

  void write_relists(stats::exposition& out) const;
  void write_provisioned(stats::exposition& out) const;
  // This component's samples of netpol_guard_errors_total.
  void write_errors(stats::exposition& out) const { errors_.write(out, stats::errors_metric); }

 private:
  stats::counter relists_;
  stats::labelled_counter<3> provisioned_{"result", {"success", "failure", "conflict"}};
  stats::labelled_counter<6> errors_{"reason",
                                     {"watch_failed", "provision_failed", "lease_failed",
                                      "report_failed", "reports_not_served", "event_failed"}};
  stats::double_gauge leader_;
  stats::counter leader_transitions_;
  stats::labelled_counter<3> report_writes_{"result", {"written", "unchanged", "failure"}};
  stats::labelled_counter<2> events_{"result", {"success", "failure"}};
};

}  // namespace netpol_guard::kube
