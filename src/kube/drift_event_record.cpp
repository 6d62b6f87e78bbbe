#include "netpol_guard/kube/drift_event_record.hpp"

#include <algorithm>
#include <cstdio>

#include "netpol_guard/netpol/namespace_compliance.hpp"

namespace netpol_guard::kube {

using json = nlohmann::json;

std::string_view reason_name(drift_reason r) {
  return r == drift_reason::baseline_missing ? "BaselineMissing" : "BaselineRestored";
}

std::string_view event_type(drift_reason r) {
  return r == drift_reason::baseline_missing ? "Warning" : "Normal";
}

bool compliance_tracker::drifts(const std::string& ns, const namespace_entry& e) const {
  return e.known_namespace && !e.terminating && !exempt_.contains(ns);
}

std::vector<drift_transition> compliance_tracker::observe(const namespace_snapshot& next,
                                                          std::chrono::sys_seconds now) {
  std::vector<drift_transition> out;
  decltype(states_) states;
  states.reserve(next.entries().size());
  for (const auto& [ns, e] : next.entries()) {
    if (!drifts(ns, e)) continue;
    const bool compliant = e.coverage().full();
    auto was = states_.find(ns);
    if (was == states_.end()) {
      states.emplace(ns, compliant ? state::compliant : state::never_compliant);
      continue;
    }
    if (!compliant) {
      states.emplace(ns, was->second == state::compliant ? state::non_compliant : was->second);
      if (was->second == state::compliant) {
        out.push_back(
            {ns, drift_reason::baseline_missing,
             drift_note(drift_reason::baseline_missing, ns, e, exempt_, now, audit_only_)});
      }
      continue;
    }
    states.emplace(ns, state::compliant);
    if (was->second == state::non_compliant) {
      out.push_back(
          {ns, drift_reason::baseline_restored,
           drift_note(drift_reason::baseline_restored, ns, e, exempt_, now, audit_only_)});
    }
  }
  states_ = std::move(states);
  std::sort(out.begin(), out.end(),
            [](const drift_transition& a, const drift_transition& b) { return a.name < b.name; });
  return out;
}

void compliance_tracker::rebase(const namespace_snapshot& next) {
  decltype(states_) states;
  states.reserve(next.entries().size());
  for (const auto& [ns, e] : next.entries()) {
    if (!drifts(ns, e)) continue;
    auto was = states_.find(ns);
    const bool never = was != states_.end() && was->second == state::never_compliant;
    states.emplace(ns, e.coverage().full() ? state::compliant
                       : never             ? state::never_compliant
                                           : state::non_compliant);
  }
  states_ = std::move(states);
}

std::string drift_note(drift_reason r, std::string_view ns, const namespace_entry& e,
                       const std::set<std::string, std::less<>>& exempt,
                       std::chrono::sys_seconds now, bool audit_only) {
  const evaluation_context ctx{exempt, audit_only, false, now};
  const namespace_compliance c = evaluate_namespace(ns, &e, ctx);
  std::string note;
  if (r == drift_reason::baseline_restored) {
    note = "CIS 5.3.2: namespace " + in_quotes(ns) +
           " has default-deny ingress and egress NetworkPolicies again";
    const auto names = e.baseline_names();
    if (!names.empty()) {
      note += " (";
      for (std::size_t i = 0; i < names.size(); ++i) note += (i ? ", " : "") + names[i];
      note += ")";
    }
    note += ". New Pods there are admitted again.";
  } else {
    // The webhook's own finding: the directions now missing were lost, since
    // the namespace denied both in the previous state.
    note = violation_message(c, ns, "every new Pod");
    if (c.by_exemption()) {
      note += " New Pods there are still admitted: an active exemption covers the direction.";
    } else if (!c.enforced()) {
      note += " New Pods there are admitted with a warning (mode warn).";
    } else {
      note += " New Pods there are now refused.";
    }
  }
  if (note.size() > note_limit) note.resize(note_limit);
  return note;
}

std::string events_path() {
  return "/apis/events.k8s.io/v1/namespaces/" + std::string(event_namespace) + "/events";
}

std::string micro_time(std::chrono::system_clock::time_point t) {
  const auto us = std::chrono::floor<std::chrono::microseconds>(t);
  const auto day = std::chrono::floor<std::chrono::days>(us);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss<std::chrono::microseconds> tod{us - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(tod.hours().count()),
                static_cast<int>(tod.minutes().count()), static_cast<int>(tod.seconds().count()),
                static_cast<long long>(tod.subseconds().count()));
  return buf;
}

std::string event_name(std::string_view ns, std::chrono::system_clock::time_point t) {
  const auto ns_since_epoch =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  char hex[20];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(ns_since_epoch.count()));
  return std::string(ns) + "." + hex;
}

json drift_event_json(const drift_transition& d, std::string_view instance,
                      std::chrono::system_clock::time_point t) {
  // The apiserver requires one; an unnamed replica still reports as the project.
  const std::string reporting(instance.empty() ? std::string_view("netpol-guard")
                                               : instance.substr(0, reporting_instance_limit));
  return json{
      {"apiVersion", "events.k8s.io/v1"},
      {"kind", "Event"},
      {"metadata", {{"name", event_name(d.name, t)}, {"namespace", event_namespace}}},
      {"eventTime", micro_time(t)},
      {"reportingController", reporting_controller},
      {"reportingInstance", reporting},
      {"action", event_action},
      {"reason", reason_name(d.reason)},
      {"type", event_type(d.reason)},
      {"regarding", {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"name", d.name}}},
      {"note", d.note.substr(0, note_limit)},
  };
}

}  // namespace netpol_guard::kube
