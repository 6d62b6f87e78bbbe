// AdmissionReview codec and decision: decode arbitrary bytes, decide against a
// fixed snapshot, encode the answer. The answer must be valid JSON echoing the
// request's uid; an error must encode to valid JSON too.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "netpol_guard/admission/decision.hpp"
#include "netpol_guard/admission/failure_answer.hpp"
#include "netpol_guard/admission/review_decoder.hpp"
#include "netpol_guard/admission/review_encoder.hpp"
#include "netpol_guard/netpol/namespace_snapshot.hpp"

using namespace netpol_guard;

namespace {

// A fixed instant (2026-06-01T00:00:00Z), so a case replays the same.
constexpr std::chrono::sys_seconds fuzz_now{std::chrono::seconds{1780272000}};

// team-a has the full baseline, team-b ingress only, team-c nothing, and
// "leaving" is terminating; team-w is in mode warn, team-x holds an active
// exemption and team-y an expired one.
const namespace_snapshot& state() {
  static const auto snapshot = [] {
    namespace_index index;
    for (const char* ns : {"team-a", "team-b", "team-c"}) index.upsert_namespace(ns, false);
    index.upsert_namespace("leaving", true);
    namespace_settings warn;
    warn.mode = namespace_mode::warn;
    index.upsert_namespace(namespace_record{"team-w", false, warn});
    for (const auto& [ns, until] : {std::pair{"team-x", fuzz_now + std::chrono::hours(1)},
                                    std::pair{"team-y", fuzz_now - std::chrono::hours(1)}}) {
      namespace_settings exempt;
      exempt.exempt = exemption{{true, true}, "fuzz", "2026-06-01T01:00:00Z", until};
      index.upsert_namespace(namespace_record{ns, false, exempt});
    }
    index.upsert_policy("team-a", "default-deny-all", {true, true});
    index.upsert_policy("team-b", "deny-ingress", {true, false});
    return index.freeze("fuzz");
  }();
  return *snapshot;
}

bool is_json_echoing(const std::string& text, const std::string& uid) {
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return !doc.is_discarded() && doc.contains("response") && doc["response"]["uid"] == uid;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto decoded = decode_admission_review(body);
  if (decoded) {
    const admission_request* request = &*decoded;
    decision_config config;
    config.audit_only = (size % 2) == 1;
    config.deny_allow_all = (size % 4) >= 2;
    auto decision = decide(*request, state(), config, fuzz_now);
    if (!is_json_echoing(encode_admission_review(*request, decision.response), request->uid)) {
      std::abort();
    }
    // Every string the request carries, sent back in some field of an answer.
    admission_response echo;
    echo.allowed = false;
    echo.code = 403;
    echo.reason = request->operation;
    echo.message = request->name + request->namespace_name + request->object.name;
    echo.warnings = {request->username, request->kind, to_warning(request->sub_resource)};
    echo.warnings.insert(echo.warnings.end(), request->groups.begin(), request->groups.end());
    echo.message +=
        request->object.keys.reason.value_or("") + request->object.keys.until.value_or("");
    echo.audit_annotations = {{"netpol-guard.k8s-security-pro.io/subject", request->resource}};
    if (!is_json_echoing(encode_admission_review(*request, echo), request->uid)) std::abort();
  } else {
    const auto& error = decoded.error();
    if (answer_failure(error.reason, error.message).status != 400 || error.reason.empty())
      std::abort();
    auto doc = nlohmann::json::parse(encode_error(error.reason, error.message), nullptr,
                                     /*allow_exceptions=*/false);
    if (doc.is_discarded() || doc["reason"] != error.reason) std::abort();
  }
  return 0;
}
