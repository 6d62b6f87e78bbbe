#pragma once

// What a walk of an AdmissionReview keeps (review_walker.hpp), and where each
// string field goes. Only the decoder's files use it.

#include <nlohmann/json.hpp>
#include <string>

#include "netpol_guard/admission/decision.hpp"
#include "netpol_guard/admission/review_fields.hpp"

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

// Where the string leaf `f` is kept, or nullptr when `f` is no string leaf
// (dryRun, the containers) or is read as a flag (the deletion timestamps).
std::string* string_field(review_parts& parts, review_fields::field f);

}  // namespace netpol_guard::review_walker
