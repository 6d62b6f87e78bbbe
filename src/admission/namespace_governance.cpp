#include "netpol_guard/admission/namespace_governance.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "netpol_guard/admission/verdicts.hpp"
#include "netpol_guard/netpol/namespace_compliance.hpp"

namespace netpol_guard {
namespace {

std::string governance_message(std::string_view ns, const std::string& how,
                               const decision_config& config) {
  std::string groups;
  for (const auto& g : config.exemption_groups) {
    if (!groups.empty()) groups += ", ";
    groups += g;
  }
  return "CIS 5.3.2: only --exemption-groups (" + groups +
         ") or --exemption-users may loosen namespace " + in_quotes(ns) + " (" + how +
         "); anyone may tighten: remove the exemption or set mode=enforce.";
}

// What an authorised loosening did, so that whoever applied it sees its reach.
std::string loosened_message(std::string_view ns, const std::string& how,
                             const namespace_settings& s) {
  std::string m = "CIS 5.3.2: namespace " + in_quotes(ns) + " is loosened (" + how + ")";
  if (s.exempt) {
    const deny_all_coverage& dirs = s.exempt->directions;
    m += ": pods there are admitted without default-deny " +
         missing_directions({!dirs.ingress, !dirs.egress}) + " until " + s.exempt->until_text +
         " (" + s.exempt->reason + ")";
  } else if (s.mode == namespace_mode::warn) {
    m += ": pods without a default-deny baseline are admitted with a warning";
  }
  return m + ".";
}

std::string provisioning_message(std::string_view ns) {
  return "CIS 5.3.2: netpol-guard creates NetworkPolicy default-deny-all (deny all ingress and "
         "egress) in new namespace " +
         in_quotes(ns) + "; add allow policies for the traffic its pods need.";
}

// A new namespace is judged with the settings it carries, as its pods will be.
admission_decision decide_create(admission_decision d, const decision_config& config,
                                 std::chrono::sys_seconds now, const namespace_settings& settings,
                                 const std::string& loosened) {
  // A copy: `d` is moved into the verdict in the same call that builds the
  // message, and the order in which arguments are evaluated is unspecified.
  const std::string ns = d.subject.name;
  if (config.provision_default_deny) {
    d = verdicts::warn(std::move(d), provisioning_message(ns));
    if (!loosened.empty()) d.response.warnings.push_back(to_warning(loosened));
    return d;
  }
  namespace_entry entry;
  entry.known_namespace = true;
  entry.settings = settings;
  const evaluation_context ctx{config.exempt_namespaces, config.audit_only, config.deny_allow_all,
                               now};
  const namespace_compliance c = evaluate_namespace(ns, &entry, ctx);
  d.coverage = c.effective();
  if (!c.refuses_pods()) {
    // An exemption of both directions: its pods are admitted until it expires.
    d = verdicts::warn(
        std::move(d), loosened.empty() ? loosened_message(ns, "an exemption", settings) : loosened);
    d.response.audit_annotations = exemption_annotations(c);
    return d;
  }
  // A NetworkPolicy cannot exist before its namespace, so a new namespace can never
  // show a baseline. This is not a stale cache: no live read can change it.
  std::string message =
      "CIS 5.3.2: new Namespace " + in_quotes(ns) +
      " cannot have its default-deny ingress and egress NetworkPolicy yet and netpol-guard is "
      "not provisioning one (MITRE ATT&CK T1046). Fix: ask an admin to run netpol-guard with "
      "--provision-default-deny, or to exempt the namespace.";
  return verdicts::reject(std::move(d), std::move(message), verdicts::missing_key(c.effective()),
                          c.enforced());
}

}  // namespace

bool may_loosen(const admission_request& r, const decision_config& config) {
  if (config.exemption_users.contains(r.username)) return true;
  return std::any_of(r.groups.begin(), r.groups.end(),
                     [&](const std::string& g) { return config.exemption_groups.contains(g); });
}

admission_decision decide_namespace(admission_decision d, const admission_request& r,
                                    const decision_config& config, std::chrono::sys_seconds now) {
  const bool create = r.operation == "CREATE";
  if (!create && r.operation != "UPDATE") return d;
  // A namespace being deleted: its settings no longer matter, and its deletion
  // must be able to finish.
  if (!create && r.object.deleting) return d;
  const std::string ns = d.subject.name;  // a copy, as in decide_create
  const namespace_keys before = create ? namespace_keys{} : r.old_object.keys;
  const namespace_keys& after = r.object.keys;

  // Only what this request changes is validated: the mode label when it changes,
  // the exemption's three annotations when any of them changes, and the
  // maximum duration only when the expiry changes. A stored value that was valid
  // when set (an expiry within a maximum since lowered) or was set around the
  // webhook never blocks an unrelated update, nor a tightening.
  const namespace_settings settings = settings_from_keys(after);
  std::string loosened;
  if (after != before) {
    namespace_keys changed;
    if (after.mode != before.mode) changed.mode = after.mode;
    if (after.exempt != before.exempt || after.reason != before.reason ||
        after.until != before.until) {
      changed.exempt = after.exempt;
      changed.reason = after.reason;
      changed.until = after.until;
    }
    const auto max_duration =
        after.until != before.until ? config.max_exemption_duration : std::chrono::seconds::max();
    auto valid = validate_keys(changed, now, max_duration);
    if (!valid) {
      return verdicts::deny(std::move(d),
                            "CIS 5.3.2: namespace " + in_quotes(ns) + ": " + valid.error());
    }
    const std::string how = loosening(before, after, config.audit_only);
    if (!how.empty()) {
      if (!may_loosen(r, config)) {
        return verdicts::deny(std::move(d), governance_message(ns, how, config));
      }
      loosened = loosened_message(ns, how, settings);
    }
  }
  if (create) return decide_create(std::move(d), config, now, settings, loosened);
  if (!loosened.empty()) return verdicts::warn(std::move(d), loosened);
  return d;
}

}  // namespace netpol_guard
