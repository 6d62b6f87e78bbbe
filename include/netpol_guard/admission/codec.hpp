#pragma once

// AdmissionReview decode/encode. Decoding streams the body (SAX) and keeps only
// the fields the decision reads; no DOM of the Pod is built.

#include "netpol_guard/admission/decision.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace netpol_guard {

// Why a body is not a usable AdmissionReview (answered as failure_answer.hpp says).
struct codec_error {
  std::string reason;   // short, for metrics: "malformed_json", "not_admission_review", ...
  std::string message;  // for the client
};

// Deepest nesting accepted in a request body; Kubernetes objects are shallow.
inline constexpr std::size_t max_json_depth = 512;

std::variant<admission_request, codec_error> decode_admission_review(std::string_view body);

// The AdmissionReview answer, in the request's apiVersion, echoing its uid.
std::string encode_admission_review(const admission_request& request,
                                    const admission_response& response);

// {"error": message, "reason": reason}: the body of an answer that cannot be an
// AdmissionReview (see failure_answer.hpp).
std::string encode_error(std::string_view reason, std::string_view message);

// JSON string escaping, for hand-built documents.
void append_json_string(std::string& out, std::string_view s);

}  // namespace netpol_guard
