#pragma once

// How netpol-guard answers a request it cannot decide: the rule, in one place.
//
//   failure                                    reason                  answer
//   -----------------------------------------  ----------------------  ------------------------
//   body is not a usable AdmissionReview       the codec's reasons:    400, JSON error
//                                              malformed_json, ...
//   malformed HTTP, unknown Transfer-Encoding  bad_http                400, JSON error
//   path other than /validate                  not_found               404, JSON error
//   method other than POST                     method_not_allowed      405, JSON error
//   body over --max-request-bytes              body_too_large          413, JSON error
//   Content-Type not application/json          unsupported_media_type  415, JSON error
//   body over the buffering budget             over_budget             503, JSON error
//   a decoded request the decision failed on   internal                200, AdmissionReview:
//                                                                      status 500 InternalError,
//                                                                      allowed only in audit-only
//   internal, before a request was decoded     internal                500, JSON error
//
// The JSON error is {"error": message, "reason": reason}. Before a body is decoded there
// is no uid to echo, so no AdmissionReview can answer: the apiserver sees a failed call and
// applies the webhook's failurePolicy. After decoding, an AdmissionReview answers, so the
// apiserver gets a deliberate verdict; its message points at the logs and says no more.
// The reason is also the netpol_guard_errors_total reason the caller counts.

#include <string>
#include <string_view>

#include "netpol_guard/admission/decision.hpp"

namespace netpol_guard {

struct webhook_answer {
  unsigned status = 200;
  std::string body;
};

// The answer to a failure with `reason` (see the table). `request` is the decoded
// request when there is one; `audit_only` then decides whether it is allowed.
webhook_answer answer_failure(std::string_view reason, std::string_view message,
                              const admission_request* request = nullptr, bool audit_only = false);

}  // namespace netpol_guard
