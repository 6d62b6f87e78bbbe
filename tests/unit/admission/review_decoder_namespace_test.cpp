#include "netpol_guard/admission/review_decoder.hpp"

// The decoder on what governance reads: the requester's groups, and the
// netpol-guard label and annotations of a Namespace's object and oldObject.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "netpol_guard/netpol/rules.hpp"
#include "review_fixtures.hpp"

using namespace netpol_guard;
using namespace review_fixtures;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

const std::string mode_key(rules::mode_label);
const std::string exempt_key(rules::exempt_annotation);
const std::string reason_key(rules::exempt_reason_annotation);
const std::string until_key(rules::exempt_until_annotation);

json namespace_update() { return fixture("namespace-update.json"); }

}  // namespace

TEST_CASE("userInfo.groups are read in order", "[decoder][groups]") {
  SECTION("the fixture's groups") {
    auto r = decode_ok(namespace_update());
    CHECK(r.username == "alice");
    CHECK(r.groups == std::vector<std::string>{"team-a-owners", "system:authenticated"});
  }
  SECTION("an empty array, null and an absent key leave no groups") {
    for (const char* groups : {"[]", "null", ""}) {
      INFO("groups: " << groups);
      auto review = namespace_update();
      if (std::string(groups).empty()) {
        review["request"]["userInfo"].erase("groups");
      } else {
        review["request"]["userInfo"]["groups"] = json::parse(groups);
      }
      CHECK(decode_ok(review).groups.empty());
    }
  }
  SECTION("a Pod request carries its groups too") {
    auto r = decode_ok(fixture("pod-create.json"));
    CHECK_FALSE(r.groups.empty());
  }
  SECTION("a repeated group is kept as sent") {
    auto review = namespace_update();
    review["request"]["userInfo"]["groups"] = {"system:masters", "system:masters"};
    CHECK(decode_ok(review).groups.size() == 2);
  }
}

TEST_CASE("userInfo.groups of the wrong type is wrong_type", "[decoder][groups]") {
  for (const char* groups : {R"("system:masters")", "42", "true", R"({"a":"system:masters"})",
                             R"(["system:masters", 1])", R"(["system:masters", null])",
                             R"([["system:masters"]])", R"([{"name":"system:masters"}])"}) {
    INFO("groups: " << groups);
    auto review = namespace_update();
    review["request"]["userInfo"]["groups"] = json::parse(groups);
    auto err = decode_fails(review.dump());
    CHECK(err.reason == "wrong_type");
    CHECK(err.message == "request.userInfo.groups: expected an array of strings");
  }
}

TEST_CASE("a repeated userInfo.groups key is duplicate_key", "[decoder][groups]") {
  const std::string body = namespace_update().dump();
  for (const char* extra : {R"("groups":["system:masters"],)", R"("groups":null,)"}) {
    INFO("extra: " << extra);
    auto err = decode_fails(insert_after(body, R"("userInfo":{)", extra));
    CHECK(err.reason == "duplicate_key");
    CHECK_THAT(err.message, Contains("request.userInfo.groups"));
  }
}

TEST_CASE("a Namespace's netpol-guard keys are read from object and oldObject",
          "[decoder][namespace]") {
  auto review = namespace_update();
  auto& obj = review["request"]["object"]["metadata"];
  obj["labels"][mode_key] = "warn";
  obj["annotations"][exempt_key] = "ingress";
  obj["annotations"][reason_key] = "migrating the ingress controller";
  obj["annotations"][until_key] = "2026-07-01T00:00:00Z";
  review["request"]["oldObject"]["metadata"]["labels"][mode_key] = "enforce";

  auto r = decode_ok(review);
  CHECK(r.object.keys.mode == "warn");
  CHECK(r.object.keys.exempt == "ingress");
  CHECK(r.object.keys.reason == "migrating the ingress controller");
  CHECK(r.object.keys.until == "2026-07-01T00:00:00Z");
  CHECK(r.old_object.keys == namespace_keys{"enforce", {}, {}, {}});
  // Other labels and annotations are not netpol-guard keys.
  CHECK_FALSE(decode_ok(namespace_update()).object.keys.any());
}

TEST_CASE("a Namespace's keys are read when metadata comes before resource",
          "[decoder][namespace]") {
  // The apiserver sends request.resource first; a body in another order decodes the same.
  json metadata = {{"name", "team-a"},
                   {"labels", {{mode_key, "enforce"}}},
                   {"annotations", {{exempt_key, "all"}}}};
  const std::string body =
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1",)"
      R"("object":{"metadata":)" +
      metadata.dump() +
      R"(},"operation":"CREATE","userInfo":{"username":"root","groups":["system:masters"]},)"
      R"("kind":{"group":"","version":"v1","kind":"Namespace"},)"
      R"("resource":{"group":"","version":"v1","resource":"namespaces"}}})";
  auto r = decode_body(body);
  CHECK(r.resource == "namespaces");
  CHECK(r.object.name == "team-a");
  CHECK(r.object.keys == namespace_keys{"enforce", "all", {}, {}});
  CHECK(r.groups == std::vector<std::string>{"system:masters"});
}

TEST_CASE("a Pod body keeps no namespace keys, in any order", "[decoder][namespace]") {
  auto review = fixture("pod-create.json");
  review["request"]["object"]["metadata"]["labels"][mode_key] = "warn";
  review["request"]["object"]["metadata"]["annotations"][exempt_key] = "all";
  CHECK_FALSE(decode_ok(review).object.keys.any());

  // Metadata before resource: captured while the resource is unknown, then dropped.
  const std::string body =
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u2",)"
      R"("object":{"metadata":{"name":"web","labels":{")" +
      mode_key + R"(":"warn"},"annotations":{")" + exempt_key +
      R"(":7}}},"operation":"CREATE",)"
      R"("resource":{"group":"","version":"v1","resource":"pods"}}})";
  auto r = decode_body(body);  // a Pod's annotation of any type is not read
  CHECK_FALSE(r.object.keys.any());
  CHECK(r.object.content.empty());
}

TEST_CASE("a Namespace's labels or annotations of the wrong type are wrong_type",
          "[decoder][namespace]") {
  struct bad {
    const char* side;
    const char* member;
    json value;
    const char* message;
  };
  const std::vector<bad> cases = {
      {"object", "labels", json::array({"a"}),
       "request.object.metadata.labels: expected an object"},
      {"oldObject", "annotations", "x",
       "request.oldObject.metadata.annotations: expected an object"},
      {"object", "labels", {{mode_key, 1}}, nullptr},
      {"object", "labels", {{mode_key, nullptr}}, nullptr},
      {"object", "annotations", {{exempt_key, {{"all", true}}}}, nullptr},
      {"oldObject", "annotations", {{until_key, json::array()}}, nullptr},
      {"object", "annotations", {{reason_key, false}}, nullptr},
  };
  for (const auto& c : cases) {
    INFO(c.side << ".metadata." << c.member << " = " << c.value.dump());
    auto review = namespace_update();
    review["request"][c.side]["metadata"][c.member] = c.value;
    auto err = decode_fails(review.dump());
    CHECK(err.reason == "wrong_type");
    if (c.message != nullptr) {
      CHECK(err.message == c.message);
    } else {
      const std::string key = c.value.begin().key();
      CHECK(err.message == "request." + std::string(c.side) + ".metadata." + c.member + "[\"" +
                               key + "\"]: expected a string");
    }
  }
  SECTION("other labels of any type, and null members, are not its business") {
    auto review = namespace_update();
    review["request"]["object"]["metadata"]["labels"]["team"] = 3;
    review["request"]["oldObject"]["metadata"]["annotations"] = nullptr;
    auto r = decode_ok(review);
    CHECK_FALSE(r.object.keys.any());
    CHECK_FALSE(r.old_object.keys.any());
  }
}

TEST_CASE("a repeated netpol-guard label keeps the last value", "[decoder][namespace]") {
  // As the apiserver's own decoder does; the webhook judges what will be stored.
  const std::string body = namespace_update().dump();
  const std::string extra = "\"" + mode_key + "\":\"enforce\",\"" + mode_key + "\":\"warn\",";
  auto r = decode_body(insert_after(body, R"("labels":{)", extra));
  CHECK(r.object.keys.mode == "warn");
}
