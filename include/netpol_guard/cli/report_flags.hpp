#pragma once

// The reports' flags of `serve`: --reports, --report-interval and the leader
// election flags, named as kube components name them (--leader-elect,
// --leader-elect-lease-duration, ...). Declared once here so the flags, their
// help and their defaults cannot drift from the writer's configuration.

#include <boost/system/result.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "netpol_guard/cli/flags.hpp"
#include "netpol_guard/kube/compliance_reporting.hpp"

namespace netpol_guard::cli {

struct report_flags {
  std::string reports = "off";
  std::chrono::milliseconds interval{std::chrono::seconds(10)};
  bool leader_elect = true;
  kube::leader_election_options election;  // lease_namespace empty: the default below
};

void add_report_flags(flag_set& flags, report_flags& r);

// Reads an environment variable (a test passes its own).
using env_fn = std::function<std::optional<std::string>(const char*)>;
env_fn process_env();

// --leader-elect-resource-namespace's default: POD_NAMESPACE (the downward
// API), else the namespace of the pod's service account token, else "default".
std::string default_lease_namespace(const env_fn& env, const std::string& token_namespace_file);

// nullopt for --reports=off; the writer's API and the election otherwise (the
// identity filled in); one line naming the flag when a value is wrong.
boost::system::result<std::optional<kube::compliance_reporting_options>, std::string>
resolve_report_flags(const report_flags& r, const env_fn& env,
                     const std::string& token_namespace_file);

}  // namespace netpol_guard::cli
