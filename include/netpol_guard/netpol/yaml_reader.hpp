#pragma once

// One YAML document to JSON as kubectl reads it (sigs.k8s.io/yaml over go-yaml
// v2), from libyaml's events: no YAML DOM is built, each node goes straight
// into the JSON value it becomes. YAML 1.1 scalars (yaml_scalars.hpp), "<<"
// merge keys, last-wins duplicate keys, anchors and aliases with go-yaml's
// alias-ratio rule against "billion laughs". README "How manifests are read"
// lists every form.

#include <boost/system/result.hpp>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace netpol_guard {

// Deepest nesting read, in YAML and in JSON.
inline constexpr std::size_t max_yaml_depth = 256;
// Aliases are expanded when converting: bound the nodes of a whole stream.
inline constexpr std::size_t max_yaml_nodes = 2'000'000;

struct conversion_error {
  std::string reason;
  std::size_t line = 0;  // 0-based within the text read
};

struct yaml_document {
  nlohmann::json value;  // null when the document is empty
  bool found = false;    // false when the text holds no document at all
  std::size_t line = 0;  // 0-based line of the document's root node
  // 0-based lines of the entries of the root mapping's "items" sequence, in
  // order, so that the objects of a List keep their own lines.
  std::vector<std::size_t> item_lines;
};

// One converter reads the documents of one stream (one per chunk, as kubectl's
// YAMLReader cuts them) in turn; the node budget spans the stream.
class yaml_converter {
 public:
  // Reads the first document of `text`, as go-yaml's Unmarshal does: what
  // follows a "..." is not read. Parse errors read "invalid YAML/JSON: " and
  // the parser's problem, as kubectl prints it.
  boost::system::result<yaml_document, conversion_error> convert_document(std::string_view text);

 private:
  std::size_t budget_ = max_yaml_nodes;
};

}  // namespace netpol_guard
