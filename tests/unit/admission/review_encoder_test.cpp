#include "netpol_guard/admission/review_encoder.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <variant>

#include "netpol_guard/admission/review_decoder.hpp"
#include "review_fixtures.hpp"

using namespace netpol_guard;
using namespace review_fixtures;
using nlohmann::json;

namespace {

json encoded(const admission_request& r, const admission_response& resp) {
  return json::parse(encode_admission_review(r, resp));
}

}  // namespace

TEST_CASE("the answer echoes uid, apiVersion and kind", "[encoder]") {
  auto review = fixture("pod-create.json");
  admission_response allowed;

  SECTION("v1") {
    auto r = decode_ok(review);
    auto out = encoded(r, allowed);
    CHECK(out.at("apiVersion") == "admission.k8s.io/v1");
    CHECK(out.at("kind") == "AdmissionReview");
    CHECK(out.at("response").at("uid") == "705ab4f5-6393-11e8-b7cc-42010a800002");
    CHECK(out.at("response").at("allowed") == true);
    CHECK_FALSE(out.at("response").contains("status"));
    CHECK_FALSE(out.at("response").contains("patch"));
    CHECK_FALSE(out.at("response").contains("patchType"));
    CHECK_FALSE(out.contains("request"));
  }
  SECTION("v1beta1 is answered in v1beta1") {
    review["apiVersion"] = "admission.k8s.io/v1beta1";
    review["request"]["uid"] = "beta-uid-1";
    auto r = decode_ok(review);
    CHECK(r.version == review_version::v1beta1);
    auto out = encoded(r, allowed);
    CHECK(out.at("apiVersion") == "admission.k8s.io/v1beta1");
    CHECK(out.at("kind") == "AdmissionReview");
    CHECK(out.at("response").at("uid") == "beta-uid-1");
  }
  SECTION("a uid with characters that need escaping round-trips") {
    review["request"]["uid"] = "quote\"back\\slash\ttab\u00e9";
    auto r = decode_ok(review);
    CHECK(encoded(r, allowed).at("response").at("uid") == "quote\"back\\slash\ttab\u00e9");
  }
}

TEST_CASE("a denial carries status, warnings and audit annotations", "[encoder]") {
  auto r = decode_ok(fixture("pod-create.json"));
  admission_response denied;
  denied.allowed = false;
  denied.code = 403;
  denied.reason = "Forbidden";
  denied.message = "CIS 5.3.2: no";
  denied.warnings = {"first", "second"};
  denied.audit_annotations = {{"cis-5.3.2-violation", "v"}, {"cis-5.3.2-missing", "egress"}};
  auto out = encoded(r, denied);
  const auto& resp = out.at("response");
  CHECK(resp.at("allowed") == false);
  CHECK(resp.at("status").at("code") == 403);
  CHECK(resp.at("status").at("reason") == "Forbidden");
  CHECK(resp.at("status").at("message") == "CIS 5.3.2: no");
  CHECK(resp.at("warnings") == json{"first", "second"});
  CHECK(resp.at("auditAnnotations") ==
        json{{"cis-5.3.2-violation", "v"}, {"cis-5.3.2-missing", "egress"}});
}

TEST_CASE("encode escapes quotes, newlines and control characters", "[encoder]") {
  auto r = decode_ok(fixture("pod-create.json"));
  const std::string nasty =
      std::string("say \"hi\"\\ \n line\r\t") + '\x01' + '\x1f' + "\u00e9\u2028";
  admission_response resp;
  resp.allowed = false;
  resp.code = 403;
  resp.reason = "Forbidden";
  resp.message = nasty;
  resp.warnings = {nasty};
  resp.audit_annotations = {{"k", nasty}};
  const std::string body = encode_admission_review(r, resp);
  for (char c : body) {
    INFO("byte " << static_cast<int>(static_cast<unsigned char>(c)));
    CHECK(static_cast<unsigned char>(c) >= 0x20);
  }
  auto out = json::parse(body);
  CHECK(out.at("response").at("status").at("message") == nasty);
  CHECK(out.at("response").at("warnings").at(0) == nasty);
  CHECK(out.at("response").at("auditAnnotations").at("k") == nasty);
}

TEST_CASE("encode_error is a small JSON document", "[encoder]") {
  auto out = json::parse(encode_error("missing_uid", "no \"uid\"\n"));
  CHECK(out.at("error") == "no \"uid\"\n");
  CHECK(out.at("reason") == "missing_uid");
}
