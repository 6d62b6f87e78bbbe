#include "netpol_guard/admission/review_encoder.hpp"

#include "netpol_guard/telemetry/json_text.hpp"

namespace netpol_guard {

std::string encode_admission_review(const admission_request& request,
                                    const admission_response& response) {
  std::string out;
  out.reserve(256 + response.message.size() * 2);
  out +=
      request.version == review_version::v1beta1
          ? R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","response":{"uid":)"
          : R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":)";
  append_json_string(out, request.uid);
  out += response.allowed ? R"(,"allowed":true)" : R"(,"allowed":false)";
  if (!response.allowed) {
    out += R"(,"status":{"code":)";
    out += std::to_string(response.code);
    out += R"(,"reason":)";
    append_json_string(out, response.reason);
    out += R"(,"message":)";
    append_json_string(out, response.message);
    out += '}';
  }
  if (!response.warnings.empty()) {
    out += R"(,"warnings":[)";
    for (std::size_t i = 0; i < response.warnings.size(); ++i) {
      if (i) out += ',';
      append_json_string(out, response.warnings[i]);
    }
    out += ']';
  }
  if (!response.audit_annotations.empty()) {
    out += R"(,"auditAnnotations":{)";
    for (std::size_t i = 0; i < response.audit_annotations.size(); ++i) {
      if (i) out += ',';
      append_json_string(out, response.audit_annotations[i].first);
      out += ':';
      append_json_string(out, response.audit_annotations[i].second);
    }
    out += '}';
  }
  out += "}}";
  return out;
}

std::string encode_error(std::string_view reason, std::string_view message) {
  std::string out = R"({"error":)";
  append_json_string(out, message);
  out += R"(,"reason":)";
  append_json_string(out, reason);
  out += "}";
  return out;
}

}  // namespace netpol_guard
