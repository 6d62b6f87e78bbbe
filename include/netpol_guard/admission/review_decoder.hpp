#pragma once

// AdmissionReview -> admission_request. The body is streamed (SAX) and only the
// fields the decision reads are kept; no DOM of the Pod is built.

#include <boost/system/result.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "netpol_guard/admission/decision.hpp"

namespace netpol_guard {

// Why a body is not a usable AdmissionReview (answered as failure_answer.hpp says).
struct codec_error {
  std::string reason;   // short, for metrics: "malformed_json", "not_admission_review", ...
  std::string message;  // for the client
};

// Deepest nesting accepted in a request body; Kubernetes objects are shallow.
inline constexpr std::size_t max_json_depth = 512;

// The request, or why the body is not a usable AdmissionReview.
boost::system::result<admission_request, codec_error> decode_admission_review(
    std::string_view body);

}  // namespace netpol_guard
