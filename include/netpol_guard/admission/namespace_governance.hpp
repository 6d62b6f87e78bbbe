#pragma once

// The decision on Namespace CREATE and UPDATE: the netpol-guard label and
// annotations are validated, only --exemption-groups and --exemption-users may
// loosen them, and a new namespace is judged with the settings it carries.

#include <chrono>

#include "netpol_guard/admission/decision.hpp"

namespace netpol_guard {

// True when the requester may loosen a namespace: its username is in
// config.exemption_users or one of its groups in config.exemption_groups.
bool may_loosen(const admission_request& r, const decision_config& config);

// `d.subject` names the namespace. Subresources and --exempt-namespaces are the
// caller's to skip.
admission_decision decide_namespace(admission_decision d, const admission_request& r,
                                    const decision_config& config, std::chrono::sys_seconds now);

}  // namespace netpol_guard
