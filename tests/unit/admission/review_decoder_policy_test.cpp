#include "netpol_guard/admission/failure_answer.hpp"
#include "netpol_guard/admission/review_decoder.hpp"

// The decoder on NetworkPolicy requests: the spec members and metadata it keeps.

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <variant>

#include "review_fixtures.hpp"

using namespace netpol_guard;
using namespace review_fixtures;
using Catch::Matchers::Contains;
using nlohmann::json;

TEST_CASE("NetworkPolicy spec facts are extracted from object and oldObject", "[decoder]") {
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
          "[decoder]") {
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

TEST_CASE("a duplicate key inside a captured NetworkPolicy selector is an error", "[decoder]") {
  const std::string body = fixture("networkpolicy-update.json").dump();
  auto err =
      decode_fails(insert_after(body, R"("podSelector":{)", R"("matchLabels":{"a":"1","a":"2"})"));
  CHECK(err.reason == "duplicate_key");
}

TEST_CASE("a duplicate NetworkPolicy spec member is an error", "[decoder]") {
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

TEST_CASE("spec members of other kinds are not read, whatever their type", "[decoder]") {
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

TEST_CASE("NetworkPolicy creationTimestamp and content are read from both objects", "[decoder]") {
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

TEST_CASE("a Pod's labels are not kept, and never a duplicate-key error", "[decoder]") {
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
