#pragma once

// admission_response -> AdmissionReview JSON, built by hand: the answer is small
// and its shape fixed, so no DOM is needed.

#include <string>
#include <string_view>

#include "netpol_guard/admission/decision.hpp"

namespace netpol_guard {

// The AdmissionReview answer, in the request's apiVersion, echoing its uid.
std::string encode_admission_review(const admission_request& request,
                                    const admission_response& response);

// {"error": message, "reason": reason}: the body of an answer that cannot be an
// AdmissionReview (see failure_answer.hpp).
std::string encode_error(std::string_view reason, std::string_view message);

}  // namespace netpol_guard
