#include "netpol_guard/admission/review_decoder.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <variant>

#include "netpol_guard/admission/failure_answer.hpp"
#include "review_fixtures.hpp"

using namespace netpol_guard;
using namespace review_fixtures;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

// The review's JSON text with the string value "@@" replaced by raw `text`.
std::string with_raw(json review, const std::string& pointer, const std::string& text) {
  review[json::json_pointer(pointer)] = "@@";
  std::string body = review.dump();
  auto at = body.find("\"@@\"");
  REQUIRE(at != std::string::npos);
  body.replace(at, 4, text);
  return body;
}

}  // namespace

TEST_CASE("a Pod CREATE review decodes into the fields the decision reads", "[decoder]") {
  auto r = decode_ok(fixture("pod-create.json"));
  CHECK(r.version == review_version::v1);
  CHECK(r.uid == "705ab4f5-6393-11e8-b7cc-42010a800002");
  CHECK(r.kind_group.empty());
  CHECK(r.kind_version == "v1");
  CHECK(r.kind == "Pod");
  CHECK(r.resource_group.empty());
  CHECK(r.resource_version == "v1");
  CHECK(r.resource == "pods");
  CHECK(r.sub_resource.empty());
  CHECK(r.name == "web");
  CHECK(r.namespace_name == "team-c");
  CHECK(r.operation == "CREATE");
  CHECK(r.username == "alice");
  CHECK_FALSE(r.dry_run);
  CHECK(r.object.present);
  CHECK(r.object.name == "web");
  CHECK(r.object.namespace_name == "team-c");
  CHECK_FALSE(r.object.deleting);
  CHECK_FALSE(r.object.policy);
  CHECK_FALSE(r.old_object.present);
}

TEST_CASE("decoded details: dryRun, generateName, subResource, deletionTimestamp", "[decoder]") {
  auto review = fixture("pod-create.json");
  SECTION("dryRun true") {
    review["request"]["dryRun"] = true;
    CHECK(decode_ok(review).dry_run);
  }
  SECTION("dryRun null is unset") {
    review["request"]["dryRun"] = nullptr;
    CHECK_FALSE(decode_ok(review).dry_run);
  }
  SECTION("generateName with an empty request name") {
    review["request"]["name"] = "";
    review["request"]["object"]["metadata"].erase("name");
    review["request"]["object"]["metadata"]["generateName"] = "web-";
    auto r = decode_ok(review);
    CHECK(r.name.empty());
    CHECK(r.object.name.empty());
    CHECK(r.object.generate_name == "web-");
  }
  SECTION("subResource") {
    review["request"]["subResource"] = "ephemeralcontainers";
    CHECK(decode_ok(review).sub_resource == "ephemeralcontainers");
  }
  SECTION("deletionTimestamp on object and oldObject") {
    review["request"]["object"]["metadata"]["deletionTimestamp"] = "2024-05-01T10:00:00Z";
    review["request"]["oldObject"] = review["request"]["object"];
    auto r = decode_ok(review);
    CHECK(r.object.deleting);
    CHECK(r.old_object.present);
    CHECK(r.old_object.deleting);
    CHECK(r.old_object.name == "web");
  }
  SECTION("deletionTimestamp null is not deleting") {
    review["request"]["object"]["metadata"]["deletionTimestamp"] = nullptr;
    CHECK_FALSE(decode_ok(review).object.deleting);
  }
  SECTION("object null is not present: fine for DELETE") {
    review["request"]["operation"] = "DELETE";
    review["request"]["object"] = nullptr;
    CHECK_FALSE(decode_ok(review).object.present);
  }
  SECTION("object null on CREATE is a 400") {
    review["request"]["object"] = nullptr;
    auto decoded = decode_admission_review(review.dump());
    REQUIRE(decoded.has_error());
    CHECK(decoded.error().reason == "missing_object");
    const auto& err = decoded.error();
    CHECK(answer_failure(err.reason, err.message).status == 400);
  }
  SECTION("unknown fields anywhere are ignored") {
    review["request"]["somethingNew"] = {{"nested", {1, 2, 3}}};
    review["extra"] = "x";
    CHECK(decode_ok(review).uid == "705ab4f5-6393-11e8-b7cc-42010a800002");
  }
}

TEST_CASE("missing request, uid or operation are clear 400s", "[decoder]") {
  auto review = fixture("pod-create.json");
  SECTION("no request") {
    review.erase("request");
    auto err = decode_fails(review.dump());
    CHECK(err.reason == "missing_request");
    CHECK_THAT(err.message, Contains("request"));
  }
  SECTION("request null") {
    review["request"] = nullptr;
    CHECK(decode_fails(review.dump()).reason == "missing_request");
  }
  SECTION("no uid") {
    review["request"].erase("uid");
    auto err = decode_fails(review.dump());
    CHECK(err.reason == "missing_uid");
    CHECK_THAT(err.message, Contains("uid"));
  }
  SECTION("empty uid") {
    review["request"]["uid"] = "";
    CHECK(decode_fails(review.dump()).reason == "missing_uid");
  }
  SECTION("uid null") {
    review["request"]["uid"] = nullptr;
    CHECK(decode_fails(review.dump()).reason == "missing_uid");
  }
  SECTION("no operation") {
    review["request"].erase("operation");
    auto err = decode_fails(review.dump());
    CHECK(err.reason == "missing_operation");
    CHECK_THAT(err.message, Contains("operation"));
  }
}

TEST_CASE("malformed or truncated JSON", "[decoder]") {
  const std::string full = fixture("pod-create.json").dump();
  const std::string bodies[] = {
      "",
      " ",
      "{",
      "{\"apiVersion\":}",
      "{'apiVersion':'admission.k8s.io/v1'}",
      full.substr(0, full.size() / 2),
      full.substr(0, full.size() - 1),
      full + " trailing",
      full + "{}",
      "{\"a\":NaN}",
      "{\"a\":1,}",
      "/* comment */" + full,
  };
  for (std::size_t i = 0; i < std::size(bodies); ++i) {
    SECTION("body " + std::to_string(i)) {
      auto err = decode_fails(bodies[i]);
      CHECK(err.reason == "malformed_json");
      CHECK_THAT(err.message, Contains("JSON"));
    }
  }
}

TEST_CASE("a body that is not an AdmissionReview", "[decoder]") {
  SECTION("not an object") {
    for (const char* body : {"[]", "[1,2]", "\"AdmissionReview\"", "null", "42", "true"}) {
      INFO(body);
      CHECK(decode_fails(body).reason == "not_admission_review");
    }
  }
  SECTION("an object without kind") { CHECK(decode_fails("{}").reason == "not_admission_review"); }
  auto review = fixture("pod-create.json");
  SECTION("wrong kind") {
    review["kind"] = "Pod";
    auto err = decode_fails(review.dump());
    CHECK(err.reason == "not_admission_review");
    CHECK_THAT(err.message, Contains("AdmissionReview"));
  }
  SECTION("wrong apiVersion") {
    review["apiVersion"] = "admission.k8s.io/v2";
    auto err = decode_fails(review.dump());
    CHECK(err.reason == "unsupported_version");
    CHECK_THAT(err.message, Contains("admission.k8s.io/v2"));
  }
  SECTION("missing apiVersion") {
    review.erase("apiVersion");
    CHECK(decode_fails(review.dump()).reason == "unsupported_version");
  }
}

TEST_CASE("wrongly typed fields that the decision reads are errors", "[decoder]") {
  struct bad_case {
    const char* pointer;
    json value;
  };
  const bad_case cases[] = {
      {"/apiVersion", 1},
      {"/kind", json::object()},
      {"/request", json::array()},
      {"/request", "request"},
      {"/request/uid", 42},
      {"/request/uid", json::object()},
      {"/request/uid", true},
      {"/request/name", json::array()},
      {"/request/namespace", json::object()},
      {"/request/operation", true},
      {"/request/subResource", 0},
      {"/request/dryRun", "false"},
      {"/request/dryRun", 0},
      {"/request/dryRun", json::object()},
      {"/request/kind", "Pod"},
      {"/request/kind/kind", 1},
      {"/request/resource", json::array()},
      {"/request/resource/resource", json::array()},
      {"/request/resource/group", false},
      {"/request/userInfo", "alice"},
      {"/request/userInfo/username", {{"a", 1}}},
      {"/request/object", "pod"},
      {"/request/object", json::array()},
      {"/request/object/metadata", json::array()},
      {"/request/object/metadata/name", 7},
      {"/request/object/metadata/namespace", json::array()},
      {"/request/object/metadata/generateName", 1.5},
      {"/request/object/metadata/deletionTimestamp", 5},
      {"/request/oldObject", 3},
  };
  auto review = fixture("pod-create.json");
  for (const auto& c : cases) {
    SECTION(std::string(c.pointer) + " = " + c.value.dump()) {
      review[json::json_pointer(c.pointer)] = c.value;
      auto err = decode_fails(review.dump());
      CHECK(err.reason == "wrong_type");
      // The message names the field, as a dotted path.
      std::string path = std::string(c.pointer).substr(1);
      for (auto& ch : path) ch = ch == '/' ? '.' : ch;
      CHECK_THAT(err.message, Contains(path));
    }
  }
}

TEST_CASE("duplicate keys of read fields are errors", "[decoder]") {
  const std::string body = fixture("pod-create.json").dump();
  struct dup_case {
    const char* name;
    const char* marker;
    const char* text;
    const char* after;
  };
  const dup_case cases[] = {
      {"apiVersion", "{", R"("apiVersion":"admission.k8s.io/v1",)", ""},
      {"kind", "{", R"("kind":"AdmissionReview",)", ""},
      {"request", "{", R"("request":{"uid":"x","operation":"CREATE"},)", ""},
      {"uid", R"("request":{)", R"("uid":"smuggled",)", ""},
      {"namespace", R"("request":{)", R"("namespace":"kube-system",)", ""},
      {"name", R"("request":{)", R"("name":"other",)", ""},
      {"operation", R"("request":{)", R"("operation":"DELETE",)", ""},
      {"dryRun", R"("request":{)", R"("dryRun":true,)", ""},
      {"subResource", R"("request":{)", R"("subResource":"status","subResource":"",)", ""},
      {"resource", R"("request":{)", R"("resource":{"group":"","resource":"configmaps"},)", ""},
      {"resource.resource", R"("resource":{)", R"("resource":"configmaps",)", R"("request":{)"},
      {"object", R"("request":{)", R"("object":{},)", ""},
      {"object.metadata", R"("object":{)", R"("metadata":{},)", ""},
      {"object.metadata.name", R"("metadata":{)", R"("name":"other",)", R"("object":{)"},
      {"object.metadata.namespace", R"("metadata":{)", R"("namespace":"kube-system",)",
       R"("object":{)"},
      {"userInfo.username", R"("userInfo":{)", R"("username":"system:admin",)", ""},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      auto err = decode_fails(insert_after(body, c.marker, c.text, c.after));
      CHECK(err.reason == "duplicate_key");
      CHECK_THAT(err.message, Contains("duplicate"));
    }
  }
  SECTION("duplicates in fields nobody reads are left alone") {
    auto r = decode_body(insert_after(body, R"("options":{)", R"("kind":"X",)"));
    CHECK(r.uid == "705ab4f5-6393-11e8-b7cc-42010a800002");
    auto labels = decode_body(insert_after(body, R"("labels":{)", R"("app":"other",)"));
    CHECK(labels.name == "web");
  }
}

TEST_CASE("nesting deeper than max_json_depth is refused", "[decoder]") {
  auto review = fixture("pod-create.json");
  auto nested = [&](std::size_t n) {
    return with_raw(review, "/request/options", std::string(n, '[') + std::string(n, ']'));
  };
  SECTION("100000 levels, in a field nobody reads") {
    auto err = decode_fails(nested(100000));
    CHECK(err.reason == "too_deep");
    CHECK_THAT(err.message, Contains(std::to_string(max_json_depth)));
  }
  SECTION("100000 levels of objects") {
    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += "{\"a\":";
    deep += "1";
    deep += std::string(100000, '}');
    CHECK(decode_fails(with_raw(review, "/request/object/spec", deep)).reason == "too_deep");
  }
  SECTION("the limit itself is accepted, one more is not") {
    // root (1) > request (2) > options: n arrays reach depth 2 + n.
    CHECK(decode_body(nested(max_json_depth - 2)).operation == "CREATE");
    CHECK(decode_fails(nested(max_json_depth - 1)).reason == "too_deep");
  }
}

TEST_CASE("invalid UTF-8 is refused", "[decoder]") {
  auto review = fixture("pod-create.json");
  const std::string bad[] = {
      "\"\xff\"",          // not UTF-8 at all
      "\"\xc3\"",          // truncated sequence
      "\"\xc0\xaf\"",      // overlong '/'
      "\"\xed\xa0\x80\"",  // encoded surrogate
      "\"\\ud800\"",       // lone surrogate escape
  };
  for (std::size_t i = 0; i < std::size(bad); ++i) {
    SECTION("case " + std::to_string(i) + " in uid") {
      CHECK(decode_fails(with_raw(review, "/request/uid", bad[i])).reason == "malformed_json");
    }
    SECTION("case " + std::to_string(i) + " in an unread label") {
      CHECK(decode_fails(with_raw(review, "/request/object/metadata/labels/x", bad[i])).reason ==
            "malformed_json");
    }
  }
  SECTION("valid multi-byte text is fine") {
    review["request"]["object"]["metadata"]["annotations"]["note"] = "\u00e9\u4e2d\U0001F600";
    CHECK(decode_ok(review).uid == "705ab4f5-6393-11e8-b7cc-42010a800002");
  }
}

TEST_CASE("a several-MB string in an unread field is fine", "[decoder]") {
  auto review = fixture("pod-create.json");
  review["request"]["object"]["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied"] =
      std::string(6 * 1024 * 1024, 'x');
  const std::string body = review.dump();
  REQUIRE(body.size() > 6 * 1024 * 1024);
  auto r = decode_body(body);
  CHECK(r.uid == "705ab4f5-6393-11e8-b7cc-42010a800002");
  CHECK(r.object.name == "web");
}
