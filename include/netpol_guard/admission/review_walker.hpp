#pragma once

// One pass of simdjson On-Demand over an AdmissionReview body: every value is
// validated (structure, scalars, string escapes, depth), the fields
// review_fields.hpp names are kept, and for NetworkPolicies and Namespaces the
// spec members and metadata review_facts.hpp reads are captured as small JSON
// values. Only review_decoder.cpp uses it; it checks what the walk found.

#include <cstddef>
#include <optional>

#include "netpol_guard/admission/review_decoder.hpp"
#include "netpol_guard/admission/review_parts.hpp"

namespace netpol_guard::review_walker {

// Walks `size` bytes at `data`; `capacity` bytes from `data` must be readable,
// and at least size + simdjson's padding (review_decoder.hpp's decoder_padding).
// Returns the error that ends the walk, or nothing when the whole body is valid
// JSON.
std::optional<codec_error> walk(const char* data, std::size_t size, std::size_t capacity,
                                review_parts& out);

}  // namespace netpol_guard::review_walker
