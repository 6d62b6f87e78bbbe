#include "netpol_guard/admission/failure_answer.hpp"

#include <array>
#include <utility>

#include "netpol_guard/admission/review_encoder.hpp"

namespace netpol_guard {
namespace {

struct status_of_reason {
  std::string_view reason;
  unsigned status;
};

// The table in failure_answer.hpp; every other reason is the codec's: 400.
constexpr std::array<status_of_reason, 6> statuses{{
    {"not_found", 404},
    {"method_not_allowed", 405},
    {"body_too_large", 413},
    {"unsupported_media_type", 415},
    {"over_budget", 503},
    {"internal", 500},
}};

unsigned http_status_for(std::string_view reason) {
  for (const auto& s : statuses) {
    if (s.reason == reason) return s.status;
  }
  return 400;
}

}  // namespace

webhook_answer answer_failure(std::string_view reason, std::string_view message,
                              const admission_request* request, bool audit_only) {
  if (request == nullptr) return {http_status_for(reason), encode_error(reason, message)};
  admission_response response;
  response.allowed = audit_only;
  response.code = 500;
  response.reason = "InternalError";
  // The details are in the log; the apiserver's users see only where to look.
  response.message = "netpol-guard internal error; see its logs";
  return {200, encode_admission_review(*request, response)};
}

}  // namespace netpol_guard
