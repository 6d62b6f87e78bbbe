#include "netpol_guard/admission/review_decoder.hpp"

#include <cstring>
#include <memory>

#include "netpol_guard/admission/review_facts.hpp"
#include "netpol_guard/admission/review_walker.hpp"

namespace netpol_guard {
namespace {

// Each thread keeps a padded copy buffer for bodies up to this size; a larger
// body gets a buffer of its own, freed after it.
constexpr std::size_t retained_copy_bytes = 1024 * 1024;

bool is_network_policy(const admission_request& r) {
  return r.resource_group == "networking.k8s.io" && r.resource == "networkpolicies";
}

// What the walk found, checked as an AdmissionReview.
boost::system::result<admission_request, codec_error> finish(review_walker::review_parts& p) {
  if (!p.has_review_kind || p.review_kind != "AdmissionReview") {
    return codec_error{"not_admission_review",
                       "body is not an AdmissionReview (kind must be \"AdmissionReview\")"};
  }
  if (p.api_version == "admission.k8s.io/v1") {
    p.req.version = review_version::v1;
  } else if (p.api_version == "admission.k8s.io/v1beta1") {
    p.req.version = review_version::v1beta1;
  } else {
    return codec_error{"unsupported_version",
                       "unsupported apiVersion \"" + p.api_version +
                           "\" (want admission.k8s.io/v1 or admission.k8s.io/v1beta1)"};
  }
  if (!p.has_request) return codec_error{"missing_request", "AdmissionReview has no request"};
  auto& req = p.req;
  if (!p.has_uid || req.uid.empty()) {
    return codec_error{"missing_uid", "AdmissionReview request has no uid"};
  }
  if (req.operation.empty()) {
    return codec_error{"missing_operation", "AdmissionReview request has no operation"};
  }
  if ((req.operation == "CREATE" || req.operation == "UPDATE") && !req.object.present) {
    return codec_error{"missing_object",
                       "AdmissionReview request for " + req.operation + " has no object"};
  }
  std::string err;
  if (is_network_policy(req)) {
    if (req.object.present) {
      err = review_facts::fill_policy(req.object, p.object_spec, p.object_meta, "request.object");
    }
    if (err.empty() && req.old_object.present) {
      err = review_facts::fill_policy(req.old_object, p.old_spec, p.old_meta, "request.oldObject");
    }
  } else if (req.resource_group.empty() && req.resource == "namespaces") {
    err = review_facts::fill_namespace_keys(req.object, p.object_meta, "request.object");
    if (err.empty()) {
      err = review_facts::fill_namespace_keys(req.old_object, p.old_meta, "request.oldObject");
    }
  }
  if (!err.empty()) return codec_error{"wrong_type", err};
  return std::move(req);
}

boost::system::result<admission_request, codec_error> decode_padded(const char* data,
                                                                    std::size_t size,
                                                                    std::size_t capacity) {
  // A UTF-8 byte order mark is skipped, as nlohmann's parser (the decoder before
  // this one) did; simdjson leaves that to its caller.
  if (size >= 3 && std::memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
    data += 3;
    size -= 3;
    capacity -= 3;
  }
  review_walker::review_parts parts;
  if (auto err = review_walker::walk(data, size, capacity, parts)) return std::move(*err);
  return finish(parts);
}

}  // namespace

boost::system::result<admission_request, codec_error> decode_admission_review(
    std::string_view body, std::size_t capacity) {
  if (capacity >= body.size() + decoder_padding) {
    return decode_padded(body.data(), body.size(), capacity);
  }
  return decode_admission_review(body);
}

boost::system::result<admission_request, codec_error> decode_admission_review(
    std::string_view body) {
  // simdjson reads up to decoder_padding bytes past the end: copy the body into a
  // buffer with that slack (about 0.1 us per KB), kept per thread for reuse.
  thread_local std::unique_ptr<char[]> kept;
  thread_local std::size_t kept_size = 0;
  const std::size_t need = body.size() + decoder_padding;
  std::unique_ptr<char[]> own;
  char* buf;
  if (need <= kept_size) {
    buf = kept.get();
  } else if (need <= retained_copy_bytes + decoder_padding) {
    kept = std::make_unique_for_overwrite<char[]>(need);
    kept_size = need;
    buf = kept.get();
  } else {
    own = std::make_unique_for_overwrite<char[]>(need);
    buf = own.get();
  }
  if (!body.empty()) std::memcpy(buf, body.data(), body.size());
  std::memset(buf + body.size(), 0, decoder_padding);
  return decode_padded(buf, body.size(), need);
}

}  // namespace netpol_guard
