#include "netpol_guard/netpol/manifest_loader.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "manifest_fixtures.hpp"
#include "netpol_guard/netpol/object.hpp"

using namespace netpol_guard;
using namespace manifest_fixtures;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using nlohmann::json;

TEST_CASE("multi-document YAML, with empty documents skipped", "[netpol]") {
  const auto file = manifest_path("multi-doc.yaml");
  auto objs = load_ok({file});
  CHECK(kinds_of(objs) == strings{"Namespace", "NetworkPolicy", "NetworkPolicy", "Deployment"});
  CHECK(names_of(objs) == strings{"team-a", "default-deny-all", "allow-web", "web"});

  // Sources count documents as the file has them, empty ones included.
  REQUIRE(objs.size() == 4);
  CHECK(objs[0].source == file + "#1");
  CHECK(objs[1].source == file + "#2");
  CHECK(objs[2].source == file + "#5");
  CHECK(objs[3].source == file + "#6");

  auto index = index_ok(objs);
  const auto& e = index.entries().at("team-a");
  CHECK(e.known_namespace);
  CHECK(e.policy_count == 2);
  CHECK(e.coverage() == both);
  CHECK(e.baseline_names() == strings{"default-deny-all"});
}

TEST_CASE("kind: List is flattened", "[netpol]") {
  const auto file = manifest_path("list.yaml");
  auto objs = load_ok({file});
  CHECK(kinds_of(objs) == strings{"NetworkPolicy", "NetworkPolicy", "Pod"});
  for (const auto& o : objs) CHECK(o.source == file);

  auto index = index_ok(objs);
  const auto& e = index.entries().at("team-l");
  CHECK(e.coverage() == both);
  CHECK(e.baseline_names() == strings{"deny-egress", "deny-ingress"});
  CHECK_FALSE(e.known_namespace);
}

TEST_CASE("List variants", "[netpol]") {
  SECTION("a typed list with items is flattened too") {
    auto objs = parse_ok(R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicyList
items:
  - {kind: NetworkPolicy, metadata: {name: a, namespace: n}}
  - {kind: NetworkPolicy, metadata: {name: b, namespace: n}}
)");
    CHECK(names_of(objs) == strings{"a", "b"});
  }
  SECTION("a List inside a List") {
    auto objs = parse_ok(R"(kind: List
items:
  - kind: List
    items:
      - {kind: Pod, metadata: {name: inner}}
  - {kind: Pod, metadata: {name: outer}}
)");
    CHECK(names_of(objs) == strings{"inner", "outer"});
  }
  SECTION("empty and null items give nothing") {
    CHECK(parse_ok("kind: List\nitems: []\n").empty());
    CHECK(parse_ok("kind: List\nitems:\n").empty());
    CHECK(parse_ok("kind: List\n").empty());
  }
  SECTION("items that are not an array are an error") {
    auto err = parse_fails("kind: List\nitems: {a: b}\n");
    CHECK(err.source == "inline.yaml");
    CHECK_THAT(err.reason, Contains("items"));
  }
}

TEST_CASE("a JSON file is read as a manifest", "[netpol]") {
  auto objs = load_ok({manifest_path("policy.json")});
  REQUIRE(objs.size() == 1);
  CHECK(object_name(objs[0].object) == "default-deny-all");
  CHECK(object_namespace(objs[0].object) == "team-j");
  CHECK(index_ok(objs).entries().at("team-j").coverage() == both);
}

TEST_CASE("an object without a namespace belongs to default", "[netpol]") {
  auto objs = load_ok({manifest_path("no-namespace.yaml")});
  REQUIRE(objs.size() == 2);
  CHECK(object_namespace(objs[0].object) == "default");
  CHECK(object_namespace(objs[1].object) == "default");
  auto index = index_ok(objs);
  CHECK(index.entries().at("default").coverage() == both);

  CHECK(object_namespace(json::parse(R"({"metadata":{"namespace":""}})")) == "default");
  CHECK(object_namespace(json::parse(R"({"metadata":{"namespace":null}})")) == "default");
  CHECK(object_namespace(json::parse(R"({"kind":"Pod"})")) == "default");
  CHECK(object_namespace(json::parse(R"({"metadata":{"namespace":"team-a"}})")) == "team-a");
}

TEST_CASE("object_name falls back to generateName", "[netpol]") {
  CHECK(object_name(json::parse(R"({"metadata":{"name":"web"}})")) == "web");
  CHECK(object_name(json::parse(R"({"metadata":{"generateName":"web-"}})")) == "web-");
  CHECK(object_name(json::parse(R"({"metadata":{}})")).empty());
  CHECK(object_name(json::parse(R"({"kind":"Pod"})")).empty());
}

TEST_CASE("directories are read recursively, manifest extensions only", "[netpol]") {
  const auto dir = manifest_path("tree");
  auto objs = load_ok({dir});
  // Sorted by path: a.yaml, sub/b.yml, sub/deeper/c.json; notes.txt and
  // policy.yaml.bak (which would not parse) are ignored.
  REQUIRE(objs.size() == 3);
  CHECK(objs[0].source == dir + "/a.yaml");
  CHECK(objs[1].source == dir + "/sub/b.yml");
  CHECK(objs[2].source == dir + "/sub/deeper/c.json");

  auto index = index_ok(objs);
  const auto& e = index.entries().at("tree");
  CHECK(e.known_namespace);
  CHECK(e.coverage() == both);
  CHECK(e.baseline_names() == strings{"deny-egress", "deny-ingress"});
}

TEST_CASE("several paths are read in order", "[netpol]") {
  auto objs = load_ok({manifest_path("policy.json"), manifest_path("tree")});
  REQUIRE(objs.size() == 4);
  CHECK(objs[0].source == manifest_path("policy.json"));
  CHECK(objs[3].source == manifest_path("tree") + "/sub/deeper/c.json");
}

TEST_CASE("defaulting is applied: egress [] without policyTypes keeps egress open", "[netpol]") {
  auto index = index_ok(load_ok({manifest_path("defaulting.yaml")}));
  const auto& e = index.entries().at("team-d");
  CHECK(e.coverage() == ingress_only);
  CHECK(e.baseline_names() == strings{"looks-like-deny-all"});
}

TEST_CASE("quoted scalars stay strings; plain scalars follow the core schema", "[netpol]") {
  auto objs = load_ok({manifest_path("scalars.yaml")});
  REQUIRE(objs.size() == 1);
  const json& d = objs[0].object.at("data");
  CHECK(d.at("quoted_true") == json("true"));
  CHECK(d.at("single_quoted_false") == json("false"));
  CHECK(d.at("plain_true") == json(true));
  CHECK(d.at("plain_false") == json(false));
  CHECK(d.at("quoted_number") == json("42"));
  CHECK(d.at("plain_number") == json(42));
  CHECK(d.at("plain_number").is_number_integer());
  CHECK(d.at("negative") == json(-7));
  CHECK(d.at("plain_float").is_number_float());
  CHECK(d.at("plain_float").get<double>() == Approx(1.5));
  CHECK(d.at("quoted_null") == json("null"));
  CHECK(d.at("plain_null").is_null());
  CHECK(d.at("tilde").is_null());
  CHECK(d.at("empty").is_null());
  CHECK(d.at("plain_text") == json("hello world"));
  CHECK(d.at("version_like") == json("1.2.3"));
  CHECK(d.at("block") == json("line one\nline two\n"));
}

TEST_CASE("quoted policy fields keep their meaning", "[netpol]") {
  // (a plain `namespace: n` would be the boolean false, as in kubectl.)
  // A quoted "null" is a string, so this podSelector has the wrong type.
  auto objs = parse_ok(R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: team-n}
spec:
  podSelector: "null"
)");
  auto index = index_manifests(objs);
  REQUIRE_FALSE(index.has_value());
  CHECK_THAT(index.error().reason, Contains("podSelector"));

  // A plain null is an absent selector: every pod.
  auto ok = parse_ok(R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: team-n}
spec:
  podSelector: null
  policyTypes: [Ingress, Egress]
)");
  CHECK(index_ok(ok).entries().at("team-n").coverage() == both);
}

TEST_CASE("empty input gives no objects", "[netpol]") {
  CHECK(parse_ok("").empty());
  CHECK(parse_ok("---\n---\n").empty());
  CHECK(parse_ok("# only a comment\n").empty());
  CHECK(parse_ok("null\n").empty());
}

TEST_CASE("errors name the file and the reason", "[netpol]") {
  SECTION("invalid YAML") {
    const auto file = manifest_path("invalid/bad-yaml.yaml");
    auto err = load_fails(file);
    CHECK(err.source == file);
    CHECK_THAT(err.reason, Contains("invalid YAML"));
    CHECK(err.line == 3);
    CHECK(err.what() == err.source + ":3: " + err.reason);
  }
  SECTION("an object without kind, with its document number") {
    const auto file = manifest_path("invalid/no-kind.yaml");
    auto err = load_fails(file);
    CHECK(err.source == file + "#2");
    CHECK_THAT(err.reason, Contains("kind"));
  }
  SECTION("a document that is not a mapping") {
    const auto file = manifest_path("invalid/not-a-mapping.yaml");
    auto err = load_fails(file);
    CHECK(err.source == file);
    CHECK_THAT(err.reason, Contains("mapping"));
  }
  SECTION("a NetworkPolicy field of the wrong type") {
    const auto file = manifest_path("invalid/policy-wrong-type.yaml");
    auto objs = load_ok({file});
    auto index = index_manifests(objs);
    REQUIRE_FALSE(index.has_value());
    const manifest_error err = index.error();
    CHECK(err.source == file + "#2");
    CHECK(err.object == "NetworkPolicy team-w/wrong");
    CHECK(err.line == 6);
    CHECK_THAT(err.reason, Contains("spec.podSelector") && Contains("\"all\""));
  }
  SECTION("a missing path") {
    const auto path = manifest_path("does-not-exist.yaml");
    auto err = load_fails(path);
    CHECK(err.source == path);
    CHECK_THAT(err.reason, Contains("no such file"));
  }
  SECTION("a directory with a bad file names that file") {
    auto err = load_fails(manifest_path("invalid"));
    CHECK(err.source == manifest_path("invalid/bad-yaml.yaml"));
  }
}

// kubectl (go-yaml v2 without strict mode, encoding/json) keeps the last of
// repeated keys; checked with kubectl 1.37 create --dry-run=server.
TEST_CASE("duplicate keys: the last one wins, in YAML and JSON, at any depth", "[netpol]") {
  auto objs = parse_ok(R"({"kind":"Pod","kind":"Service"})");
  CHECK(kinds_of(objs) == strings{"Service"});

  auto nested = parse_ok("kind: Pod\nmetadata:\n  labels:\n    app: a\n    app: b\n");
  CHECK(nested.at(0).object["metadata"]["labels"] == json{{"app", "b"}});

  // The fixture's second "ingress: [{}]" replaces "ingress: []": not a deny-all.
  auto index = index_ok(load_ok({manifest_path("duplicate-key.yaml")}));
  CHECK(index.entries().at("team-x").coverage() == deny_all_coverage{false, true});
}

TEST_CASE("kind must be a string", "[netpol]") {
  CHECK_THAT(parse_fails("kind: 3\n").reason, Contains("kind"));
  CHECK_THAT(parse_fails("kind: [Pod]\n").reason, Contains("kind"));
  CHECK_THAT(parse_fails("kind:\n").reason, Contains("kind"));
}

TEST_CASE("very deep YAML is refused, not recursed into", "[netpol]") {
  std::string deep = "kind: Pod\nx: " + std::string(300, '[') + std::string(300, ']') + "\n";
  auto err = parse_fails(deep);
  CHECK_THAT(err.reason, Contains("deep"));
}

TEST_CASE("index_policy and index_namespace read single objects", "[netpol]") {
  namespace_index index;

  SECTION("a policy without a name") {
    auto added = index_policy(index, json::parse(R"({"kind":"NetworkPolicy","spec":{}})"));
    REQUIRE_FALSE(added);
    CHECK_THAT(added.error(), Contains("metadata.name"));
  }
  SECTION("a policy without spec is defaulted to deny ingress") {
    REQUIRE(index_policy(index, json::parse(R"({"metadata":{"name":"p","namespace":"n"}})")));
    CHECK(index.entries().at("n").coverage() == ingress_only);
  }
  SECTION("a policy with rules in both directions denies nothing") {
    REQUIRE(index_policy(index, json::parse(R"({"metadata":{"name":"p","namespace":"n"},
        "spec":{"podSelector":{},"policyTypes":["Ingress","Egress"],
                "ingress":[{}],"egress":[{}]}})")));
    CHECK(index.entries().at("n").coverage() == none);
    CHECK(index.entries().at("n").policy_count == 1);
  }
  SECTION("a namespace without a name") {
    auto added = index_namespace(index, json::parse(R"({"kind":"Namespace"})"));
    REQUIRE_FALSE(added);
    CHECK_THAT(added.error(), Contains("metadata.name"));
  }
  SECTION("a terminating namespace, by deletionTimestamp") {
    REQUIRE(index_namespace(
        index,
        json::parse(R"({"metadata":{"name":"n","deletionTimestamp":"2024-05-01T10:00:00Z"}})")));
    CHECK(index.entries().at("n").terminating);
  }
  SECTION("a terminating namespace, by phase") {
    REQUIRE(index_namespace(
        index, json::parse(R"({"metadata":{"name":"n"},"status":{"phase":"Terminating"}})")));
    CHECK(index.entries().at("n").terminating);
  }
  SECTION("an active namespace") {
    REQUIRE(index_namespace(
        index, json::parse(R"({"metadata":{"name":"n"},"status":{"phase":"Active"}})")));
    CHECK(index.entries().at("n").known_namespace);
    CHECK_FALSE(index.entries().at("n").terminating);
  }
}

TEST_CASE("other kinds do not enter the index", "[netpol]") {
  auto objs = parse_ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: team-z}\n");
  auto index = index_ok(objs);
  CHECK(index.entries().count("team-z") == 0);
}

// ---- Surface forms, each checked against kubectl 1.37 (create --dry-run=server)
// and repeated by tests/e2e/manifest_fidelity.py.
