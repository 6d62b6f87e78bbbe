// The event reader under the manifest loader (libyaml, no DOM): lines of
// objects and List items, anchors and aliases as go-yaml v2 reads them, the
// parser's own words in errors, and the streaming reads that hold one
// document at a time.
#include "netpol_guard/netpol/yaml_reader.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "manifest_fixtures.hpp"
#include "netpol_guard/netpol/manifest_loader.hpp"

using namespace netpol_guard;
using namespace manifest_fixtures;
using Catch::Matchers::Contains;
using nlohmann::json;

TEST_CASE("the items of a List keep their own lines", "[netpol][surface]") {
  auto objs = parse_ok(
      "# a comment\nkind: List\nitems:\n- {kind: Pod, metadata: {name: a}}\n\n- kind: Pod\n"
      "  metadata: {name: b}\n---\nkind: Pod\nmetadata: {name: c}\n");
  REQUIRE(objs.size() == 3);
  CHECK(objs[0].line == 4);
  CHECK(objs[1].line == 6);
  CHECK(objs[2].line == 9);
  CHECK(objs[2].source == "inline.yaml#2");
}

TEST_CASE("anchors and aliases: keys, recursion, unknown names", "[netpol][surface]") {
  SECTION("an anchored key is reused through an alias, last key wins") {
    auto objs = parse_ok("kind: ConfigMap\n&k name: one\nmetadata: {name: m}\n*k : two\n");
    CHECK(objs.at(0).object["name"] == "two");
  }
  SECTION("an alias to a collection as a key is refused") {
    CHECK_THAT(parse_fails("kind: X\na: &m {b: c}\n*m : d\n").reason,
               Contains("invalid map key: not a scalar"));
  }
  SECTION("an anchor that contains itself is refused, as go-yaml does") {
    auto err = parse_fails("kind: X\na: &x [1, *x]\n");
    CHECK_THAT(err.reason, Contains("anchor 'x' value contains itself"));
    CHECK(err.line == 2);
  }
  SECTION("an unknown anchor is refused in go-yaml's words") {
    CHECK_THAT(parse_fails("kind: X\na: *nope\n").reason,
               Contains("unknown anchor 'nope' referenced"));
  }
  SECTION("an alias copies the anchored value, a later anchor of that name replaces it") {
    auto objs = parse_ok("kind: X\na: &v {x: 1}\nb: *v\nc: &v [2]\nd: *v\n");
    CHECK(objs.at(0).object["b"] == json{{"x", 1}});
    CHECK(objs.at(0).object["d"] == json::array({2}));
  }
  SECTION("anchors do not reach into the next document") {
    auto err = parse_fails("kind: X\na: &v 1\n---\nkind: Y\nb: *v\n");
    CHECK(err.source == "inline.yaml#2");
    CHECK_THAT(err.reason, Contains("unknown anchor 'v'"));
  }
}

TEST_CASE("parse errors carry the parser's problem and the line", "[netpol][surface]") {
  auto err = parse_fails("kind: X\nmetadata:\n  name: a: b\n");
  CHECK_THAT(err.reason, Contains("invalid YAML/JSON: mapping values are not allowed"));
  CHECK(err.line == 3);
  auto flow = parse_fails("kind: X\na: [1, 2\n");
  CHECK_THAT(flow.reason, Contains("invalid YAML/JSON: did not find expected"));
  // Invalid UTF-8 is the reader's error, never echoed.
  auto bytes = parse_fails("kind: X\na: \xff\xfe\n");
  CHECK_THAT(bytes.reason, Contains("invalid YAML/JSON"));
  CHECK(bytes.reason.find('\xff') == std::string::npos);
}

TEST_CASE("the reader reads one document of its text and says when there is none",
          "[netpol][surface]") {
  yaml_converter conv;
  auto first = conv.convert_document("a: 1\n...\nb: [\n");
  REQUIRE(first.has_value());
  CHECK(first->found);
  CHECK(first->value == json{{"a", 1}});
  auto none = conv.convert_document("# only a comment\n");
  REQUIRE(none.has_value());
  CHECK_FALSE(none->found);
  auto deep = conv.convert_document(std::string(300, '[') + std::string(300, ']'));
  REQUIRE_FALSE(deep.has_value());
  CHECK_THAT(deep.error().reason, Contains("nested deeper than 256 levels"));
}

TEST_CASE("streaming reads: the sink sees each object, its error stops the read",
          "[netpol][surface]") {
  std::vector<std::string> seen;
  auto read = read_manifest_text("kind: A\n---\nkind: B\n---\nkind: C\n", "s.yaml",
                                 [&](manifest_object&& o) {
                                   seen.push_back(o.object["kind"].get<std::string>());
                                   if (seen.size() == 2) {
                                     return boost::system::result<void, manifest_error>(
                                         manifest_error{o.source, "stop here", o.line});
                                   }
                                   return boost::system::result<void, manifest_error>();
                                 });
  REQUIRE_FALSE(read.has_value());
  CHECK(read.error().reason == "stop here");
  CHECK(read.error().source == "s.yaml#2");
  CHECK(seen == std::vector<std::string>{"A", "B"});
}

TEST_CASE("index_manifest_files builds the index load_manifests and index_manifests build",
          "[netpol][surface]") {
  const std::vector<std::string> paths{manifest_path("tree"), manifest_path("multi-doc.yaml"),
                                       manifest_path("list.yaml")};
  auto two_pass = index_ok(load_ok(paths));
  auto one_pass = index_manifest_files(paths);
  REQUIRE(one_pass.has_value());
  REQUIRE(one_pass->entries().size() == two_pass.entries().size());
  for (const auto& [ns, e] : two_pass.entries()) {
    INFO(ns);
    REQUIRE(one_pass->entries().contains(ns));
    CHECK(one_pass->entries().at(ns).coverage() == e.coverage());
    CHECK(one_pass->entries().at(ns).baseline_names() == e.baseline_names());
  }
  // The first invalid object is the error, with its file and line.
  const auto dir = std::filesystem::temp_directory_path() / "netpol-guard-yaml-reader-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "bad.yaml") << "apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\n"
                                     "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                                     "metadata: {name: Bad_Name, namespace: ok}\n";
  auto bad = index_manifest_files({dir.string()});
  std::filesystem::remove_all(dir);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().source == (dir / "bad.yaml").string() + "#2");
  CHECK(bad.error().line == 5);
  CHECK(bad.error().object == "NetworkPolicy ok/Bad_Name");
}

TEST_CASE("UTF-16 and UTF-32 texts and NUL bytes are refused, never half read",
          "[netpol][surface]") {
  // Two documents in UTF-16LE with a byte-order mark: split on "---" as bytes,
  // only the first would be read, and the Pod of the second never counted.
  const std::string utf8 = "kind: Namespace\nmetadata: {name: a}\n---\nkind: Pod\n";
  std::string le = "\xFF\xFE";
  for (char c : utf8) le += std::string{c, '\0'};
  auto err = parse_fails(le);
  CHECK_THAT(err.reason, Contains("not UTF-8"));
  CHECK(err.line == 1);
  std::string be = "\xFE\xFF";
  for (char c : utf8) be += std::string{'\0', c};
  CHECK_THAT(parse_fails(be).reason, Contains("not UTF-8"));
  std::string nul = "kind: Pod\nmetadata: {name: p}\n---\nkind: Pod\x00\n";
  nul[nul.size() - 2] = '\0';
  auto at = parse_fails(std::string("kind: Pod\nmetadata: {name: p}\n") + std::string(1, '\0'));
  CHECK(at.line == 3);
  CHECK_THAT(parse_fails(nul).reason, Contains("NUL"));
}
