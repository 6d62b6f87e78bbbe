#include "netpol_guard/netpol/namespace_compliance.hpp"

#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard {

std::string in_quotes(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  out += s;
  out += '"';
  return out;
}

namespace {

// What to apply to fix a missing direction: the template's default-deny-all, or
// a deny-all policy for exactly the direction that is missing.
std::string fix_for(const deny_all_coverage& have, std::string_view ns) {
  if (!have.ingress && !have.egress) {
    return "Fix: apply the template's " + template_summary() + " to namespace " + in_quotes(ns) +
           ".";
  }
  const char* type = !have.ingress ? "Ingress" : "Egress";
  const char* rules = !have.ingress ? "ingress" : "egress";
  return "Fix: apply " + std::string(rules::template_policy_name) +
         ", or a policy with podSelector {}, policyTypes [" + type + "] and no " + rules +
         " rules, to namespace " + in_quotes(ns) + ".";
}

}  // namespace

namespace_compliance evaluate_namespace(std::string_view ns, const namespace_entry* entry,
                                        const evaluation_context& ctx) {
  namespace_compliance c;
  c.exempt = ctx.exempt_namespaces.contains(ns);
  c.mode = ctx.audit_only ? namespace_mode::warn : namespace_mode::enforce;
  if (entry == nullptr) return c;
  c.coverage = entry->coverage();
  c.template_name_taken = entry->template_name_taken;
  const auto& settings = entry->settings;
  // settings_from_keys already turned an invalid label into unset.
  if (settings.mode != namespace_mode::unset) c.mode = settings.mode;
  c.settings_invalid = settings.invalid;
  if (settings.exempt) {
    c.exempt_detail = settings.exempt;
    // Only what the policies leave missing is exempted (or expired).
    deny_all_coverage missing{settings.exempt->directions.ingress && !c.coverage.ingress,
                              settings.exempt->directions.egress && !c.coverage.egress};
    (settings.exempt->active(ctx.now) ? c.exempted : c.expired) = missing;
  }
  for (const auto& n : entry->negating) {
    c.negated.ingress = c.negated.ingress || n.opens.ingress;
    c.negated.egress = c.negated.egress || n.opens.egress;
    c.negated_by.push_back(n.name);
  }
  return c;
}

std::string no_default_deny(const deny_all_coverage& have) {
  return "no default-deny " + missing_directions(have) + " NetworkPolicy";
}

std::string template_summary() {
  return std::string(rules::template_policy_name) +
         " (podSelector {}, policyTypes [Ingress, Egress])";
}

std::string violation_message(const namespace_compliance& c, std::string_view ns,
                              std::string_view object) {
  std::string message = "CIS 5.3.2: namespace " + in_quotes(ns) + " has " +
                        no_default_deny(c.coverage) + ", which " + std::string(object) +
                        " requires (MITRE ATT&CK T1046)";
  // An expired exemption of a missing direction is why a namespace that used
  // to admit pods no longer does: say so, with the time as it was written.
  bool expired_missing =
      (c.expired.ingress && !c.coverage.ingress) || (c.expired.egress && !c.coverage.egress);
  if (expired_missing && c.exempt_detail) {
    message += "; its exemption expired at " + c.exempt_detail->until_text;
  }
  message += ". " + fix_for(c.coverage, ns);
  if (c.template_name_taken) {
    message += " Note: the NetworkPolicy named " + in_quotes(rules::template_policy_name) +
               " there is not a deny-all (it selects only some pods or has rules); "
               "replace it with the template.";
  }
  return message;
}

exemption_gauges count_exemptions(const namespace_snapshot& snapshot,
                                  const evaluation_context& ctx) {
  exemption_gauges g;
  for (const auto& [ns, entry] : snapshot.entries()) {
    const auto& e = entry.settings.exempt;
    if (!e || ctx.exempt_namespaces.contains(ns)) continue;
    if (!e->active(ctx.now)) {
      g.expired++;
      continue;
    }
    g.active++;
    if (!g.earliest_active_expiry || e->until < *g.earliest_active_expiry) {
      g.earliest_active_expiry = e->until;
    }
  }
  return g;
}

std::vector<std::pair<std::string, std::string>> exemption_annotations(
    const namespace_compliance& c) {
  if (!c.exempt_detail) return {};
  // The directions the request relied on; the whole exemption when the caller
  // asks before any direction was found missing (a Namespace CREATE).
  auto d = c.exempted.any() ? c.exempted : c.exempt_detail->directions;
  std::string directions = d.full() ? "ingress,egress" : d.ingress ? "ingress" : "egress";
  return {{"cis-5.3.2-exempt", std::move(directions)},
          {"cis-5.3.2-exempt-reason", c.exempt_detail->reason},
          {"cis-5.3.2-exempt-until", c.exempt_detail->until_text}};
}

std::string allow_all_message(std::string_view policy, const allow_all& opens,
                              std::string_view ns) {
  // The rule names the first rule of each direction opened (opens_all_of).
  const bool both = opens.opens.full();
  const bool ingress = opens.opens.ingress;
  return "CIS 5.3.2: NetworkPolicy " + in_quotes(policy) + " " + opens.rule +
         (both      ? " allow all ingress to and egress from"
          : ingress ? " allows all ingress to"
                    : " allows all egress from") +
         " every pod of namespace " + in_quotes(ns) +
         ", which cancels its default deny (MITRE ATT&CK T1046). Fix: list the " +
         (both      ? "sources, destinations"
          : ingress ? "sources"
                    : "destinations") +
         " and ports the pods need.";
}

}  // namespace netpol_guard
