// The manifest loader on the surface forms of YAML and JSON streams that
// kubectl accepts: merge keys, JSON streams, byte-order marks, document
// markers, scalar resolution, aliases. Files, Lists and errors are in
// manifest_loader_test.cpp.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "manifest_fixtures.hpp"
#include "netpol_guard/netpol/manifest_loader.hpp"

using namespace netpol_guard;
using namespace manifest_fixtures;
using Catch::Matchers::Contains;
using nlohmann::json;

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
