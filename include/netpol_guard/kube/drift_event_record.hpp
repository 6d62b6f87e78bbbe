#pragma once

// The pure half of the drift Events: which namespaces changed their CIS 5.3.2
// state between two snapshots, the finding each Event carries, and the
// events.k8s.io/v1 object itself. No I/O, no clock of its own.

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "netpol_guard/netpol/namespace_snapshot.hpp"

namespace netpol_guard::kube {

enum class drift_reason : unsigned char { baseline_missing, baseline_restored };

// "BaselineMissing" / "BaselineRestored": the Event's reason.
std::string_view reason_name(drift_reason r);
// "Warning" for a lost baseline, "Normal" for a restored one.
std::string_view event_type(drift_reason r);

struct drift_transition {
  std::string name;  // the namespace
  drift_reason reason = drift_reason::baseline_missing;
  std::string note;  // the finding, with the fix
};

// Per-namespace compliance (both directions denied by policies), kept as one
// small state per namespace rather than a snapshot. Only namespaces that can
// drift are tracked: a Namespace object was seen, it is not terminating, it is
// not exempt. A namespace first seen non-compliant after the baseline (a new
// one, before its default-deny-all is provisioned) was never compliant: its
// first compliant state is not a restore.
class compliance_tracker {
 public:
  // `audit_only`: the global --audit-only, so notes say what admission does.
  explicit compliance_tracker(std::set<std::string, std::less<>> exempt, bool audit_only = false)
      : exempt_(std::move(exempt)), audit_only_(audit_only) {}

  // The transitions from the state recorded so far to `next`, sorted by
  // namespace, and records `next`. Namespaces new in `next` have no transition
  // (they were never seen compliant); `now` words an exemption's expiry.
  std::vector<drift_transition> observe(const namespace_snapshot& next,
                                        std::chrono::sys_seconds now);
  // Records `next` as the baseline: no transitions.
  void rebase(const namespace_snapshot& next);

  bool tracked(std::string_view ns) const { return states_.contains(ns); }
  std::size_t size() const { return states_.size(); }

 private:
  bool drifts(const std::string& ns, const namespace_entry& e) const;

  std::set<std::string, std::less<>> exempt_;
  bool audit_only_ = false;
  enum class state : unsigned char { compliant, non_compliant, never_compliant };
  std::unordered_map<std::string, state, string_hash, std::equal_to<>> states_;
};

// The Event's note: which direction is missing and the NetworkPolicy that fixes
// it, worded as the webhook's denial, and what this means for new Pods there.
std::string drift_note(drift_reason r, std::string_view ns, const namespace_entry& e,
                       const std::set<std::string, std::less<>>& exempt,
                       std::chrono::sys_seconds now, bool audit_only = false);

// The apiserver's limits (pkg/apis/core/validation/events.go).
inline constexpr std::size_t reporting_instance_limit = 128;
inline constexpr std::size_t note_limit = 1024;

// An Event about a cluster-scoped object with eventTime set must live in
// "default" or "kube-system"; client-go's recorder uses "default".
inline constexpr std::string_view event_namespace = "default";
inline constexpr std::string_view reporting_controller =
    "netpol-guard.k8s-security-pro.io/netpol-guard";
inline constexpr std::string_view event_action = "Evaluate";

// POST target for the Events.
std::string events_path();

// metav1.MicroTime: RFC 3339 in UTC with 6 fractional digits.
std::string micro_time(std::chrono::system_clock::time_point t);
// "<ns>.<16 hex digits of t in nanoseconds>", as client-go's recorder names Events.
std::string event_name(std::string_view ns, std::chrono::system_clock::time_point t);

// The events.k8s.io/v1 Event of one transition, reported by `instance` at `t`.
nlohmann::json drift_event_json(const drift_transition& d, std::string_view instance,
                                std::chrono::system_clock::time_point t);

}  // namespace netpol_guard::kube
