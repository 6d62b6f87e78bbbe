#pragma once

// How the decision words its answers: a rejection that follows a namespace's
// mode, a denial that follows none, a warning. Shared by decision.cpp and
// namespace_governance.cpp.

#include <string>

#include "netpol_guard/admission/decision.hpp"

namespace netpol_guard::verdicts {

// A finding against the baseline: a 403 where `enforced`, else (warn mode) allowed
// with the message as a warning and the cis-5.3.2-violation and -missing
// (`missing_key`) audit annotations.
admission_decision reject(admission_decision d, std::string message, const char* missing_key,
                          bool enforced);

// A 403 in every mode (governance protects the configuration, not workloads).
// It rests on the request alone, so no live read can overturn it.
admission_decision deny(admission_decision d, std::string message);

// Allowed with an informational warning.
admission_decision warn(admission_decision d, const std::string& message);

// "ingress,egress", "ingress" or "egress": the directions `have` lacks, as the
// cis-5.3.2-missing annotation says them.
const char* missing_key(const deny_all_coverage& have);

// "ingress,egress", "ingress" or "egress": the directions `d` names.
const char* direction_key(const deny_all_coverage& d);

}  // namespace netpol_guard::verdicts
