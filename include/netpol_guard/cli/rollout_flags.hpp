#pragma once

// The rollout's governance flags of `serve`: who may loosen a namespace (exempt
// it, or move it to warn) and how long an exemption may last. Declared once
// here so the flags, their help and their defaults cannot drift from the
// decision's configuration.

#include <boost/system/result.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "netpol_guard/admission/decision.hpp"
#include "netpol_guard/cli/flags.hpp"
#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard::cli {

struct governance_flags {
  // Both add to rules::default_exemption_groups; they never replace it, so a
  // values file cannot lock the cluster's admins out of their own namespaces.
  std::vector<std::string> exemption_groups;
  std::vector<std::string> exemption_users;
  std::chrono::milliseconds max_exemption_duration{rules::default_max_exemption_duration};
};

// --exemption-groups, --exemption-users and --max-exemption-duration.
void add_governance_flags(flag_set& flags, governance_flags& g);

// Fills the governance fields of `config`; an error (one line) when
// --max-exemption-duration is under one second.
boost::system::result<void, std::string> apply_governance(const governance_flags& g,
                                                          decision_config& config);

}  // namespace netpol_guard::cli
