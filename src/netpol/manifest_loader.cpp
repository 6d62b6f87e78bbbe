#include "netpol_guard/manifest.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace netpol_guard {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr std::size_t max_yaml_depth = 256;
// Aliases are expanded when converting: bound the nodes, against "billion laughs".
constexpr std::size_t max_yaml_nodes = 2'000'000;
constexpr std::size_t max_yaml_documents = 100'000;

// Splits a YAML stream at document markers ("---" / "..." at column 0). Each
// part is parsed alone: yaml-cpp's LoadAll can loop forever on some malformed
// streams (a stray ","), producing empty documents without consuming input.
std::vector<std::string> split_documents(std::string_view text) {
  std::vector<std::string> docs(1);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos
                                                                          : eol - pos + 1);
    auto marker = [&](std::string_view m) {
      return line.substr(0, 3) == m &&
             (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\n' ||
              line[3] == '\r');
    };
    if (marker("---")) {
      docs.emplace_back(line.substr(3));  // "--- {a: 1}" keeps its content
    } else if (marker("...")) {
      docs.emplace_back();
    } else {
      docs.back().append(line);
    }
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
  }
  return docs;
}

// True when a document has only comments, blank lines or a null literal.
bool blank_document(const std::string& doc) {
  std::size_t pos = 0;
  while (pos < doc.size()) {
    std::size_t eol = doc.find('\n', pos);
    std::string line = doc.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    auto first = line.find_first_not_of(" \t\r");
    if (first != std::string::npos && line[first] != '#') {
      auto last = line.find_last_not_of(" \t\r");
      std::string word = line.substr(first, last - first + 1);
      if (word != "~" && word != "null" && word != "Null" && word != "NULL") return false;
    }
    pos = eol == std::string::npos ? doc.size() : eol + 1;
  }
  return true;
}

// YAML 1.2 core schema for plain scalars; quoted scalars stay strings.
json scalar_to_json(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() != "?") return s;  // quoted or explicitly tagged: a string
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  char* end = nullptr;
  errno = 0;
  long long i = std::strtoll(s.c_str(), &end, 10);
  if (errno == 0 && end && *end == '\0' && !s.empty() && s.find_first_of(" \t") == std::string::npos) {
    return i;
  }
  errno = 0;
  double d = std::strtod(s.c_str(), &end);
  if (errno == 0 && end && *end == '\0' && s.find_first_of("0123456789") != std::string::npos &&
      s.find_first_of("xXnN") == std::string::npos) {
    return d;
  }
  return s;
}

bool to_json(const YAML::Node& n, json& out, std::size_t depth, std::size_t& budget,
             std::string& error) {
  if (budget == 0) {
    error = "more than " + std::to_string(max_yaml_nodes) + " YAML nodes (alias expansion?)";
    return false;
  }
  --budget;
  if (depth > max_yaml_depth) {
    error = "nested deeper than " + std::to_string(max_yaml_depth) + " levels";
    return false;
  }
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out = nullptr;
      return true;
    case YAML::NodeType::Scalar:
      out = scalar_to_json(n);
      return true;
    case YAML::NodeType::Sequence:
      out = json::array();
      for (const auto& item : n) {
        json v;
        if (!to_json(item, v, depth + 1, budget, error)) return false;
        out.push_back(std::move(v));
      }
      return true;
    case YAML::NodeType::Map:
      out = json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) {
          error = "mapping key is not a scalar";
          return false;
        }
        const std::string& key = kv.first.Scalar();
        if (out.contains(key)) {
          error = "duplicate key \"" + key + "\"";
          return false;
        }
        json v;
        if (!to_json(kv.second, v, depth + 1, budget, error)) return false;
        out[key] = std::move(v);
      }
      return true;
  }
  out = nullptr;
  return true;
}

bool add_object(json obj, const std::string& source, std::vector<manifest_object>& out,
                manifest_error& error, int depth = 0) {
  if (obj.is_null()) return true;  // empty document
  if (!obj.is_object()) {
    error = {source, "document is not a Kubernetes object (expected a mapping)"};
    return false;
  }
  auto kind = obj.find("kind");
  if (kind == obj.end() || !kind->is_string()) {
    error = {source, "object has no \"kind\""};
    return false;
  }
  if (kind->get_ref<const std::string&>() == "List" ||
      (kind->get_ref<const std::string&>().ends_with("List") && obj.contains("items"))) {
    auto items = obj.find("items");
    if (items == obj.end() || items->is_null()) return true;
    if (!items->is_array()) {
      error = {source, "List.items is not an array"};
      return false;
    }
    if (depth > 4) {
      error = {source, "List nested too deeply"};
      return false;
    }
    for (auto& item : *items) {
      if (!add_object(std::move(item), source, out, error, depth + 1)) return false;
    }
    return true;
  }
  out.push_back({source, std::move(obj)});
  return true;
}

bool is_manifest_file(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

}  // namespace

std::optional<std::vector<manifest_object>> parse_manifests(std::string_view text,
                                                            const std::string& source,
                                                            manifest_error& error) {
  std::vector<manifest_object> out;
  auto parts = split_documents(text);
  if (parts.size() > max_yaml_documents) {
    error = {source, "more than " + std::to_string(max_yaml_documents) + " YAML documents"};
    return std::nullopt;
  }
  std::size_t budget = max_yaml_nodes;
  std::size_t number = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& part = parts[i];
    // Documents are numbered as they stand in the file; text before a leading
    // "---" is not a document of its own.
    if (i > 0 || !blank_document(part)) ++number;
    if (blank_document(part)) continue;
    std::string where = parts.size() > 1 ? source + "#" + std::to_string(number) : source;
    json obj;
    try {
      YAML::Node doc = YAML::Load(part);
      if (doc.IsNull()) {
        error = {where, "invalid YAML/JSON: no document could be read"};
        return std::nullopt;
      }
      std::string why;
      if (!to_json(doc, obj, 0, budget, why)) {
        error = {where, why};
        return std::nullopt;
      }
    } catch (const YAML::Exception& e) {
      error = {where, std::string("invalid YAML/JSON: ") + e.what()};
      return std::nullopt;
    } catch (const std::exception& e) {
      error = {where, std::string("cannot parse: ") + e.what()};
      return std::nullopt;
    }
    if (!add_object(std::move(obj), where, out, error)) return std::nullopt;
  }
  return out;
}

std::optional<std::vector<manifest_object>> load_manifests(const std::vector<std::string>& paths,
                                                           manifest_error& error) {
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    std::error_code ec;
    auto status = fs::status(p, ec);
    if (ec || !fs::exists(status)) {
      error = {p, "no such file or directory"};
      return std::nullopt;
    }
    if (fs::is_directory(status)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        if (it->is_regular_file() && is_manifest_file(it->path())) found.push_back(it->path());
      }
      if (ec) {
        error = {p, "cannot read directory: " + ec.message()};
        return std::nullopt;
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.emplace_back(p);
    }
  }
  std::vector<manifest_object> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      error = {f.string(), std::string("cannot open: ") + std::strerror(errno)};
      return std::nullopt;
    }
    std::error_code ec;
    auto size = fs::file_size(f, ec);
    if (!ec && size > max_manifest_bytes) {
      error = {f.string(), "file larger than " + std::to_string(max_manifest_bytes) + " bytes"};
      return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto objs = parse_manifests(text.str(), f.string(), error);
    if (!objs) return std::nullopt;
    std::move(objs->begin(), objs->end(), std::back_inserter(out));
  }
  return out;
}

std::string object_namespace(const json& o) {
  auto md = o.find("metadata");
  if (md != o.end() && md->is_object()) {
    auto ns = md->find("namespace");
    if (ns != md->end() && ns->is_string() && !ns->get_ref<const std::string&>().empty()) {
      return ns->get<std::string>();
    }
  }
  return "default";
}

std::string object_name(const json& o) {
  auto md = o.find("metadata");
  if (md != o.end() && md->is_object()) {
    auto n = md->find("name");
    if (n != md->end() && n->is_string()) return n->get<std::string>();
    auto g = md->find("generateName");
    if (g != md->end() && g->is_string()) return g->get<std::string>();
  }
  return "";
}

std::optional<policy_summary> summarize_policy(const json& policy, std::string& error) {
  std::string name = object_name(policy);
  if (name.empty()) {
    error = "NetworkPolicy has no metadata.name";
    return std::nullopt;
  }
  auto spec = policy.find("spec");
  auto facts = facts_from_spec(spec == policy.end() ? json() : *spec, error);
  if (!facts) {
    error = "NetworkPolicy \"" + name + "\": spec." + error;
    return std::nullopt;
  }
  policy_summary summary{object_namespace(policy), std::move(name), coverage_of(*facts), {}, false};
  if (auto md = policy.find("metadata"); md != policy.end() && md->is_object()) {
    if (auto c = md->find("creationTimestamp"); c != md->end() && c->is_string()) {
      summary.created = c->get<std::string>();
    }
    auto d = md->find("deletionTimestamp");
    summary.deleting = d != md->end() && !d->is_null() &&
                       !(d->is_string() && d->get_ref<const std::string&>().empty());
  }
  if (summary.deleting) summary.coverage = {};
  return summary;
}

bool summarize_namespace(const json& ns, std::string& name, bool& terminating,
                         std::string& error) {
  name.clear();
  terminating = false;
  auto md = ns.find("metadata");
  if (md != ns.end() && md->is_object()) {
    auto n = md->find("name");
    if (n != md->end() && n->is_string()) name = n->get<std::string>();
    auto d = md->find("deletionTimestamp");
    terminating = d != md->end() && d->is_string() && !d->get_ref<const std::string&>().empty();
  }
  if (name.empty()) {
    error = "Namespace has no metadata.name";
    return false;
  }
  auto status = ns.find("status");
  if (status != ns.end() && status->is_object()) {
    auto phase = status->find("phase");
    terminating = terminating || (phase != status->end() && phase->is_string() &&
                                  phase->get_ref<const std::string&>() == "Terminating");
  }
  return true;
}

bool index_policy(namespace_index& index, const json& policy, std::string& error) {
  auto p = summarize_policy(policy, error);
  if (!p) return false;
  index.upsert_policy(p->namespace_name, p->name, p->coverage, p->created);
  return true;
}

bool index_namespace(namespace_index& index, const json& ns, std::string& error) {
  std::string name;
  bool terminating = false;
  if (!summarize_namespace(ns, name, terminating, error)) return false;
  index.upsert_namespace(name, terminating);
  return true;
}

std::optional<namespace_index> index_manifests(const std::vector<manifest_object>& objects,
                                               manifest_error& error) {
  namespace_index index;
  for (const auto& m : objects) {
    const auto& kind = m.object["kind"].get_ref<const std::string&>();
    std::string why;
    bool ok = true;
    if (kind == "NetworkPolicy") {
      ok = index_policy(index, m.object, why);
    } else if (kind == "Namespace") {
      ok = index_namespace(index, m.object, why);
    }
    if (!ok) {
      error = {m.source, why};
      return std::nullopt;
    }
  }
  return index;
}

}  // namespace netpol_guard
