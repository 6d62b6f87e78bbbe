#include "netpol_guard/netpol/policy_validation.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "netpol_guard/netpol/manifest_loader.hpp"
#include "netpol_guard/netpol/meta_validation.hpp"
#include "netpol_guard/netpol/object.hpp"

using namespace netpol_guard;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

// A NetworkPolicy in namespace team-v with `spec` (YAML flow text) read
// through the loader, as `check` reads it.
json policy_with(const std::string& spec,
                 const std::string& metadata = "{name: p, namespace: team-v}",
                 const std::string& api_version = "networking.k8s.io/v1") {
  auto objs = parse_manifests("apiVersion: " + api_version + "\nkind: NetworkPolicy\nmetadata: " +
                                  metadata + "\nspec: " + spec + "\n",
                              "t.yaml");
  INFO((objs ? "" : objs.error().what()));
  REQUIRE(objs.has_value());
  REQUIRE(objs->size() == 1);
  return objs->front().object;
}

std::string invalid(const json& o) {
  auto valid = validate_manifest_object(o);
  REQUIRE_FALSE(valid);
  return valid.error();
}

std::string namespace_invalid(const json& ns) {
  auto valid = validate_namespace(ns);
  REQUIRE_FALSE(valid);
  return valid.error();
}

struct bad_case {
  const char* name;
  const char* spec;
  const char* reason;  // a substring of the apiserver-style message
};

}  // namespace

// Each row was checked against kube-apiserver 1.37 with kubectl create
// --dry-run=server (tests/e2e/manifest_fidelity.py repeats them on every run).
TEST_CASE("NetworkPolicy spec rules the apiserver enforces", "[netpol][validation]") {
  const bad_case cases[] = {
      {"policyTypes: more than two", "{policyTypes: [Ingress, Egress, Ingress]}",
       "more than two policyTypes"},
      {"policyTypes: unknown value", "{policyTypes: [Ingress, Foo]}",
       "spec.policyTypes[1]: Unsupported value: \"Foo\""},
      {"policyTypes: empty string", "{policyTypes: [Ingress, \"\"]}",
       "spec.policyTypes[1]: Unsupported value: \"\""},
      {"peer: empty", "{egress: [{to: [{}]}]}",
       "spec.egress[0].to[0]: Required value: must specify a peer"},
      {"peer: null selector is no peer", "{ingress: [{from: [{podSelector: null}]}]}",
       "must specify a peer"},
      {"peer: ipBlock with a selector",
       "{egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]}",
       "may not specify both ipBlock and another peer"},
      {"ipBlock: no cidr", "{egress: [{to: [{ipBlock: {}}]}]}", "ipBlock.cidr: Required value"},
      {"ipBlock: bad prefix", "{egress: [{to: [{ipBlock: {cidr: 10.0.0.0/33}}]}]}",
       "must be a valid CIDR"},
      {"ipBlock: not a CIDR", "{egress: [{to: [{ipBlock: {cidr: 10.0.0.1}}]}]}",
       "must be a valid CIDR"},
      {"ipBlock: host bits", "{egress: [{to: [{ipBlock: {cidr: 10.0.0.1/8}}]}]}",
       "bits set beyond the prefix length"},
      {"ipBlock: leading zero", "{egress: [{to: [{ipBlock: {cidr: 10.0.0.0/08}}]}]}", "leading 0s"},
      {"ipBlock: IPv4-mapped IPv6",
       "{egress: [{to: [{ipBlock: {cidr: \"::ffff:10.0.0.0/104\"}}]}]}", "IPv4-mapped"},
      {"except: outside the cidr",
       "{egress: [{to: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}}]}]}",
       "strict subset of `cidr`"},
      {"except: equal to the cidr",
       "{egress: [{to: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.0/16]}}]}]}",
       "strict subset of `cidr`"},
      {"except: other family",
       "{egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [\"fd00::/64\"]}}]}]}",
       "strict subset of `cidr`"},
      {"port: zero", "{ingress: [{ports: [{port: 0}]}]}", "must be between 1 and 65535"},
      {"port: too big", "{ingress: [{ports: [{port: 70000}]}]}", "must be between 1 and 65535"},
      {"port: numeric string", "{ingress: [{ports: [{port: \"80\"}]}]}",
       "a quoted number is a name"},
      {"port: !!str number", "{ingress: [{ports: [{port: !!str 80}]}]}",
       "a quoted number is a name"},
      {"port: bad name", "{ingress: [{ports: [{port: Http}]}]}", "ports[0].port: Invalid value"},
      {"port: name too long", "{ingress: [{ports: [{port: abcdefghijklmnop}]}]}", "ports[0].port"},
      {"port: double hyphen", "{ingress: [{ports: [{port: a--b}]}]}", "ports[0].port"},
      {"port: float", "{ingress: [{ports: [{port: 80.5}]}]}", "cannot unmarshal number"},
      {"protocol: lowercase", "{ingress: [{ports: [{protocol: udp}]}]}",
       "Unsupported value: \"udp\""},
      {"protocol: empty", "{ingress: [{ports: [{protocol: \"\"}]}]}", "Unsupported value: \"\""},
      {"endPort: below port", "{egress: [{ports: [{port: 100, endPort: 90}]}]}",
       "greater than or equal to `port`"},
      {"endPort: with a named port", "{egress: [{ports: [{port: dns, endPort: 90}]}]}",
       "non-numeric"},
      {"endPort: without port", "{egress: [{ports: [{endPort: 90}]}]}", "`port` is not specified"},
      {"endPort: out of range", "{egress: [{ports: [{port: 100, endPort: 70000}]}]}",
       "endPort: Invalid value: 70000"},
      {"selector: bad operator",
       "{podSelector: {matchExpressions: [{key: a, operator: Equals, values: [b]}]}}",
       "not a valid selector operator"},
      {"selector: In without values", "{podSelector: {matchExpressions: [{key: a, operator: In}]}}",
       "must be specified when `operator` is 'In'"},
      {"selector: Exists with values",
       "{podSelector: {matchExpressions: [{key: a, operator: Exists, values: [b]}]}}",
       "may not be specified when `operator` is 'Exists'"},
      {"selector: bad key in a rule",
       "{ingress: [{from: [{namespaceSelector: {matchLabels: {-bad: x}}}]}]}",
       "from[0].namespaceSelector.matchLabels"},
      {"selector: bad key prefix",
       "{podSelector: {matchExpressions: [{key: Bad_Prefix/a, operator: Exists}]}}",
       "matchExpressions[0].key"},
      {"selector: bad value", "{podSelector: {matchLabels: {app: a b}}}",
       "spec.podSelector.matchLabels"},
      {"selector: value too long",
       "{podSelector: {matchExpressions: [{key: a, operator: In, values: "
       "[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]}]}}",
       "values[0]"},
      {"selector: a YAML 1.1 boolean value", "{podSelector: {matchLabels: {app: yes}}}",
       "cannot unmarshal bool"},
      {"unknown field: ingres", "{ingres: []}", "unknown field \"spec.ingres\""},
      {"unknown field: egres", "{egres: []}", "unknown field \"spec.egres\""},
      {"unknown field in a port", "{ingress: [{ports: [{prot: TCP}]}]}",
       "unknown field \"spec.ingress[0].ports[0].prot\""},
      {"unknown field: quoted <<", "{\"<<\": {policyTypes: [Egress]}}",
       "unknown field \"spec.<<\""},
      {"wrong type: policyTypes", "{policyTypes: Ingress}",
       "cannot unmarshal string into a field of type array"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) { CHECK_THAT(invalid(policy_with(c.spec)), Contains(c.reason)); }
  }
}

TEST_CASE("NetworkPolicy shapes the apiserver accepts", "[netpol][validation]") {
  const char* specs[] = {
      "{}",
      "null",
      "{podSelector: {}, policyTypes: [Ingress, Egress]}",
      "{policyTypes: [Ingress, Ingress]}",  // duplicates are not refused
      "{policyTypes: []}",
      "{ingress: [{}], egress: []}",
      "{ingress: [{ports: [{port: 80}, {port: http}, {port: 0x50, protocol: SCTP}, {port: "
      "80.0}]}]}",
      "{egress: [{ports: [{port: 1000, endPort: 2000, protocol: UDP}]}]}",
      "{egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.2.3.4/32]}}]}]}",
      "{egress: [{to: [{ipBlock: {cidr: \"fd00::/8\", except: [\"fd00::/64\"]}}]}]}",
      "{ingress: [{from: [{podSelector: {}, namespaceSelector: {matchLabels: {team: a}}}]}]}",
      "{podSelector: {matchExpressions: [{key: example.com/tier, operator: NotIn, values: [a, "
      "\"\"]}]}}",
      "{podSelector: {matchLabels: {a: null}}}",
  };
  for (const char* spec : specs) {
    SECTION(spec) {
      auto valid = validate_manifest_object(policy_with(spec));
      CHECK(valid.has_value());
      if (!valid) WARN(valid.error());
    }
  }
}

TEST_CASE("metadata: names, namespaces, labels, unknown fields", "[netpol][validation]") {
  CHECK_THAT(invalid(policy_with("{}", "{name: Default-Deny, namespace: team-v}")),
             Contains("metadata.name: Invalid value: \"Default-Deny\""));
  CHECK_THAT(invalid(policy_with("{}", "{name: default_deny, namespace: team-v}")),
             Contains("metadata.name"));
  CHECK_THAT(invalid(policy_with("{}", "{name: " + std::string(254, 'a') + ", namespace: team-v}")),
             Contains("metadata.name"));
  CHECK(validate_manifest_object(
      policy_with("{}", "{name: " + std::string(253, 'a') + ", namespace: team-v}")));
  CHECK(validate_manifest_object(policy_with("{}", "{name: a.b-c, namespace: team-v}")));
  CHECK_THAT(invalid(policy_with("{}", "{namespace: team-v}")),
             Contains("metadata.name: Required value"));
  CHECK(validate_manifest_object(policy_with("{}", "{generateName: deny-, namespace: team-v}")));
  CHECK_THAT(invalid(policy_with("{}", "{name: p, namespace: Team_X}")),
             Contains("metadata.namespace: Invalid value: \"Team_X\""));
  CHECK_THAT(invalid(policy_with("{}", "{name: p, namespace: a.b}")),
             Contains("metadata.namespace"));
  CHECK_THAT(invalid(policy_with("{}", "{name: p, namespace: 20240}")),
             Contains("metadata.namespace: Invalid value: 20240: cannot unmarshal number"));
  CHECK_THAT(invalid(policy_with("{}", "{name: p, namespace: team-v, labels: {a: b c}}")),
             Contains("metadata.labels"));
  CHECK_THAT(invalid(policy_with("{}", "{name: p, namespace: team-v, annotations: {-x: y}}")),
             Contains("metadata.annotations"));
  CHECK(validate_manifest_object(policy_with(
      "{}", "{name: p, namespace: team-v, annotations: {Example.COM/X: \"any text\"}}")));
  CHECK_THAT(invalid(policy_with("{}", "{name: p, namespace: team-v, labesl: {}}")),
             Contains("unknown field \"metadata.labesl\""));
  // Ordinary server-set fields are fields.
  CHECK(
      validate_manifest_object(policy_with("{}",
                                           "{name: p, namespace: team-v, uid: x, resourceVersion: "
                                           "\"1\", generation: 1, creationTimestamp: null}")));
}

TEST_CASE("apiVersion and kind as kubectl maps them", "[netpol][validation]") {
  for (const char* v : {"v1", "extensions/v1beta1", "networking.k8s.io/v1beta1"}) {
    SECTION(v) {
      CHECK_THAT(invalid(policy_with("{}", "{name: p, namespace: team-v}", v)),
                 Contains("no matches for kind \"NetworkPolicy\" in version"));
    }
  }
  SECTION("missing apiVersion") {
    CHECK_THAT(invalid(json::parse(R"({"kind":"NetworkPolicy","metadata":{"name":"p"}})")),
               Contains("apiVersion not set"));
    CHECK_THAT(invalid(json::parse(R"({"kind":"Deployment","metadata":{"name":"p"}})")),
               Contains("apiVersion not set"));
  }
  SECTION("unknown top-level fields: Spec, status") {
    CHECK_THAT(
        invalid(json::parse(
            R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"p"},"Spec":{}})")),
        Contains("unknown field \"Spec\""));
    CHECK_THAT(
        invalid(json::parse(
            R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"p"},"status":{}})")),
        Contains("unknown field \"status\""));
  }
  SECTION("other kinds: known ones need their served version; custom kinds pass") {
    CHECK_THAT(
        invalid(json::parse(R"({"apiVersion":"v1","kind":"Deployment","metadata":{"name":"d"}})")),
        Contains("no matches for kind \"Deployment\" in version \"v1\""));
    CHECK(validate_manifest_object(json::parse(
        R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"anything":1}})")));
    CHECK(validate_manifest_object(
        json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}})")));
    CHECK_THAT(
        invalid(json::parse(
            R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":20240}})")),
        Contains("metadata.namespace"));
    CHECK_THAT(
        invalid(json::parse(
            R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"d","namespace":"Team_X"}})")),
        Contains("metadata.namespace"));
  }
}

TEST_CASE("Namespace objects", "[netpol][validation]") {
  auto ns = [](const std::string& body) {
    return json::parse(R"({"apiVersion":"v1","kind":"Namespace",)" + body + "}");
  };
  CHECK(validate_namespace(ns(R"("metadata":{"name":"team-a"})")));
  CHECK_THAT(namespace_invalid(ns(R"("metadata":{"name":"Team_X"})")),
             Contains("metadata.name: Invalid value: \"Team_X\""));
  CHECK_THAT(namespace_invalid(ns(R"("metadata":{"name":"a.b"})")), Contains("metadata.name"));
  CHECK_THAT(namespace_invalid(ns(R"("metadata":{"name":")" + std::string(64, 'a') + R"("})")),
             Contains("metadata.name"));
  CHECK_THAT(namespace_invalid(ns(R"("metadata":{})")), Contains("metadata.name: Required value"));
  // The apiserver drops metadata.namespace of a cluster-scoped object.
  CHECK(validate_namespace(ns(R"("metadata":{"name":"a","namespace":"Foo_bar"})")));
  CHECK(validate_namespace(ns(
      R"("metadata":{"name":"a"},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"})")));
  CHECK_THAT(namespace_invalid(ns(R"("metadata":{"name":"a"},"spec":{"finalisers":[]})")),
             Contains("unknown field \"spec.finalisers\""));
  CHECK_THAT(namespace_invalid(
                 json::parse(R"({"apiVersion":"v2","kind":"Namespace","metadata":{"name":"a"}})")),
             Contains("no matches"));
}

TEST_CASE("name rules of apimachinery", "[netpol][validation]") {
  CHECK(is_dns1123_label("a-1"));
  CHECK_FALSE(is_dns1123_label("-a"));
  CHECK_FALSE(is_dns1123_label("a."));
  CHECK_FALSE(is_dns1123_label(std::string(64, 'a')));
  CHECK(is_dns1123_subdomain("a.b-c.d"));
  CHECK_FALSE(is_dns1123_subdomain("a..b"));
  CHECK(is_qualified_name("example.com/My_Name.x"));
  CHECK_FALSE(is_qualified_name("a/b/c"));
  CHECK_FALSE(is_qualified_name("/a"));
  CHECK_FALSE(is_qualified_name(std::string(64, 'a')));
  CHECK(is_label_value(""));
  CHECK_FALSE(is_label_value("a-"));
  CHECK(is_iana_svc_name("http-8080"));
  CHECK_FALSE(is_iana_svc_name("8080"));
  CHECK_FALSE(is_iana_svc_name("-http"));
}

// Found by manifest_fuzz (tests/fuzz/regressions/manifest/invalid-utf8-in-key.yaml):
// quoting a key with invalid UTF-8 in the message threw out of the validator.
TEST_CASE("invalid UTF-8 in a field name or value gives a message, not an exception",
          "[netpol][validation]") {
  auto o = json::parse(
      R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"p"}})");
  o["metadata"]["names\xff"] = "x";
  CHECK_THAT(invalid(o), Contains("unknown field \"metadata.names\xEF\xBF\xBD\""));
  auto custom =
      json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}})");
  custom["metadata"]["namespace"] = "team\xff";
  CHECK_THAT(invalid(custom), Contains("metadata.namespace"));
}
