#include "netpol_guard/netpol/policy.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "netpol_guard/netpol/namespace_snapshot.hpp"

using namespace netpol_guard;
using nlohmann::json;

namespace {

constexpr deny_all_coverage none{false, false};
constexpr deny_all_coverage ingress_only{true, false};
constexpr deny_all_coverage egress_only{false, true};
constexpr deny_all_coverage both{true, true};

deny_all_coverage of(const json& spec) {
  auto facts = facts_from_spec(spec);
  INFO("spec: " << spec.dump() << " error: " << (facts ? "" : facts.error()));
  REQUIRE(facts.has_value());
  return coverage_of(*facts);
}

deny_all_coverage of(const char* spec_json) { return of(json::parse(spec_json)); }

// The spec's error, or "" when it was accepted.
std::string error_of(const json& spec) {
  auto facts = facts_from_spec(spec);
  if (facts) return "";
  CHECK_FALSE(facts.error().empty());
  return facts.error();
}

}  // namespace

TEST_CASE("the template's default-deny-all denies both directions", "[netpol]") {
  CHECK(of(R"({"podSelector":{},"policyTypes":["Ingress","Egress"]})") == both);
}

TEST_CASE("every empty podSelector form selects all pods", "[netpol]") {
  // Reference §4.1: absent, {}, {matchLabels: {}}, {matchLabels: null},
  // {matchExpressions: []} all select every pod.
  const char* selectors[] = {
      R"(null)",
      R"({})",
      R"({"matchLabels":{}})",
      R"({"matchLabels":null})",
      R"({"matchExpressions":[]})",
      R"({"matchExpressions":null})",
      R"({"matchLabels":{},"matchExpressions":[]})",
  };
  for (const char* s : selectors) {
    SECTION(std::string("podSelector ") + s) {
      json spec = {{"policyTypes", {"Ingress", "Egress"}}};
      spec["podSelector"] = json::parse(s);
      CHECK(of(spec) == both);

      auto all = selector_selects_all(json::parse(s));
      REQUIRE(all);
      CHECK(*all);
    }
  }
  SECTION("podSelector absent") { CHECK(of(R"({"policyTypes":["Ingress","Egress"]})") == both); }
}

TEST_CASE("any label or expression narrows the podSelector", "[netpol]") {
  const char* selectors[] = {
      R"({"matchLabels":{"app":"web"}})",
      R"({"matchLabels":{"app":""}})",
      R"({"matchExpressions":[{"key":"app","operator":"Exists"}]})",
      R"({"matchExpressions":[{"key":"app","operator":"NotIn","values":["none"]}]})",
      R"({"matchLabels":{},"matchExpressions":[{"key":"tier","operator":"DoesNotExist"}]})",
      R"({"matchLabels":{"app":"web"},"matchExpressions":[]})",
  };
  for (const char* s : selectors) {
    SECTION(std::string("podSelector ") + s) {
      json spec = {{"policyTypes", {"Ingress", "Egress"}}};
      spec["podSelector"] = json::parse(s);
      CHECK(of(spec) == none);

      auto all = selector_selects_all(json::parse(s));
      REQUIRE(all);
      CHECK_FALSE(*all);
    }
  }
}

TEST_CASE("policyTypes defaulting when absent or empty", "[netpol]") {
  // Reference §4.2: ["Ingress"], plus "Egress" only when egress has a rule.
  SECTION("nothing but a podSelector denies ingress only") {
    CHECK(of(R"({"podSelector":{}})") == ingress_only);
  }
  SECTION("an empty spec denies ingress only") {
    CHECK(of(R"({})") == ingress_only);
    CHECK(of(json()) == ingress_only);
  }
  SECTION("the trap: egress [] without policyTypes does not isolate egress") {
    CHECK(of(R"({"podSelector":{},"egress":[]})") == ingress_only);
    CHECK(of(R"({"podSelector":{},"ingress":[],"egress":[]})") == ingress_only);
  }
  SECTION("empty policyTypes defaults the same way") {
    CHECK(of(R"({"podSelector":{},"policyTypes":[],"egress":[]})") == ingress_only);
    CHECK(of(R"({"podSelector":{},"policyTypes":null,"egress":[]})") == ingress_only);
  }
  SECTION("egress rules without policyTypes make Egress a type, but allow traffic") {
    CHECK(of(R"({"podSelector":{},"egress":[{}]})") == ingress_only);
    CHECK(of(R"({"podSelector":{},"egress":[{"to":[{"podSelector":{}}]}]})") == ingress_only);
  }
  SECTION("ingress rules without policyTypes leave nothing denied") {
    CHECK(of(R"({"podSelector":{},"ingress":[{}]})") == none);
  }
}

TEST_CASE("any rule at all means the direction is not a deny-all", "[netpol]") {
  SECTION("ingress [{}] allows everything") {
    CHECK(of(R"({"podSelector":{},"policyTypes":["Ingress","Egress"],"ingress":[{}]})") ==
          egress_only);
  }
  SECTION("a narrow-looking ingress rule still allows traffic") {
    CHECK(of(R"({"podSelector":{},"policyTypes":["Ingress","Egress"],
                 "ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"none"}}}]}]})") ==
          egress_only);
  }
  SECTION("egress [{}] allows everything") {
    CHECK(of(R"({"podSelector":{},"policyTypes":["Ingress","Egress"],"egress":[{}]})") ==
          ingress_only);
  }
  SECTION("an egress rule with only ports still allows traffic") {
    CHECK(of(R"({"podSelector":{},"policyTypes":["Ingress","Egress"],
                 "egress":[{"ports":[{"protocol":"UDP","port":53}]}]})") == ingress_only);
  }
  SECTION("rules in both directions deny nothing") {
    CHECK(of(R"({"podSelector":{},"policyTypes":["Ingress","Egress"],
                 "ingress":[{}],"egress":[{}]})") == none);
  }
  SECTION("empty and null rule lists deny") {
    CHECK(of(R"({"podSelector":{},"policyTypes":["Ingress","Egress"],
                 "ingress":[],"egress":[]})") == both);
    CHECK(of(R"({"podSelector":{},"policyTypes":["Ingress","Egress"],
                 "ingress":null,"egress":null})") == both);
  }
}

TEST_CASE("single-direction policies", "[netpol]") {
  SECTION("Egress-only policy denies egress only") {
    CHECK(of(R"({"podSelector":{},"policyTypes":["Egress"]})") == egress_only);
    CHECK(of(R"({"podSelector":{},"policyTypes":["Egress"],"egress":[]})") == egress_only);
  }
  SECTION("Egress-only policy ignores an ingress list: Ingress is not one of its types") {
    CHECK(of(R"({"podSelector":{},"policyTypes":["Egress"],"ingress":[]})") == egress_only);
  }
  SECTION("Ingress-only policy denies ingress only, even with egress []") {
    CHECK(of(R"({"podSelector":{},"policyTypes":["Ingress"]})") == ingress_only);
    CHECK(of(R"({"podSelector":{},"policyTypes":["Ingress"],"egress":[]})") == ingress_only);
  }
  SECTION("Egress type listed first or twice changes nothing") {
    CHECK(of(R"({"podSelector":{},"policyTypes":["Egress","Ingress"]})") == both);
    CHECK(of(R"({"podSelector":{},"policyTypes":["Egress","Egress"]})") == egress_only);
  }
  SECTION("a narrowed Egress-only policy denies nothing for the namespace") {
    CHECK(of(R"({"podSelector":{"matchLabels":{"app":"db"}},"policyTypes":["Egress"]})") == none);
  }
}

TEST_CASE("facts read from a spec", "[netpol]") {
  auto f = facts_from_spec(json::parse(R"({"podSelector":{"matchLabels":{"a":"b"}},
      "policyTypes":["Egress"],"ingress":[],"egress":[{}]})"));
  REQUIRE(f.has_value());
  CHECK_FALSE(f->selects_all_pods);
  CHECK(f->has_policy_types);
  CHECK_FALSE(f->lists_ingress_type);
  CHECK(f->lists_egress_type);
  CHECK(f->ingress == rule_list::empty);
  CHECK(f->egress == rule_list::non_empty);

  auto g = facts_from_spec(json::parse(R"({"policyTypes":[]})"));
  REQUIRE(g.has_value());
  CHECK(g->selects_all_pods);
  CHECK_FALSE(g->has_policy_types);
  CHECK(g->ingress == rule_list::absent);
  CHECK(g->egress == rule_list::absent);
}

TEST_CASE("two policies combine into a namespace's coverage", "[netpol]") {
  // Reference §4: one deny-ingress policy plus one deny-egress policy give a
  // full default deny; allow policies on top do not cancel it.
  namespace_index index;
  index.upsert_policy("team-a", "deny-in", of(R"({"podSelector":{},"policyTypes":["Ingress"]})"));
  CHECK(index.freeze("t")->coverage("team-a") == ingress_only);

  index.upsert_policy("team-a", "deny-out", of(R"({"podSelector":{},"policyTypes":["Egress"]})"));
  CHECK(index.freeze("t")->coverage("team-a") == both);

  index.upsert_policy("team-a", "allow-dns", of(R"({"podSelector":{},"policyTypes":["Egress"],
                             "egress":[{"ports":[{"protocol":"UDP","port":53}]}]})"));
  CHECK(index.freeze("t")->coverage("team-a") == both);

  SECTION("two half-policies that cover the same direction are not enough") {
    namespace_index other;
    other.upsert_policy("team-b", "a", of(R"({"podSelector":{},"egress":[]})"));
    other.upsert_policy("team-b", "b", of(R"({"podSelector":{},"policyTypes":["Ingress"]})"));
    CHECK(other.freeze("t")->coverage("team-b") == ingress_only);
  }
}

TEST_CASE("wrongly typed spec fields are errors that name the field", "[netpol]") {
  struct bad_case {
    const char* spec;
    const char* field;
  };
  const bad_case cases[] = {
      {R"([])", "spec"},
      {R"("deny")", "spec"},
      {R"({"podSelector":"all"})", "podSelector"},
      {R"({"podSelector":[]})", "podSelector"},
      {R"({"podSelector":{"matchLabels":[]}})", "matchLabels"},
      {R"({"podSelector":{"matchLabels":"app=web"}})", "matchLabels"},
      {R"({"podSelector":{"matchExpressions":{}}})", "matchExpressions"},
      {R"({"policyTypes":"Ingress"})", "policyTypes"},
      {R"({"policyTypes":[1]})", "policyTypes"},
      {R"({"policyTypes":["Ingress",null]})", "policyTypes"},
      {R"({"ingress":{}})", "ingress"},
      {R"({"ingress":"none"})", "ingress"},
      {R"({"egress":true})", "egress"},
      {R"({"egress":0})", "egress"},
  };
  for (const auto& c : cases) {
    SECTION(c.spec) {
      auto err = error_of(json::parse(c.spec));
      CHECK_THAT(err, Catch::Matchers::Contains(c.field));
    }
  }
  SECTION("selector_selects_all rejects a non-object selector") {
    auto all = selector_selects_all(json::array());
    CHECK_FALSE(all);
    CHECK_THAT(all.error(), Catch::Matchers::Contains("podSelector"));
  }
}

TEST_CASE("missing_directions names what a coverage lacks", "[netpol]") {
  CHECK(missing_directions(none) == "ingress and egress");
  CHECK(missing_directions(ingress_only) == "egress");
  CHECK(missing_directions(egress_only) == "ingress");
  CHECK(missing_directions(both).empty());
}

TEST_CASE("deny_all_coverage any and full", "[netpol]") {
  CHECK_FALSE(none.any());
  CHECK_FALSE(none.full());
  CHECK(ingress_only.any());
  CHECK_FALSE(ingress_only.full());
  CHECK(egress_only.any());
  CHECK_FALSE(egress_only.full());
  CHECK(both.any());
  CHECK(both.full());
}

namespace {

allow_all opens(const char* spec_json) {
  auto spec = json::parse(spec_json);
  auto facts = facts_from_spec(spec);
  INFO("spec: " << spec.dump());
  REQUIRE(facts.has_value());
  return opens_all_of(*facts);
}

// A policy selecting every pod with one ingress rule (and, mirrored, one egress
// rule under policyTypes [Egress]) made of `rule`, with `peers` as from/to.
std::string ingress_rule(const std::string& rule) {
  return R"({"podSelector":{},"ingress":[)" + rule + "]}";
}
std::string egress_rule(const std::string& rule) {
  return R"({"podSelector":{},"policyTypes":["Egress"],"egress":[)" + rule + "]}";
}
std::string with_peers(const char* key, const std::string& peers) {
  return std::string("{\"") + key + "\":" + peers + "}";
}

}  // namespace

TEST_CASE("a rule that allows every source or destination re-opens its direction",
          "[netpol][allow_all]") {
  const char* open_peers[] = {
      R"([{"podSelector":{},"namespaceSelector":{}}])",
      R"([{"namespaceSelector":{}}])",
      R"([{"namespaceSelector":{"matchLabels":{}},"podSelector":null}])",
      R"([{"ipBlock":{"cidr":"0.0.0.0/0"}}])",
      R"([{"ipBlock":{"cidr":"::/0","except":[]}}])",
      R"([{"ipBlock":{"cidr":"10.0.0.0/8"}},{"ipBlock":{"cidr":"0.0.0.0/0","except":null}}])",
      R"([])",
      R"(null)",
  };
  for (const char* peers : open_peers) {
    INFO(peers);
    CHECK(opens(ingress_rule(with_peers("from", peers)).c_str()) ==
          allow_all{ingress_only, "spec.ingress[0]"});
    CHECK(opens(egress_rule(with_peers("to", peers)).c_str()) ==
          allow_all{egress_only, "spec.egress[0]"});
  }
  CHECK(opens(ingress_rule("{}").c_str()) == allow_all{ingress_only, "spec.ingress[0]"});
  CHECK(opens(egress_rule("{}").c_str()) == allow_all{egress_only, "spec.egress[0]"});
  CHECK(opens(ingress_rule(R"({"ports":[]})").c_str()) ==
        allow_all{ingress_only, "spec.ingress[0]"});
  CHECK(opens(egress_rule(R"({"ports":null,"to":[]})").c_str()) ==
        allow_all{egress_only, "spec.egress[0]"});

  SECTION("the first such rule is named") {
    CHECK(
        opens(ingress_rule(R"({"from":[{"podSelector":{"matchLabels":{"a":"b"}}}]},{})").c_str()) ==
        allow_all{ingress_only, "spec.ingress[1]"});
    auto f = facts_from_spec(json::parse(ingress_rule(R"({"ports":[{"port":80}]},{},{})")));
    REQUIRE(f.has_value());
    CHECK(f->ingress_allow_all == std::size_t{1});
    CHECK_FALSE(f->egress_allow_all.has_value());
  }
  SECTION("both directions: both rules are named, ingress first") {
    CHECK(opens(R"({"podSelector":{},"policyTypes":["Ingress","Egress"],
                     "ingress":[{}],"egress":[{"ports":[{"port":53}]},
                                              {"to":[{"ipBlock":{"cidr":"::/0"}}]}]})") ==
          allow_all{both, "spec.ingress[0] and spec.egress[1]"});
  }
  SECTION("egress rules without policyTypes put Egress in the defaulted types") {
    CHECK(opens(R"({"podSelector":{},"egress":[{}]})") == allow_all{egress_only, "spec.egress[0]"});
  }
}

TEST_CASE("rules and policies that do not re-open a direction", "[netpol][allow_all]") {
  const char* narrow_peers[] = {
      R"([{"ipBlock":{"cidr":"0.0.0.0/0","except":["10.0.0.0/8"]}}])",
      R"([{"ipBlock":{"cidr":"10.0.0.0/8"}}])",
      R"([{"ipBlock":{"cidr":"0.0.0.0/1"}}])",
      R"([{"ipBlock":{"cidr":"::/00"}}])",
      R"([{"ipBlock":{"cidr":"nonsense/0"}}])",
      R"([{"podSelector":{}}])",
      R"([{"namespaceSelector":{"matchLabels":{"team":"a"}}}])",
      R"([{"namespaceSelector":{},"podSelector":{"matchLabels":{"app":"web"}}}])",
      R"([{"namespaceSelector":{},
           "podSelector":{"matchExpressions":[{"key":"a","operator":"Exists"}]}}])",
      R"([{"namespaceSelector":null}])",
      R"([{}])",
      R"([{"ipBlock":{"cidr":"0.0.0.0/0"},"namespaceSelector":{}}])",
      R"("everyone")",
      R"([1])",
  };
  for (const char* peers : narrow_peers) {
    INFO(peers);
    CHECK(opens(ingress_rule(with_peers("from", peers)).c_str()) == allow_all{});
    CHECK(opens(egress_rule(with_peers("to", peers)).c_str()) == allow_all{});
  }
  SECTION("ports narrow even an open rule") {
    CHECK(opens(ingress_rule(R"({"ports":[{"port":443}]})").c_str()) == allow_all{});
    CHECK(opens(ingress_rule(R"({"ports":[{}],"from":[]})").c_str()) == allow_all{});
    CHECK(opens(egress_rule(R"({"ports":[{"protocol":"UDP","port":53}]})").c_str()) == allow_all{});
    CHECK(opens(ingress_rule(R"({"ports":"all"})").c_str()) == allow_all{});
  }
  SECTION("a narrowed podSelector opens nothing for every pod") {
    CHECK(opens(R"({"podSelector":{"matchLabels":{"app":"web"}},"ingress":[{}]})") == allow_all{});
  }
  SECTION("a direction outside the effective policyTypes is not enforced, so not re-opened") {
    CHECK(opens(R"({"podSelector":{},"policyTypes":["Egress"],"ingress":[{}]})") == allow_all{});
    CHECK(opens(R"({"podSelector":{},"policyTypes":["Ingress"],"egress":[{}]})") == allow_all{});
    // The facts still record the rule: only opens_all_of applies the types.
    auto f = facts_from_spec(json::parse(R"({"policyTypes":["Egress"],"ingress":[{}]})"));
    REQUIRE(f.has_value());
    CHECK(f->ingress_allow_all == std::size_t{0});
  }
  SECTION("deny-alls and empty lists open nothing") {
    CHECK(opens(R"({"podSelector":{},"policyTypes":["Ingress","Egress"]})") == allow_all{});
    CHECK(opens(R"({"podSelector":{},"ingress":[],"egress":[]})") == allow_all{});
    CHECK(opens("null") == allow_all{});
  }
  SECTION("odd rule shapes are never allow-all and add no error") {
    CHECK(opens(ingress_rule("1").c_str()) == allow_all{});
    CHECK(opens(ingress_rule("null").c_str()) == allow_all{});
    CHECK(opens(ingress_rule(R"(["x"])").c_str()) == allow_all{});
  }
}
