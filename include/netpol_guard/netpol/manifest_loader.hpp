#pragma once

// Kubernetes objects read from YAML or JSON files as kubectl reads them:
// multi-document YAML, JSON streams, `kind: List`, single objects; files or
// directories (recursively, *.yaml, *.yml, *.json). README "How manifests are
// read" lists every surface form.

#include <boost/system/result.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "netpol_guard/netpol/namespace_snapshot.hpp"

namespace netpol_guard {

struct manifest_object {
  std::string source;  // "file.yaml" or "file.yaml#2" (document index)
  nlohmann::json object;
  std::size_t line = 0;  // 1-based line where the object starts; 0 when unknown
};

struct manifest_error {
  manifest_error() = default;
  manifest_error(std::string source_, std::string reason_, std::size_t line_ = 0,
                 std::string object_ = {})
      : source(std::move(source_)),
        reason(std::move(reason_)),
        line(line_),
        object(std::move(object_)) {}

  std::string source;
  std::string reason;
  std::size_t line = 0;  // 1-based; 0 when unknown
  std::string object;    // "NetworkPolicy team-a/deny" when an object is at fault
  // "source[:line]: [object: ]reason"
  std::string what() const;
};

// Largest manifest file read; larger ones are an error, not a silent truncation.
inline constexpr std::size_t max_manifest_bytes = 64 * 1024 * 1024;

// Receives each object as it is read; an error stops the reading and is returned.
using manifest_sink = std::function<boost::system::result<void, manifest_error>(manifest_object&&)>;

// Reads one YAML or JSON text, handing each object to `sink` as soon as its
// document is read: one document's JSON is held at a time.
boost::system::result<void, manifest_error> read_manifest_text(std::string_view text,
                                                               const std::string& source,
                                                               const manifest_sink& sink);

// Parses one YAML or JSON text (JSON is YAML) into objects; `kind: List` is
// flattened. Throws nothing: the first error is returned.
boost::system::result<std::vector<manifest_object>, manifest_error> parse_manifests(
    std::string_view text, const std::string& source);

// Reads every file under `paths` (files or directories, recursively and
// sorted), one file in memory at a time, handing each object to `sink`.
boost::system::result<void, manifest_error> read_manifests(const std::vector<std::string>& paths,
                                                           const manifest_sink& sink);

// Reads every file under `paths` (files or directories).
boost::system::result<std::vector<manifest_object>, manifest_error> load_manifests(
    const std::vector<std::string>& paths);

// Builds an index from manifest objects: NetworkPolicies and Namespaces; other
// kinds only make their namespace known. Every object is validated first
// (validate_manifest_object): an object kubectl or the apiserver would refuse
// is an error, never counted.
boost::system::result<namespace_index, manifest_error> index_manifests(
    const std::vector<manifest_object>& objects);

// load_manifests and index_manifests in one pass that holds no object longer
// than it takes to index it: how `serve --policies` reads large policy sets.
boost::system::result<namespace_index, manifest_error> index_manifest_files(
    const std::vector<std::string>& paths);

}  // namespace netpol_guard
