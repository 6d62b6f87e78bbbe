#include "netpol_guard/admission/failure_answer.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

using namespace netpol_guard;
using nlohmann::json;

TEST_CASE("each failure reason gets the status the table documents", "[failure_answer]") {
  struct row {
    const char* reason;
    unsigned status;
  };
  // The statuses the README and the integration tests promise.
  const row table[] = {
      {"malformed_json", 400},
      {"not_admission_review", 400},
      {"wrong_type", 400},
      {"duplicate_key", 400},
      {"too_deep", 400},
      {"missing_request", 400},
      {"missing_uid", 400},
      {"missing_operation", 400},
      {"missing_object", 400},
      {"unsupported_version", 400},
      {"bad_http", 400},
      {"not_found", 404},
      {"method_not_allowed", 405},
      {"body_too_large", 413},
      {"unsupported_media_type", 415},
      {"over_budget", 503},
      {"internal", 500},
  };
  for (const auto& r : table) {
    INFO(r.reason);
    auto a = answer_failure(r.reason, "what went wrong \"here\"");
    CHECK(a.status == r.status);
    auto doc = json::parse(a.body);
    CHECK(doc == json{{"error", "what went wrong \"here\""}, {"reason", r.reason}});
  }
}

TEST_CASE("an internal error on a decoded request is an AdmissionReview", "[failure_answer]") {
  admission_request request;
  request.uid = "uid-1";
  request.version = review_version::v1beta1;

  SECTION("enforce mode: refused, status 500, no detail leaked") {
    auto a = answer_failure("internal", "std::bad_alloc at decision.cpp", &request, false);
    CHECK(a.status == 200);
    auto doc = json::parse(a.body);
    CHECK(doc["apiVersion"] == "admission.k8s.io/v1beta1");
    CHECK(doc["kind"] == "AdmissionReview");
    CHECK(doc["response"]["uid"] == "uid-1");
    CHECK(doc["response"]["allowed"] == false);
    const json status{{"code", 500},
                      {"reason", "InternalError"},
                      {"message", "netpol-guard internal error; see its logs"}};
    CHECK(doc["response"]["status"] == status);
    CHECK(a.body.find("bad_alloc") == std::string::npos);
  }
  SECTION("audit-only: allowed") {
    auto a = answer_failure("internal", "boom", &request, true);
    CHECK(a.status == 200);
    auto doc = json::parse(a.body);
    CHECK(doc["response"]["allowed"] == true);
    CHECK_FALSE(doc["response"].contains("status"));
  }
}
