#pragma once

// One pass of simdjson On-Demand over an AdmissionReview body: every value is
// validated (structure, scalars, string escapes, depth), the fields
// review_fields.hpp names are kept, and for NetworkPolicies and Namespaces the
// spec members and metadata review_facts.hpp reads are captured as small JSON
// values. Only review_decoder.cpp uses it; it checks what the walk found.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "netpol_guard/admission/decision.hpp"
#include "netpol_guard/admission/review_decoder.hpp"

namespace netpol_guard::review_walker {

// What the walk kept.
struct review_parts {
  admission_request req;
  nlohmann::json object_spec = nlohmann::json::object();
  nlohmann::json old_spec = nlohmann::json::object();
  nlohmann::json object_meta = nlohmann::json::object();
  nlohmann::json old_meta = nlohmann::json::object();
  bool has_api_version = false, has_review_kind = false, has_request = false, has_uid = false;
  std::string api_version, review_kind;
};

// Walks `size` bytes at `data`; `capacity` bytes from `data` must be readable,
// and at least size + simdjson's padding (review_decoder.hpp's decoder_padding).
// Returns the error that ends the walk, or nothing when the whole body is valid
// JSON.
std::optional<codec_error> walk(const char* data, std::size_t size, std::size_t capacity,
                                review_parts& out);

}  // namespace netpol_guard::review_walker
