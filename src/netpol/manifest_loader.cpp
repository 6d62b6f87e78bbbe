#include "netpol_guard/netpol/manifest_loader.hpp"

#include "netpol_guard/netpol/policy_validation.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

// The reading rules here follow kubectl (k8s.io/apimachinery util/yaml
// YAMLOrJSONDecoder and sigs.k8s.io/yaml over go-yaml v2), not the YAML spec:
// what kubectl applies is what the cluster will hold. README "How manifests are
// read" lists every surface form and what happens to it.

namespace netpol_guard {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr std::size_t max_yaml_depth = 256;
// Aliases are expanded when converting: bound the nodes, against "billion laughs".
constexpr std::size_t max_yaml_nodes = 2'000'000;
constexpr std::size_t max_yaml_documents = 100'000;
constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";
const std::string tag_prefix = "tag:yaml.org,2002:";

// 1-based line of a byte offset in a text.
class line_map {
 public:
  explicit line_map(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') newlines_.push_back(i);
  }
  std::size_t line_of(std::size_t offset) const {
    return static_cast<std::size_t>(std::lower_bound(newlines_.begin(), newlines_.end(), offset) -
                                    newlines_.begin()) + 1;
  }

 private:
  std::vector<std::size_t> newlines_;
};

// One YAML document as kubectl's YAMLReader cuts it: the lines between two
// lines starting with "---".
struct yaml_chunk {
  std::string text;
  std::size_t first_line = 1;  // line of the chunk's first byte in the file
};

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n\v\f");
  if (b == std::string_view::npos) return "";
  auto e = s.find_last_not_of(" \t\r\n\v\f");
  return std::string(s.substr(b, e - b + 1));
}

// kubectl splits only on lines that start with "---"; what follows on that
// line must be blank or a comment, anything else ("--- {a: 1}", "----") is
// refused. "..." is not a separator: the YAML parser sees it and reads the
// first document of the chunk only.
bool split_yaml(std::string_view text, std::size_t first_line, std::vector<yaml_chunk>& out,
                std::size_t& error_line, std::string& error) {
  out.push_back({"", first_line});
  std::size_t pos = 0;
  std::size_t line_no = first_line;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos
                                                                          : eol - pos + 1);
    if (line.substr(0, 3) == "---") {
      std::string rest = trim(line.substr(3));
      if (!rest.empty() && rest[0] != '#') {
        error_line = line_no;
        error = "invalid YAML document separator: " + rest;
        return false;
      }
      out.push_back({"", line_no + 1});
      if (out.size() > max_yaml_documents) {
        error_line = line_no;
        error = "more than " + std::to_string(max_yaml_documents) + " YAML documents";
        return false;
      }
    } else {
      out.back().text.append(line);
    }
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    ++line_no;
  }
  return true;
}

// True when a document has only comments, blank lines, "..." or a null literal
// (after a byte-order mark): kubectl skips it.
bool blank_document(std::string_view doc) {
  if (doc.substr(0, utf8_bom.size()) == utf8_bom) doc.remove_prefix(utf8_bom.size());
  std::size_t pos = 0;
  while (pos < doc.size()) {
    std::size_t eol = doc.find('\n', pos);
    std::string word = trim(doc.substr(pos, eol == std::string_view::npos ? std::string_view::npos
                                                                          : eol - pos));
    if (!word.empty() && word[0] != '#' && word != "~" && word != "null" && word != "Null" &&
        word != "NULL" && word != "...") {
      return false;
    }
    pos = eol == std::string_view::npos ? doc.size() : eol + 1;
  }
  return true;
}

// ---- go-yaml v2 scalar resolution (YAML 1.1), as sigs.k8s.io/yaml uses it.

struct conversion_error {
  std::string reason;
  std::size_t line = 0;  // 0-based within the chunk; 0 when unknown
};

bool parse_go_int(std::string s, json& out) {
  // strconv.ParseInt(s, 0, 64) then ParseUint, after removing "_".
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  if (s.empty()) return false;
  bool neg = false;
  std::size_t i = 0;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
  }
  int base = 10;
  if (s.size() > i + 1 && s[i] == '0') {
    char p = s[i + 1];
    if (p == 'x' || p == 'X') base = 16, i += 2;
    else if (p == 'o' || p == 'O') base = 8, i += 2;
    else if (p == 'b' || p == 'B') base = 2, i += 2;
    else base = 8, i += 1;
  }
  if (i >= s.size()) return false;
  unsigned long long v = 0;
  auto [ptr, ec] = std::from_chars(s.data() + i, s.data() + s.size(), v, base);
  if (ec != std::errc() || ptr != s.data() + s.size()) return false;
  if (neg) {
    if (v > 9223372036854775808ULL) return false;
    out = v == 9223372036854775808ULL ? std::numeric_limits<std::int64_t>::min()
                                      : -static_cast<std::int64_t>(v);
  } else if (v <= static_cast<unsigned long long>(std::numeric_limits<std::int64_t>::max())) {
    out = static_cast<std::int64_t>(v);
  } else {
    out = static_cast<std::uint64_t>(v);
  }
  return true;
}

// yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool yaml_style_float(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t b = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > b;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  } else {
    if (!digits()) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

bool parse_float(const std::string& s, double& d) {
  char* end = nullptr;
  errno = 0;
  d = std::strtod(s.c_str(), &end);
  return end && *end == '\0' && !s.empty() && s.find_first_of("xXpP") == std::string::npos;
}

// go-yaml v2 resolves a plain date ("2024-01-01") as a timestamp but hands it
// to interface{} targets as the original string, so no timestamp kind here.
enum class yaml_kind { str, null_, boolean, integer, floating };

// go-yaml v2 resolve() for a plain (untagged) scalar.
yaml_kind resolve_plain(const std::string& s, json& out) {
  static const std::set<std::string, std::less<>> yes{"y", "Y", "yes", "Yes", "YES", "true",
                                                      "True", "TRUE", "on", "On", "ON"};
  static const std::set<std::string, std::less<>> no{"n", "N", "no", "No", "NO", "false",
                                                     "False", "FALSE", "off", "Off", "OFF"};
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    out = nullptr;
    return yaml_kind::null_;
  }
  if (yes.contains(s)) return out = true, yaml_kind::boolean;
  if (no.contains(s)) return out = false, yaml_kind::boolean;
  char c = s[0];
  if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    out = std::nan("");
    return yaml_kind::floating;
  }
  for (std::string_view inf : {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"}) {
    if (s == inf) return out = HUGE_VAL, yaml_kind::floating;
  }
  for (std::string_view inf : {"-.inf", "-.Inf", "-.INF"}) {
    if (s == inf) return out = -HUGE_VAL, yaml_kind::floating;
  }
  double d = 0;
  if (c == '.') {
    if (parse_float(s, d)) return out = d, yaml_kind::floating;
  } else if ((c >= '0' && c <= '9') || c == '+' || c == '-') {
    if (parse_go_int(s, out)) return yaml_kind::integer;
    std::string plain = s;
    plain.erase(std::remove(plain.begin(), plain.end(), '_'), plain.end());
    if (yaml_style_float(plain) && parse_float(plain, d)) return out = d, yaml_kind::floating;
  }
  out = s;
  return yaml_kind::str;
}

// A float as encoding/json writes it: integral values below 1e21 come out
// without a decimal point, so Go reads them back as integers.
bool float_to_json(double d, json& out, std::string& error) {
  if (std::isnan(d) || std::isinf(d)) {
    error = "json: unsupported value: " + std::string(std::isnan(d) ? "NaN" : "+Inf");
    return false;
  }
  if (std::floor(d) == d && std::fabs(d) < 1e21) {
    if (std::fabs(d) < 9.2e18) out = static_cast<std::int64_t>(d);
    else out = d;
  } else {
    out = d;
  }
  return true;
}

bool scalar_to_json(const YAML::Node& n, json& out, std::string& error) {
  const std::string& s = n.Scalar();
  const std::string& tag = n.Tag();
  yaml_kind k;
  if (tag == "?") {
    k = resolve_plain(s, out);
  } else if (tag == "!" || tag == tag_prefix + "str" || tag == tag_prefix + "binary" ||
             tag.rfind(tag_prefix, 0) != 0) {
    // Quoted, !!str, or a tag go-yaml does not resolve: the text as a string.
    out = s;
    return true;
  } else {
    std::string want = tag.substr(tag_prefix.size());
    k = resolve_plain(s, out);
    bool ok = (want == "int" && k == yaml_kind::integer) ||
              (want == "float" && (k == yaml_kind::floating || k == yaml_kind::integer)) ||
              (want == "bool" && k == yaml_kind::boolean) ||
              (want == "null" && k == yaml_kind::null_) || want == "timestamp";
    if (!ok) {
      error = "cannot decode `" + s + "` as a !!" + want;
      return false;
    }
  }
  if (k == yaml_kind::floating) return float_to_json(out.get<double>(), out, error);
  return true;
}

// A mapping key as sigs.k8s.io/yaml turns it into a JSON key.
bool key_to_string(const YAML::Node& k, std::string& key, std::string& error) {
  if (!k.IsScalar()) {
    error = k.IsNull() ? "unsupported map key of type: <nil>" : "invalid map key: not a scalar";
    return false;
  }
  json v;
  if (!scalar_to_json(k, v, error)) return false;
  if (v.is_string()) {
    key = v.get<std::string>();
  } else if (v.is_boolean()) {
    key = v.get<bool>() ? "true" : "false";
  } else if (v.is_number_integer()) {
    key = v.dump();
  } else if (v.is_number_float()) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<float>(v.get<double>()));
    key.assign(buf, r.ptr);
  } else {
    error = "unsupported map key of type: <nil>";
    return false;
  }
  return true;
}

bool is_merge_key(const YAML::Node& k) {
  return k.IsScalar() && k.Scalar() == "<<" && (k.Tag() == "?" || k.Tag() == tag_prefix + "merge");
}

// go-yaml v2 (decode.go, allowedAliasRatio): once a document has decoded more
// than 1,000 nodes, of which more than 100 came from aliases, the share that came
// from aliases may not pass 99% (up to 400,000 nodes), falling to 10% at
// 4,000,000. kubectl refuses the document otherwise, and so do we, long before
// a "billion laughs" expands.
bool excessive_aliasing(std::size_t decoded, std::size_t from_aliases) {
  if (from_aliases <= 100 || decoded <= 1000) return false;
  constexpr double low = 400'000, high = 4'000'000;
  const double d = static_cast<double>(decoded);
  const double allowed = d <= low ? 0.99 : d >= high ? 0.10 : 0.99 - 0.89 * ((d - low) / (high - low));
  return static_cast<double>(from_aliases) / d > allowed;
}

struct converter {
  std::size_t budget = max_yaml_nodes;
  conversion_error error;
  // yaml-cpp hands an alias back as its anchored node, marks included: a node
  // met a second time is an alias expansion, and so is all beneath it.
  std::set<std::pair<int, int>> seen;  // (source position, node type)
  std::size_t decoded = 0, from_aliases = 0, alias_depth = 0;

  // kubectl decodes each document on its own; positions restart with each.
  void begin_document() {
    seen.clear();
    decoded = from_aliases = alias_depth = 0;
  }

  // Counts one decoded node (keys included, as go-yaml does); false once the
  // document holds too many alias copies.
  bool count(bool alias) {
    ++decoded;
    if (alias || alias_depth > 0) ++from_aliases;
    return !excessive_aliasing(decoded, from_aliases);
  }

  bool fail(const YAML::Node& n, std::string why) {
    error = {std::move(why), static_cast<std::size_t>(std::max(0, n.Mark().line))};
    return false;
  }

  bool map_into(const YAML::Node& n, json& out, std::size_t depth) {
    for (const auto& kv : n) {
      if (is_merge_key(kv.first)) {
        if (!merge(kv.second, out, depth)) return false;
        continue;
      }
      std::string key, why;
      if (!count(false)) return fail(kv.first, "document contains excessive aliasing");
      if (!key_to_string(kv.first, key, why)) return fail(kv.first, why);
      json v;
      if (!convert(kv.second, v, depth + 1)) return false;
      // go-yaml v2 without strict mode: a repeated key replaces the earlier one.
      out[key] = std::move(v);
    }
    return true;
  }

  // go-yaml v2: "<<" copies the keys of a mapping (or of each mapping in a
  // sequence, earlier ones winning) into the mapping at that point; keys
  // written after "<<" replace merged ones, keys written before it are replaced.
  bool merge(const YAML::Node& v, json& out, std::size_t depth) {
    auto copy = [&](const YAML::Node& m) {
      json merged = json::object();
      if (!convert(m, merged, depth + 1)) return false;
      for (auto& [k, val] : merged.items()) out[k] = std::move(val);
      return true;
    };
    if (v.IsMap()) return copy(v);
    if (v.IsSequence()) {
      for (std::size_t i = v.size(); i-- > 0;) {
        if (!v[i].IsMap()) return fail(v, "map merge requires map or sequence of maps as the value");
      }
      for (std::size_t i = v.size(); i-- > 0;) {
        if (!copy(v[i])) return false;
      }
      return true;
    }
    return fail(v, "map merge requires map or sequence of maps as the value");
  }

  bool convert(const YAML::Node& n, json& out, std::size_t depth) {
    if (budget == 0) {
      return fail(n, "more than " + std::to_string(max_yaml_nodes) + " YAML nodes (alias expansion?)");
    }
    --budget;
    if (depth > max_yaml_depth) {
      return fail(n, "nested deeper than " + std::to_string(max_yaml_depth) + " levels");
    }
    bool alias = false;
    if (alias_depth == 0 && n.Type() != YAML::NodeType::Null && !n.Mark().is_null()) {
      alias = !seen.emplace(n.Mark().pos, static_cast<int>(n.Type())).second;
    }
    // go-yaml counts the alias node itself outside the expansion.
    if (alias && !count(false)) return fail(n, "document contains excessive aliasing");
    if (!count(alias)) return fail(n, "document contains excessive aliasing");
    if (alias) ++alias_depth;
    const bool ok = convert_node(n, out, depth);
    if (alias) --alias_depth;
    return ok;
  }

  bool convert_node(const YAML::Node& n, json& out, std::size_t depth) {
    switch (n.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        out = nullptr;
        return true;
      case YAML::NodeType::Scalar: {
        std::string why;
        if (!scalar_to_json(n, out, why)) return fail(n, why);
        return true;
      }
      case YAML::NodeType::Sequence:
        out = json::array();
        for (const auto& item : n) {
          json v;
          if (!convert(item, v, depth + 1)) return false;
          out.push_back(std::move(v));
        }
        return true;
      case YAML::NodeType::Map:
        out = json::object();
        return map_into(n, out, depth);
    }
    out = nullptr;
    return true;
  }
};

// ---- JSON streams

struct json_too_deep {};

// Parses one JSON value; nlohmann keeps the last of repeated keys, as Go's
// encoding/json does.
bool parse_json_value(std::string_view text, json& out, std::string& error) {
  try {
    out = json::parse(text.begin(), text.end(),
                      [](int depth, json::parse_event_t, json&) {
                        if (static_cast<std::size_t>(depth) > max_yaml_depth) throw json_too_deep{};
                        return true;
                      });
    return true;
  } catch (const json_too_deep&) {
    error = "nested deeper than " + std::to_string(max_yaml_depth) + " levels";
  } catch (const json::exception& e) {
    error = std::string("invalid JSON: ") + e.what();
  }
  return false;
}

// End of the JSON object starting at `begin` ('{'): one past its closing brace,
// or npos when unterminated.
std::size_t json_object_end(std::string_view text, std::size_t begin) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = begin; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

// encoding/json reads 80.0 into an int32 field: make integral floats integers,
// as the YAML path does.
void integral_floats(json& v) {
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::floor(d) == d && std::fabs(d) < 9.2e18) v = static_cast<std::int64_t>(d);
  } else if (v.is_structured()) {
    for (auto& item : v) integral_floats(item);
  }
}

bool go_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// ---- objects

bool is_manifest_file(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}


bool fail_at(manifest_error& error, const std::string& where, std::size_t line, std::string reason) {
  error = {where, std::move(reason), line, ""};
  return false;
}

bool add_object(json obj, const YAML::Node* node, const std::string& source, std::size_t line,
                std::vector<manifest_object>& out, manifest_error& error, int depth = 0) {
  if (obj.is_null()) return true;  // empty document
  if (!obj.is_object()) {
    return fail_at(error, source, line, "document is not a Kubernetes object (expected a mapping)");
  }
  auto kind = obj.find("kind");
  if (kind == obj.end() || !kind->is_string() || kind->get_ref<const std::string&>().empty()) {
    return fail_at(error, source, line, "object has no \"kind\"");
  }
  if (kind->get_ref<const std::string&>() == "List" ||
      (kind->get_ref<const std::string&>().ends_with("List") && obj.contains("items"))) {
    auto items = obj.find("items");
    if (items == obj.end() || items->is_null()) return true;
    if (!items->is_array()) return fail_at(error, source, line, "List.items is not an array");
    if (depth > 4) return fail_at(error, source, line, "List nested too deeply");
    const YAML::Node* item_nodes = nullptr;
    YAML::Node found;
    if (node && node->IsMap()) {
      found = (*node)["items"];
      if (found.IsSequence() && found.size() == items->size()) item_nodes = &found;
    }
    for (std::size_t i = 0; i < items->size(); ++i) {
      YAML::Node item;
      std::size_t item_line = line;
      if (item_nodes) {
        item = (*item_nodes)[i];
        item_line = line + static_cast<std::size_t>(std::max(0, item.Mark().line)) -
                    static_cast<std::size_t>(std::max(0, node->Mark().line));
      }
      if (!add_object(std::move((*items)[i]), item_nodes ? &item : nullptr, source, item_line, out,
                      error, depth + 1)) {
        return false;
      }
    }
    return true;
  }
  out.push_back({source, std::move(obj), line});
  return true;
}

bool parse_yaml_chunks(const std::vector<yaml_chunk>& chunks, const std::string& source,
                       std::size_t first_number, std::vector<manifest_object>& out,
                       manifest_error& error) {
  converter conv;
  std::size_t number = first_number;
  const bool numbered = chunks.size() > 1 || first_number > 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const auto& chunk = chunks[i];
    const bool blank = blank_document(chunk.text);
    // Documents are numbered as they stand in the file; text before a leading
    // "---" is not a document of its own.
    if (i > 0 || !blank) ++number;
    if (blank) continue;
    std::string where = numbered ? source + "#" + std::to_string(number) : source;
    json obj;
    YAML::Node doc;
    try {
      doc = YAML::Load(chunk.text);
    } catch (const YAML::Exception& e) {
      return fail_at(error, where, chunk.first_line + static_cast<std::size_t>(std::max(0, e.mark.line)),
                     "invalid YAML/JSON: " + e.msg);
    } catch (const std::exception& e) {
      return fail_at(error, where, chunk.first_line, std::string("cannot parse: ") + e.what());
    }
    if (doc.IsNull()) {
      return fail_at(error, where, chunk.first_line, "invalid YAML/JSON: no document could be read");
    }
    conv.begin_document();
    if (!conv.convert(doc, obj, 0)) {
      return fail_at(error, where, chunk.first_line + conv.error.line, conv.error.reason);
    }
    std::size_t line = chunk.first_line + static_cast<std::size_t>(std::max(0, doc.Mark().line));
    if (!add_object(std::move(obj), &doc, where, line, out, error)) return false;
  }
  return true;
}

}  // namespace

std::string manifest_error::what() const {
  std::string out = source;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!object.empty()) out += object + ": ";
  return out + reason;
}

std::optional<std::vector<manifest_object>> parse_manifests(std::string_view text,
                                                            const std::string& source,
                                                            manifest_error& error) {
  std::vector<manifest_object> out;
  // kubectl reads files through unicode.BOMOverride: a leading UTF-8
  // byte-order mark is dropped before anything else looks at the text.
  if (text.substr(0, utf8_bom.size()) == utf8_bom) text.remove_prefix(utf8_bom.size());
  const line_map lines(text);
  std::size_t pos = 0;
  while (pos < text.size() && go_space(text[pos])) ++pos;
  // kubectl reads a stream whose first non-space byte is '{' as a series of
  // JSON objects; once two were read a failure is final, before that the rest
  // is read as YAML.
  std::size_t json_count = 0;
  std::size_t yaml_from = 0;
  if (pos < text.size() && text[pos] == '{') {
    while (pos < text.size()) {
      if (json_count >= max_yaml_documents) {
        fail_at(error, source, lines.line_of(pos), "more than " + std::to_string(max_yaml_documents) + " JSON objects");
        return std::nullopt;
      }
      std::size_t end = text[pos] == '{' ? json_object_end(text, pos) : std::string_view::npos;
      json obj;
      std::string why;
      bool ok = end != std::string_view::npos && parse_json_value(text.substr(pos, end - pos), obj, why);
      if (!ok) {
        if (json_count > 1 || why.starts_with("nested")) {
          if (why.empty()) why = "invalid JSON: an object was expected";
          fail_at(error, source + "#" + std::to_string(json_count + 1), lines.line_of(pos), why);
          return std::nullopt;
        }
        break;  // the rest is YAML
      }
      ++json_count;
      integral_floats(obj);
      std::size_t line = lines.line_of(pos);
      pos = end;
      yaml_from = pos;
      while (pos < text.size() && go_space(text[pos])) ++pos;
      // Whether more follows decides the numbering; add after peeking.
      bool more = pos < text.size();
      std::string where = (json_count > 1 || more) ? source + "#" + std::to_string(json_count) : source;
      if (!add_object(std::move(obj), nullptr, where, line, out, error)) return std::nullopt;
    }
    if (pos >= text.size()) return out;
    // Go's decoder leaves the rest from the end of the last object, minus the
    // whitespace up to and including the first newline.
    std::size_t p = yaml_from;
    while (p < text.size() && go_space(text[p]) && text[p] != '\n') ++p;
    if (p < text.size() && text[p] == '\n') ++p;
    yaml_from = p;
  }
  std::vector<yaml_chunk> chunks;
  std::size_t bad_line = 0;
  std::string why;
  const std::size_t first_line = lines.line_of(yaml_from);
  if (!split_yaml(text.substr(yaml_from), first_line, chunks, bad_line, why)) {
    fail_at(error, source, bad_line, why);
    return std::nullopt;
  }
  if (!parse_yaml_chunks(chunks, source, json_count, out, error)) return std::nullopt;
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
    if (auto invalid = validate_manifest_object(m.object)) {
      error = {m.source, *invalid, m.line, describe_object(m.object)};
      return std::nullopt;
    }
    const auto& kind = m.object["kind"].get_ref<const std::string&>();
    std::string why;
    bool ok = true;
    if (kind == "NetworkPolicy") {
      ok = index_policy(index, m.object, why);
    } else if (kind == "Namespace") {
      ok = index_namespace(index, m.object, why);
    }
    if (!ok) {
      error = {m.source, why, m.line, describe_object(m.object)};
      return std::nullopt;
    }
  }
  return index;
}

}  // namespace netpol_guard
