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

// STEP-0: issue 13 part A adds modes, exemptions and negating policies.
namespace_compliance evaluate_namespace(std::string_view ns, const namespace_entry* entry,
                                        const evaluation_context& ctx) {
  namespace_compliance c;
  c.exempt = ctx.exempt_namespaces.contains(ns);
  c.mode = ctx.audit_only ? namespace_mode::warn : namespace_mode::enforce;
  if (entry != nullptr) {
    c.coverage = entry->coverage();
    c.template_name_taken = entry->template_name_taken;
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
                        " requires (MITRE ATT&CK T1046). " + fix_for(c.coverage, ns);
  if (c.template_name_taken) {
    message += " Note: the NetworkPolicy named " + in_quotes(rules::template_policy_name) +
               " there is not a deny-all (it selects only some pods or has rules); "
               "replace it with the template.";
  }
  return message;
}

// STEP-0 STUBS: issue 13 part A implements these.
exemption_gauges count_exemptions(const namespace_snapshot&, const evaluation_context&) {
  return {};
}

std::vector<std::pair<std::string, std::string>> exemption_annotations(
    const namespace_compliance&) {
  return {};
}

std::string allow_all_message(std::string_view, const allow_all&, std::string_view) { return {}; }

}  // namespace netpol_guard
