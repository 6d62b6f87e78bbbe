#pragma once

// YAML scalars and keys to JSON as kubectl reads them: sigs.k8s.io/yaml over
// go-yaml v2, so YAML 1.1 resolution ("yes", 0x1F, 1_000, .inf), go-yaml's
// tag checks, and the key conversion of sigs.k8s.io/yaml. Used by the event
// reader (yaml_reader.hpp); README "How manifests are read" lists every form.

#include <boost/system/result.hpp>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace netpol_guard {

// A scalar's value. `tag` is the node's resolved tag as the parser reports it
// ("tag:yaml.org,2002:int", "!", "!local"), empty when it has none; `plain`
// is true for a plain (unquoted, not block) scalar.
boost::system::result<nlohmann::json, std::string> yaml_scalar_to_json(std::string_view value,
                                                                       std::string_view tag,
                                                                       bool plain);

// A mapping key, already read as a value, as sigs.k8s.io/yaml turns it into a
// JSON key: strings as they are, booleans and numbers in Go's spelling; null,
// mappings and sequences are errors.
boost::system::result<std::string, std::string> yaml_key_from_json(const nlohmann::json& key);

// go-yaml v2's merge key: "<<" plain and untagged, or tagged !!merge.
bool is_yaml_merge_key(std::string_view value, std::string_view tag, bool plain);

// go-yaml v2 (decode.go, allowedAliasRatio): once a document has decoded more
// than 1,000 nodes, of which more than 100 came from aliases, the share that
// came from aliases may not pass 99% (up to 400,000 nodes), falling to 10% at
// 4,000,000. kubectl refuses the document otherwise, long before a "billion
// laughs" expands.
bool excessive_yaml_aliasing(std::size_t decoded, std::size_t from_aliases);

}  // namespace netpol_guard
