#include "netpol_guard/netpol/manifest_loader.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "netpol_guard/netpol/object.hpp"

using namespace netpol_guard;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using nlohmann::json;

namespace {

constexpr deny_all_coverage none{false, false};
constexpr deny_all_coverage ingress_only{true, false};
constexpr deny_all_coverage both{true, true};

std::string manifest_path(const std::string& rel) {
  return std::string(NETPOL_GUARD_FIXTURES) + "/manifests/" + rel;
}

std::vector<manifest_object> load_ok(const std::vector<std::string>& paths) {
  auto objs = load_manifests(paths);
  INFO((objs ? "" : objs.error().what()));
  REQUIRE(objs.has_value());
  return *objs;
}

manifest_error load_fails(const std::string& path) {
  auto objs = load_manifests({path});
  REQUIRE_FALSE(objs.has_value());
  return objs.error();
}

std::vector<manifest_object> parse_ok(const std::string& text) {
  auto objs = parse_manifests(text, "inline.yaml");
  INFO((objs ? "" : objs.error().what()));
  REQUIRE(objs.has_value());
  return *objs;
}

manifest_error parse_fails(const std::string& text) {
  auto objs = parse_manifests(text, "inline.yaml");
  REQUIRE_FALSE(objs.has_value());
  return objs.error();
}

namespace_index index_ok(const std::vector<manifest_object>& objs) {
  auto index = index_manifests(objs);
  INFO((index ? "" : index.error().what()));
  REQUIRE(index.has_value());
  return std::move(*index);
}

std::vector<std::string> kinds_of(const std::vector<manifest_object>& objs) {
  std::vector<std::string> out;
  for (const auto& o : objs) out.push_back(o.object.at("kind").get<std::string>());
  return out;
}

std::vector<std::string> names_of(const std::vector<manifest_object>& objs) {
  std::vector<std::string> out;
  for (const auto& o : objs) out.push_back(object_name(o.object));
  return out;
}

using strings = std::vector<std::string>;

}  // namespace

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

namespace {
const std::string np_head =
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: "
    "team-m}\n";

deny_all_coverage coverage_in(const std::string& text, const std::string& ns = "team-m") {
  auto index = index_ok(parse_ok(text));
  return index.entries().at(ns).coverage();
}
}  // namespace

TEST_CASE("merge keys: a mapping, a sequence, and the order of explicit keys",
          "[netpol][surface]") {
  // podSelector narrowed through "<<": not a deny-all.
  CHECK(coverage_in(np_head + "spec:\n  podSelector: {<<: {matchLabels: {app: web}}}\n"
                              "  policyTypes: [Ingress, Egress]\n") == none);
  // policyTypes arriving through "<<" make a real egress deny.
  CHECK(coverage_in(np_head + "spec:\n  <<: {policyTypes: [Egress, Ingress]}\n") == both);
  // Through an alias.
  CHECK(coverage_in(np_head +
                    "spec:\n  <<: &types {policyTypes: [Ingress, Egress]}\n  podSelector: {}\n") ==
        both);
  // A sequence: earlier mappings win.
  CHECK(
      coverage_in(np_head + "spec:\n  <<: [{policyTypes: [Egress]}, {policyTypes: [Ingress]}]\n") ==
      deny_all_coverage{false, true});
  // go-yaml v2: a key written after "<<" wins, one written before it is replaced.
  CHECK(coverage_in(np_head + "spec:\n  <<: {policyTypes: [Egress]}\n  policyTypes: [Ingress]\n") ==
        ingress_only);
  CHECK(coverage_in(np_head + "spec:\n  policyTypes: [Ingress]\n  <<: {policyTypes: [Egress]}\n") ==
        deny_all_coverage{false, true});
  // Not a mapping: kubectl refuses the file.
  CHECK_THAT(parse_fails(np_head + "spec:\n  <<: 5\n").reason,
             Contains("map merge requires map or sequence of maps"));
  CHECK_THAT(parse_fails(np_head + "spec:\n  <<: [5]\n").reason, Contains("map merge requires"));
  // A quoted "<<" is an ordinary key (and an unknown field).
  auto quoted = parse_ok(np_head + "spec:\n  \"<<\": {policyTypes: [Egress]}\n");
  CHECK(quoted.at(0).object["spec"].contains("<<"));
}

TEST_CASE("JSON streams: every object is read", "[netpol][surface]") {
  const std::string a = R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-j"}})";
  const std::string b =
      R"({"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"deny","namespace":"team-j"},"spec":{"policyTypes":["Ingress","Egress"]}})";
  for (const std::string sep : {"", "\n", " \n\n"}) {
    auto objs = parse_ok(a + sep + b + sep + "\n");
    CHECK(kinds_of(objs) == strings{"Namespace", "NetworkPolicy"});
    CHECK(objs.at(1).source == "inline.yaml#2");
    CHECK(index_ok(objs).entries().at("team-j").coverage() == both);
  }
  SECTION("a JSON object, then YAML documents") {
    auto objs = parse_ok(a + "\n---\n" + np_head + "spec: {}\n");
    CHECK(kinds_of(objs) == strings{"Namespace", "NetworkPolicy"});
  }
  SECTION("a broken third object is an error with its number and line") {
    auto err = parse_fails(a + "\n" + a + "\n{\"kind\": }\n");
    CHECK(err.source == "inline.yaml#3");
    CHECK(err.line == 3);
  }
  SECTION("integral floats are integers, as Go reads 80.0 into an int32") {
    auto objs = parse_ok(R"({"kind":"X","port":80.0})");
    CHECK(objs.at(0).object["port"].is_number_integer());
  }
}

TEST_CASE("byte-order marks are dropped", "[netpol][surface]") {
  const std::string bom = "\xEF\xBB\xBF";
  CHECK(kinds_of(parse_ok(bom + "# just a comment\n---\n" + np_head + "spec: {}\n")) ==
        strings{"NetworkPolicy"});
  CHECK(kinds_of(parse_ok(bom + "\n---\n" + np_head + "spec: {}\n")) == strings{"NetworkPolicy"});
  CHECK(kinds_of(parse_ok(bom + np_head + "spec: {}\n")) == strings{"NetworkPolicy"});
  CHECK(kinds_of(parse_ok(bom + R"({"kind":"A"}{"kind":"B"})")) == strings{"A", "B"});
  CHECK(kinds_of(parse_ok(bom + "---\n" + np_head)) == strings{"NetworkPolicy"});
}

TEST_CASE("document markers as kubectl's YAML reader handles them", "[netpol][surface]") {
  SECTION("--- followed by a comment separates") {
    CHECK(kinds_of(parse_ok("kind: A\n--- # next\nkind: B\n")) == strings{"A", "B"});
  }
  SECTION("--- followed by content is refused, with the line") {
    auto err = parse_fails("kind: A\n--- {kind: B}\n");
    CHECK(err.line == 2);
    CHECK_THAT(err.reason, Contains("invalid YAML document separator: {kind: B}"));
    CHECK(parse_fails("kind: A\n----\nkind: B\n").line == 2);
  }
  SECTION("... ends the chunk's only document: the rest up to the next --- is ignored") {
    auto objs = parse_ok("kind: A\n...\nkind: B\n---\nkind: C\n");
    CHECK(kinds_of(objs) == strings{"A", "C"});
    CHECK(kinds_of(parse_ok("kind: A\n...\n[unclosed: {\n")) == strings{"A"});
  }
}

TEST_CASE("scalars and tags resolve as go-yaml v2 (YAML 1.1) resolves them", "[netpol][surface]") {
  auto d = parse_ok(
               "kind: X\n"
               "a: yes\nb: Off\nc: y\nd: 0x50\ne: 0o17\nf: 017\ng: 1_000\nh: 80.0\ni: 1e3\n"
               "j: !!str 80\nk: !!int \"80\"\nl: !foo web\nm: 2024-01-01\nplus: +5\no: 0b101\n"
               "on: key\n1: int-key\n")
               .at(0)
               .object;
  CHECK(d["a"] == json(true));
  CHECK(d["b"] == json(false));
  CHECK(d["c"] == json(true));
  CHECK(d["d"] == json(80));
  CHECK(d["e"] == json(15));
  CHECK(d["f"] == json(15));
  CHECK(d["g"] == json(1000));
  CHECK(d["h"] == json(80));
  CHECK(d["h"].is_number_integer());
  CHECK(d["i"] == json(1000));
  CHECK(d["j"] == json("80"));
  CHECK(d["k"] == json(80));
  CHECK(d["l"] == json("web"));
  CHECK(d["m"] == json("2024-01-01"));
  CHECK(d["plus"] == json(5));
  CHECK(d["o"] == json(5));
  CHECK(d["true"] == json("key"));  // the key "on" is the boolean true
  CHECK(d["1"] == json("int-key"));
  CHECK_THAT(parse_fails("kind: X\na: !!int abc\n").reason, Contains("!!int"));
  CHECK_THAT(parse_fails("kind: X\na: .inf\n").reason, Contains("unsupported value"));
  CHECK_THAT(parse_fails("kind: X\n~: a\n").reason, Contains("unsupported map key"));
}

TEST_CASE("an invalid object is an error with file, line, object and reason", "[netpol][surface]") {
  auto objs = parse_ok("apiVersion: v1\nkind: Namespace\nmetadata: {name: team-e}\n---\n" +
                       np_head + "spec:\n  policyTypes: [Ingress, Egress, Ingress]\n");
  auto index = index_manifests(objs);
  REQUIRE_FALSE(index.has_value());
  manifest_error err = index.error();
  CHECK(err.source == "inline.yaml#2");
  CHECK(err.line == 5);
  CHECK(err.object == "NetworkPolicy team-m/p");
  CHECK_THAT(err.reason, Contains("may not specify more than two policyTypes"));
  CHECK(err.what() == "inline.yaml#2:5: NetworkPolicy team-m/p: " + err.reason);

  // Items of a List carry their own line.
  auto list = parse_ok(
      "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n"
      "  metadata: {name: ok}\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: "
      "Bad_Name}\n");
  auto list_index = index_manifests(list);
  REQUIRE_FALSE(list_index.has_value());
  err = list_index.error();
  CHECK(err.line == 7);
  CHECK(err.object == "Namespace Bad_Name");
}

TEST_CASE("aliases: reuse is read, excessive aliasing is refused as go-yaml v2 does",
          "[netpol][surface]") {
  // A selector anchored once and used in many policies: ordinary reuse.
  std::string reuse =
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nx: &sel {matchLabels: {app: web, "
      "tier: front}}\n";
  for (int i = 0; i < 300; ++i) reuse += "k" + std::to_string(i) + ": *sel\n";
  CHECK(parse_ok(reuse).size() == 1);

  // Nodes that are nearly all alias copies: kubectl's decoder refuses the
  // document after ~1,000 nodes, and so does ours, in the same words.
  std::string laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    laughs += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) laughs += (j ? ", " : "") + prev;
    laughs += "]\n";
  }
  auto f = parse_fails(laughs);
  CHECK_THAT(f.reason, Contains("document contains excessive aliasing"));
}
