#include "netpol_guard/admission/verdicts.hpp"

#include <utility>

namespace netpol_guard::verdicts {

admission_decision reject(admission_decision d, std::string message, const char* missing_key,
                          bool enforced) {
  if (!enforced) {
    d.outcome = verdict::audited;
    d.response.allowed = true;
    d.response.warnings.push_back(to_warning(message));
    d.response.audit_annotations.emplace_back("cis-5.3.2-violation", message);
    d.response.audit_annotations.emplace_back("cis-5.3.2-missing", missing_key);
    return d;
  }
  d.outcome = verdict::denied;
  d.response.allowed = false;
  d.response.code = 403;
  d.response.reason = "Forbidden";
  d.response.message = std::move(message);
  return d;
}

admission_decision deny(admission_decision d, std::string message) {
  d.depends_on_state = false;
  return reject(std::move(d), std::move(message), "", /*enforced=*/true);
}

admission_decision warn(admission_decision d, const std::string& message) {
  d.outcome = verdict::warned;
  d.response.allowed = true;
  d.response.warnings.push_back(to_warning(message));
  return d;
}

const char* missing_key(const deny_all_coverage& have) {
  if (!have.ingress && !have.egress) return "ingress,egress";
  return !have.ingress ? "ingress" : "egress";
}

const char* direction_key(const deny_all_coverage& d) {
  return d.ingress && d.egress ? "ingress,egress" : d.ingress ? "ingress" : "egress";
}

}  // namespace netpol_guard::verdicts
