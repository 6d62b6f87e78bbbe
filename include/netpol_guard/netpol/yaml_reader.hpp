#pragma once

// YAML nodes to JSON as kubectl reads them: sigs.k8s.io/yaml over go-yaml v2,
// so YAML 1.1 scalars ("yes", 0x1F, 1_000), "<<" merge keys, last-wins
// duplicate keys, and go-yaml's alias-ratio rule against "billion laughs".
// README "How manifests are read" lists every form.

#include <boost/system/result.hpp>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>

namespace YAML {
class Node;
}

namespace netpol_guard {

// Deepest nesting read, in YAML and in JSON.
inline constexpr std::size_t max_yaml_depth = 256;
// Aliases are expanded when converting: bound the nodes of a whole stream.
inline constexpr std::size_t max_yaml_nodes = 2'000'000;

struct conversion_error {
  std::string reason;
  std::size_t line = 0;  // 0-based within the document; 0 when unknown
};

// One converter reads the documents of one stream in turn.
class yaml_converter {
 public:
  // Converts one document, or says why kubectl would refuse it.
  boost::system::result<nlohmann::json, conversion_error> convert_document(const YAML::Node& doc);

 private:
  bool fail(const YAML::Node& n, std::string why);
  bool count(bool alias);
  bool map_into(const YAML::Node& n, nlohmann::json& out, std::size_t depth);
  bool merge(const YAML::Node& v, nlohmann::json& out, std::size_t depth);
  bool convert(const YAML::Node& n, nlohmann::json& out, std::size_t depth);
  bool convert_node(const YAML::Node& n, nlohmann::json& out, std::size_t depth);

  std::size_t budget_ = max_yaml_nodes;
  conversion_error error_;
  // yaml-cpp hands an alias back as its anchored node, marks included: a node
  // met a second time is an alias expansion, and so is all beneath it.
  std::set<std::pair<int, int>> seen_;  // (source position, node type)
  std::size_t decoded_ = 0, from_aliases_ = 0, alias_depth_ = 0;
};

}  // namespace netpol_guard
