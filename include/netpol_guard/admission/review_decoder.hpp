#pragma once

// AdmissionReview -> admission_request. The body is read once with simdjson
// On-Demand: every value is validated, only the fields the decision reads are
// kept, and no DOM of the Pod is built (docs/decoder.md).

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

// Bytes simdjson may read past the end of a body (SIMDJSON_PADDING); their values
// do not matter.
inline constexpr std::size_t decoder_padding = 64;

// The request, or why the body is not a usable AdmissionReview. The body is copied
// into a padded buffer first (one memcpy).
boost::system::result<admission_request, codec_error> decode_admission_review(
    std::string_view body);

// The same, without the copy when `capacity` bytes from body.data() are readable
// and capacity >= body.size() + decoder_padding (a std::string with that much
// reserve, say); otherwise it copies as above.
boost::system::result<admission_request, codec_error> decode_admission_review(std::string_view body,
                                                                              std::size_t capacity);

}  // namespace netpol_guard
