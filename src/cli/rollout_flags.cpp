#include "netpol_guard/cli/rollout_flags.hpp"

namespace netpol_guard::cli {

namespace {

std::string default_groups_text() {
  std::string out;
  for (auto g : rules::default_exemption_groups) out += (out.empty() ? "" : ", ") + std::string(g);
  return out;
}

}  // namespace

void add_governance_flags(flag_set& flags, governance_flags& g) {
  flags.add_list("exemption-groups", &g.exemption_groups,
                 "groups whose members may exempt a namespace or set its mode=warn, in addition "
                 "to " +
                     default_groups_text());
  flags.add_list("exemption-users", &g.exemption_users,
                 "users who may exempt a namespace or set its mode=warn (GitOps identities, such "
                 "as system:serviceaccount:argocd:argocd-application-controller)");
  flags.add_duration("max-exemption-duration", &g.max_exemption_duration,
                     "the latest exempt-until a request may set, after the moment it is set");
}

boost::system::result<void, std::string> apply_governance(const governance_flags& g,
                                                          decision_config& config) {
  const auto max = std::chrono::duration_cast<std::chrono::seconds>(g.max_exemption_duration);
  if (max < std::chrono::seconds(1)) return "--max-exemption-duration must be at least 1s";
  config.exemption_groups = {rules::default_exemption_groups.begin(),
                             rules::default_exemption_groups.end()};
  config.exemption_groups.insert(g.exemption_groups.begin(), g.exemption_groups.end());
  config.exemption_users = {g.exemption_users.begin(), g.exemption_users.end()};
  config.max_exemption_duration = max;
  return {};
}

}  // namespace netpol_guard::cli
