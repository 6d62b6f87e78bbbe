#include "netpol_guard/admission/codec.hpp"
#include "netpol_guard/admission/failure_answer.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <variant>

using namespace netpol_guard;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

json fixture(const std::string& name) {
  std::ifstream in(std::string(NETPOL_GUARD_FIXTURES) + "/admission/" + name);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

admission_request decode_body(std::string_view body) {
  auto decoded = decode_admission_review(body);
  if (auto* err = std::get_if<codec_error>(&decoded)) {
    FAIL("decode failed: " << err->reason << ": " << err->message);
  }
  return std::get<admission_request>(std::move(decoded));
}

admission_request decode_ok(const json& review) {
  const std::string body = review.dump();
  return decode_body(body);
}

codec_error decode_fails(std::string_view body) {
  auto decoded = decode_admission_review(body);
  REQUIRE(std::holds_alternative<codec_error>(decoded));
  auto err = std::get<codec_error>(decoded);
  CHECK(answer_failure(err.reason, err.message).status == 400);
  CHECK_FALSE(err.reason.empty());
  CHECK_FALSE(err.message.empty());
  return err;
}

// `body` with `text` inserted right after the first `marker` (found after `after`).
std::string insert_after(std::string body, std::string_view marker, std::string_view text,
                         std::string_view after = {}) {
  std::size_t from = 0;
  if (!after.empty()) {
    from = body.find(after);
    REQUIRE(from != std::string::npos);
  }
  auto at = body.find(marker, from);
  REQUIRE(at != std::string::npos);
  body.insert(at + marker.size(), text);
  return body;
}

// The review's JSON text with the string value "@@" replaced by raw `text`.
std::string with_raw(json review, const std::string& pointer, const std::string& text) {
  review[json::json_pointer(pointer)] = "@@";
  std::string body = review.dump();
  auto at = body.find("\"@@\"");
  REQUIRE(at != std::string::npos);
  body.replace(at, 4, text);
  return body;
}

json encoded(const admission_request& r, const admission_response& resp) {
  return json::parse(encode_admission_review(r, resp));
}

}  // namespace

TEST_CASE("a Pod CREATE review decodes into the fields the decision reads", "[codec]") {
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

TEST_CASE("decoded details: dryRun, generateName, subResource, deletionTimestamp", "[codec]") {
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
    REQUIRE(std::holds_alternative<codec_error>(decoded));
    CHECK(std::get<codec_error>(decoded).reason == "missing_object");
    const auto& err = std::get<codec_error>(decoded);
    CHECK(answer_failure(err.reason, err.message).status == 400);
  }
  SECTION("unknown fields anywhere are ignored") {
    review["request"]["somethingNew"] = {{"nested", {1, 2, 3}}};
    review["extra"] = "x";
    CHECK(decode_ok(review).uid == "705ab4f5-6393-11e8-b7cc-42010a800002");
  }
}

TEST_CASE("the answer echoes uid, apiVersion and kind", "[codec]") {
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

TEST_CASE("a denial carries status, warnings and audit annotations", "[codec]") {
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

TEST_CASE("encode escapes quotes, newlines and control characters", "[codec]") {
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

  std::string s;
  append_json_string(s, "a\"b\\c\nd\x02");
  CHECK(s == "\"a\\\"b\\\\c\\nd\\u0002\"");
}

TEST_CASE("encode_error is a small JSON document", "[codec]") {
  auto out = json::parse(encode_error("missing_uid", "no \"uid\"\n"));
  CHECK(out.at("error") == "no \"uid\"\n");
  CHECK(out.at("reason") == "missing_uid");
}

TEST_CASE("missing request, uid or operation are clear 400s", "[codec]") {
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

TEST_CASE("malformed or truncated JSON", "[codec]") {
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

TEST_CASE("a body that is not an AdmissionReview", "[codec]") {
  SECTION("not an object") {
    for (const char* body : {"[]", "[1,2]", "\"AdmissionReview\"", "null", "42", "true"}) {
      INFO(body);
      CHECK(decode_fails(body).reason == "not_admission_review");
    }
  }
  SECTION("an object without kind") {
    CHECK(decode_fails("{}").reason == "not_admission_review");
  }
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

TEST_CASE("wrongly typed fields that the decision reads are errors", "[codec]") {
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

TEST_CASE("duplicate keys of read fields are errors", "[codec]") {
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

TEST_CASE("nesting deeper than max_json_depth is refused", "[codec]") {
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

TEST_CASE("invalid UTF-8 is refused", "[codec]") {
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

TEST_CASE("a several-MB string in an unread field is fine", "[codec]") {
  auto review = fixture("pod-create.json");
  review["request"]["object"]["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied"] =
      std::string(6 * 1024 * 1024, 'x');
  const std::string body = review.dump();
  REQUIRE(body.size() > 6 * 1024 * 1024);
  auto r = decode_body(body);
  CHECK(r.uid == "705ab4f5-6393-11e8-b7cc-42010a800002");
  CHECK(r.object.name == "web");
}

TEST_CASE("NetworkPolicy spec facts are extracted from object and oldObject", "[codec]") {
  SECTION("UPDATE: both sides") {
    auto review = fixture("networkpolicy-update.json");
    review["request"]["object"]["spec"] = json::parse(
        R"({"podSelector":{"matchLabels":{"app":"web"}},"policyTypes":["Ingress"],
            "ingress":[{}],"egress":[]})");
    auto r = decode_ok(review);
    REQUIRE(r.object.policy);
    CHECK_FALSE(r.object.policy->selects_all_pods);
    CHECK(r.object.policy->has_policy_types);
    CHECK(r.object.policy->lists_ingress_type);
    CHECK_FALSE(r.object.policy->lists_egress_type);
    CHECK(r.object.policy->ingress == rule_list::non_empty);
    CHECK(r.object.policy->egress == rule_list::empty);
    CHECK(coverage_of(*r.object.policy) == deny_all_coverage{false, false});

    REQUIRE(r.old_object.policy);
    CHECK(r.old_object.policy->selects_all_pods);
    CHECK(coverage_of(*r.old_object.policy) == deny_all_coverage{true, true});
    CHECK(r.name == "default-deny-all");
    CHECK(r.old_object.name == "default-deny-all");
  }
  SECTION("DELETE: oldObject only") {
    auto r = decode_ok(fixture("networkpolicy-delete.json"));
    CHECK_FALSE(r.object.present);
    CHECK_FALSE(r.object.policy);
    REQUIRE(r.old_object.policy);
    CHECK(coverage_of(*r.old_object.policy) == deny_all_coverage{true, true});
  }
  SECTION("every empty selector form and the defaulting trap") {
    auto review = fixture("networkpolicy-update.json");
    review["request"]["object"]["spec"] =
        json::parse(R"({"podSelector":{"matchLabels":null,"matchExpressions":[]},"egress":[]})");
    auto r = decode_ok(review);
    REQUIRE(r.object.policy);
    CHECK(r.object.policy->selects_all_pods);
    CHECK(coverage_of(*r.object.policy) == deny_all_coverage{true, false});
  }
  SECTION("a spec without the members is the defaulted empty spec") {
    auto review = fixture("networkpolicy-update.json");
    review["request"]["object"]["spec"] = json::object();
    auto r = decode_ok(review);
    REQUIRE(r.object.policy);
    CHECK(coverage_of(*r.object.policy) == deny_all_coverage{true, false});
  }
  SECTION("rules with content are captured whole") {
    auto review = fixture("networkpolicy-update.json");
    review["request"]["object"]["spec"]["egress"] = json::parse(
        R"([{"to":[{"ipBlock":{"cidr":"10.0.0.0/8","except":["10.1.0.0/16"]}}],
             "ports":[{"port":53,"protocol":"UDP"}]}])");
    auto r = decode_ok(review);
    REQUIRE(r.object.policy);
    CHECK(r.object.policy->egress == rule_list::non_empty);
    CHECK(coverage_of(*r.object.policy) == deny_all_coverage{true, false});
  }
}

TEST_CASE("a NetworkPolicy spec member of the wrong type is an error naming the field",
          "[codec]") {
  struct bad_case {
    const char* side;
    const char* pointer;
    json value;
    const char* field;
  };
  const bad_case cases[] = {
      {"object", "/request/object/spec/ingress", "all", "ingress"},
      {"object", "/request/object/spec/egress", {{"to", 1}}, "egress"},
      {"object", "/request/object/spec/podSelector", "app=web", "podSelector"},
      {"object", "/request/object/spec/policyTypes", "Ingress", "policyTypes"},
      {"oldObject", "/request/oldObject/spec/podSelector/matchLabels", json::array(),
       "matchLabels"},
      {"oldObject", "/request/oldObject/spec/policyTypes", {1}, "policyTypes"},
  };
  for (const auto& c : cases) {
    SECTION(std::string(c.pointer) + " = " + c.value.dump()) {
      auto review = fixture("networkpolicy-update.json");
      review[json::json_pointer(c.pointer)] = c.value;
      auto err = decode_fails(review.dump());
      CHECK(err.reason == "wrong_type");
      CHECK_THAT(err.message,
                 Contains(std::string("request.") + c.side + ".spec") && Contains(c.field));
    }
  }
}

TEST_CASE("a duplicate key inside a captured NetworkPolicy selector is an error", "[codec]") {
  const std::string body = fixture("networkpolicy-update.json").dump();
  auto err =
      decode_fails(insert_after(body, R"("podSelector":{)", R"("matchLabels":{"a":"1","a":"2"})"));
  CHECK(err.reason == "duplicate_key");
}

TEST_CASE("a duplicate NetworkPolicy spec member is an error", "[codec]") {
  // {"ingress":[{}],"ingress":[]}: a reader that keeps the first sees an
  // allow-all rule, one that keeps the last sees a deny-all.
  const std::string body = fixture("networkpolicy-update.json").dump();
  for (const char* side : {R"("object":{)", R"("oldObject":{)"}) {
    SECTION(side) {
      auto err =
          decode_fails(insert_after(body, R"("spec":{)", R"("ingress":[{}],"ingress":[],)", side));
      CHECK(err.reason == "duplicate_key");
      CHECK_THAT(err.message, Contains("ingress"));
    }
  }
}

TEST_CASE("spec members of other kinds are not read, whatever their type", "[codec]") {
  // Only NetworkPolicy specs are policies; another kind's spec may have a
  // string, a number or an object under the same names.
  for (const char* file : {"pod-create.json", "deployment-create.json"}) {
    for (const json& value : {json("a string"), json(3), json(json::object()), json(true)}) {
      SECTION(std::string(file) + " spec.ingress = " + value.dump()) {
        auto review = fixture(file);
        review["request"]["object"]["spec"]["ingress"] = value;
        review["request"]["object"]["spec"]["podSelector"] = value;
        auto r = decode_ok(review);
        CHECK(r.uid == review["request"]["uid"].get<std::string>());
        CHECK_FALSE(r.object.policy);
      }
    }
  }
}

TEST_CASE("NetworkPolicy creationTimestamp and content are read from both objects", "[codec]") {
  auto review = fixture("networkpolicy-update.json");
  auto& req = review["request"];
  req["object"]["metadata"]["creationTimestamp"] = "2026-01-02T03:04:05Z";
  req["oldObject"]["metadata"]["creationTimestamp"] = "2026-01-02T03:04:05Z";
  req["oldObject"]["metadata"]["labels"] = req["object"]["metadata"]["labels"];
  req["oldObject"]["metadata"]["finalizers"] = {"example.com/hold"};
  req["oldObject"]["metadata"]["resourceVersion"] = "1";
  req["object"]["metadata"]["managedFields"] = json::array({{{"manager", "kubectl"}}});
  auto r = decode_ok(review);
  CHECK(r.object.created == "2026-01-02T03:04:05Z");
  CHECK(r.old_object.created == "2026-01-02T03:04:05Z");
  SECTION("finalizers and bookkeeping are not content") {
    CHECK_FALSE(r.object.content.empty());
    CHECK(r.object.content == r.old_object.content);
  }
  SECTION("spec, labels, annotations and ownerReferences are") {
    for (const char* path : {"/spec/ingress", "/metadata/labels/extra", "/metadata/annotations",
                             "/metadata/ownerReferences"}) {
      INFO(path);
      auto changed = review;
      changed["request"]["object"][json::json_pointer(path)] = json::array();
      CHECK(decode_ok(changed).object.content != r.old_object.content);
    }
  }
  SECTION("a creationTimestamp that is not a string is a 400") {
    auto bad = review;
    bad["request"]["oldObject"]["metadata"]["creationTimestamp"] = 12;
    auto err = decode_fails(bad.dump());
    CHECK(err.reason == "wrong_type");
    CHECK_THAT(err.message, Contains("request.oldObject.metadata.creationTimestamp"));
  }
}

TEST_CASE("a Pod's labels are not kept, and never a duplicate-key error", "[codec]") {
  auto review = fixture("pod-create.json");
  auto r = decode_ok(review);
  CHECK(r.object.content.empty());
  // Out of the apiserver's order (object before resource) the labels are kept
  // for a moment, with the last of two duplicate keys winning.
  const std::string body = R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",
    "request":{"uid":"u","operation":"CREATE","namespace":"n","object":{"metadata":{"name":"p",
    "labels":{"a":"1","a":"2"}}},"resource":{"group":"","version":"v1","resource":"pods"}}})";
  auto p = decode_body(body);
  CHECK(p.object.name == "p");
  CHECK_FALSE(p.object.policy);
}
