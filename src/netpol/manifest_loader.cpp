#include "netpol_guard/netpol/manifest_loader.hpp"

#include <algorithm>
#include <cmath>

#include "netpol_guard/netpol/yaml_reader.hpp"

// The reading rules here follow kubectl (k8s.io/apimachinery util/yaml
// YAMLOrJSONDecoder and sigs.k8s.io/yaml over go-yaml v2), not the YAML spec:
// what kubectl applies is what the cluster will hold. README "How manifests are
// read" lists every surface form and what happens to it.

namespace netpol_guard {
namespace {

using json = nlohmann::json;

constexpr std::size_t max_yaml_documents = 100'000;
constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

// 1-based line of a byte offset in a text.
class line_map {
 public:
  explicit line_map(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') newlines_.push_back(i);
  }
  std::size_t line_of(std::size_t offset) const {
    return static_cast<std::size_t>(std::lower_bound(newlines_.begin(), newlines_.end(), offset) -
                                    newlines_.begin()) +
           1;
  }

 private:
  std::vector<std::size_t> newlines_;
};

// One YAML document as kubectl's YAMLReader cuts it: the lines between two
// lines starting with "---".
struct yaml_chunk {
  std::string_view text;       // a view of the file's text: the lines are contiguous
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
boost::system::result<std::vector<yaml_chunk>, manifest_error> split_yaml(
    std::string_view text, std::size_t first_line, const std::string& source) {
  std::vector<yaml_chunk> out;
  std::size_t chunk_from = 0;
  out.push_back({{}, first_line});
  std::size_t pos = 0;
  std::size_t line_no = first_line;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    std::size_t next = eol == std::string_view::npos ? text.size() : eol + 1;
    std::string_view line = text.substr(pos, next - pos);
    if (line.substr(0, 3) == "---") {
      std::string rest = trim(line.substr(3));
      if (!rest.empty() && rest[0] != '#') {
        return manifest_error{source, "invalid YAML document separator: " + rest, line_no};
      }
      out.back().text = text.substr(chunk_from, pos - chunk_from);
      out.push_back({{}, line_no + 1});
      chunk_from = next;
      if (out.size() > max_yaml_documents) {
        return manifest_error{
            source, "more than " + std::to_string(max_yaml_documents) + " YAML documents", line_no};
      }
    }
    pos = next;
    ++line_no;
  }
  out.back().text = text.substr(chunk_from);
  return out;
}

// True when a document has only comments, blank lines, "..." or a null literal
// (after a byte-order mark): kubectl skips it.
bool blank_document(std::string_view doc) {
  if (doc.substr(0, utf8_bom.size()) == utf8_bom) doc.remove_prefix(utf8_bom.size());
  std::size_t pos = 0;
  while (pos < doc.size()) {
    std::size_t eol = doc.find('\n', pos);
    std::string word =
        trim(doc.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos));
    if (!word.empty() && word[0] != '#' && word != "~" && word != "null" && word != "Null" &&
        word != "NULL" && word != "...") {
      return false;
    }
    pos = eol == std::string_view::npos ? doc.size() : eol + 1;
  }
  return true;
}

// ---- JSON streams

struct json_too_deep {};

// Parses one JSON value; nlohmann keeps the last of repeated keys, as Go's
// encoding/json does.
// json is constructible from a string, so the result is built tagged.
boost::system::result<json, std::string> parse_json_value(std::string_view text) {
  using boost::system::in_place_error;
  try {
    return {boost::system::in_place_value,
            json::parse(text.begin(), text.end(), [](int depth, json::parse_event_t, json&) {
              if (static_cast<std::size_t>(depth) > max_yaml_depth) throw json_too_deep{};
              return true;
            })};
  } catch (const json_too_deep&) {
    return {in_place_error, "nested deeper than " + std::to_string(max_yaml_depth) + " levels"};
  } catch (const json::exception& e) {
    return {in_place_error, std::string("invalid JSON: ") + e.what()};
  }
}

// End of the JSON object starting at `begin` ('{'): one past its closing brace,
// or npos when unterminated.
std::size_t json_object_end(std::string_view text, std::size_t begin) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = begin; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
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

bool go_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// ---- objects

// Hands `obj` (the items of a List) to `sink`. `item_lines` are the lines of
// the List's items, when known.
boost::system::result<void, manifest_error> add_object(json obj,
                                                       const std::vector<std::size_t>* item_lines,
                                                       const std::string& source, std::size_t line,
                                                       const manifest_sink& sink, int depth = 0) {
  if (obj.is_null()) return {};  // empty document
  if (!obj.is_object()) {
    return manifest_error{source, "document is not a Kubernetes object (expected a mapping)", line};
  }
  auto kind = obj.find("kind");
  if (kind == obj.end() || !kind->is_string() || kind->get_ref<const std::string&>().empty()) {
    return manifest_error{source, "object has no \"kind\"", line};
  }
  if (kind->get_ref<const std::string&>() == "List" ||
      (kind->get_ref<const std::string&>().ends_with("List") && obj.contains("items"))) {
    auto items = obj.find("items");
    if (items == obj.end() || items->is_null()) return {};
    if (!items->is_array()) return manifest_error{source, "List.items is not an array", line};
    if (depth > 4) return manifest_error{source, "List nested too deeply", line};
    if (item_lines && item_lines->size() != items->size()) item_lines = nullptr;
    for (std::size_t i = 0; i < items->size(); ++i) {
      const std::size_t item_line = item_lines ? (*item_lines)[i] : line;
      auto added = add_object(std::move((*items)[i]), nullptr, source, item_line, sink, depth + 1);
      if (!added) return added;
    }
    return {};
  }
  return sink(manifest_object{source, std::move(obj), line});
}

// Hands the objects of every chunk to `sink`.
boost::system::result<void, manifest_error> parse_yaml_chunks(const std::vector<yaml_chunk>& chunks,
                                                              const std::string& source,
                                                              std::size_t first_number,
                                                              const manifest_sink& sink) {
  yaml_converter conv;
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
    auto doc = conv.convert_document(chunk.text);
    if (!doc) {
      return manifest_error{where, doc.error().reason, chunk.first_line + doc.error().line};
    }
    if (!doc->found || doc->value.is_null()) {
      return manifest_error{where, "invalid YAML/JSON: no document could be read",
                            chunk.first_line};
    }
    std::vector<std::size_t> item_lines;
    for (std::size_t l : doc->item_lines) item_lines.push_back(chunk.first_line + l);
    if (auto added = add_object(std::move(doc->value), &item_lines, where,
                                chunk.first_line + doc->line, sink);
        !added) {
      return added;
    }
  }
  return {};
}

}  // namespace

std::string manifest_error::what() const {
  std::string out = source;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!object.empty()) out += object + ": ";
  return out + reason;
}

boost::system::result<void, manifest_error> read_manifest_text(std::string_view text,
                                                               const std::string& source,
                                                               const manifest_sink& sink) {
  // kubectl reads files through unicode.BOMOverride: a leading UTF-8
  // byte-order mark is dropped before anything else looks at the text.
  if (text.substr(0, utf8_bom.size()) == utf8_bom) text.remove_prefix(utf8_bom.size());
  const line_map lines(text);
  // kubectl converts UTF-16 (by its byte-order mark) to UTF-8; this reader
  // does not, and splitting such a text on "---" would silently read only its
  // first document. A NUL byte is in every UTF-16 or UTF-32 text and in no
  // valid YAML or JSON: refuse it.
  if (text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF") ||
      text.find('\0') != std::string_view::npos) {
    const std::size_t at = std::min(text.find('\0'), text.size());
    return manifest_error{source,
                          "invalid YAML/JSON: not UTF-8 (UTF-16 or UTF-32, or a NUL byte); "
                          "convert the file to UTF-8",
                          lines.line_of(at)};
  }
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
        return manifest_error{source,
                              "more than " + std::to_string(max_yaml_documents) + " JSON objects",
                              lines.line_of(pos)};
      }
      std::size_t end = text[pos] == '{' ? json_object_end(text, pos) : std::string_view::npos;
      // No object end found reads as an error without a reason.
      boost::system::result<json, std::string> parsed{boost::system::in_place_error};
      if (end != std::string_view::npos) parsed = parse_json_value(text.substr(pos, end - pos));
      if (!parsed) {
        std::string why = parsed.error();
        if (json_count > 1 || why.starts_with("nested")) {
          if (why.empty()) why = "invalid JSON: an object was expected";
          return manifest_error{source + "#" + std::to_string(json_count + 1), why,
                                lines.line_of(pos)};
        }
        break;  // the rest is YAML
      }
      json obj = std::move(*parsed);
      ++json_count;
      integral_floats(obj);
      std::size_t line = lines.line_of(pos);
      pos = end;
      yaml_from = pos;
      while (pos < text.size() && go_space(text[pos])) ++pos;
      // Whether more follows decides the numbering; add after peeking.
      bool more = pos < text.size();
      std::string where =
          (json_count > 1 || more) ? source + "#" + std::to_string(json_count) : source;
      if (auto added = add_object(std::move(obj), nullptr, where, line, sink); !added) {
        return added.error();
      }
    }
    if (pos >= text.size()) return {};
    // Go's decoder leaves the rest from the end of the last object, minus the
    // whitespace up to and including the first newline.
    std::size_t p = yaml_from;
    while (p < text.size() && go_space(text[p]) && text[p] != '\n') ++p;
    if (p < text.size() && text[p] == '\n') ++p;
    yaml_from = p;
  }
  const std::size_t first_line = lines.line_of(yaml_from);
  auto chunks = split_yaml(text.substr(yaml_from), first_line, source);
  if (!chunks) return chunks.error();
  return parse_yaml_chunks(*chunks, source, json_count, sink);
}

boost::system::result<std::vector<manifest_object>, manifest_error> parse_manifests(
    std::string_view text, const std::string& source) {
  std::vector<manifest_object> out;
  auto read = read_manifest_text(text, source, [&](manifest_object&& o) {
    out.push_back(std::move(o));
    return boost::system::result<void, manifest_error>();
  });
  if (!read) return read.error();
  return out;
}

}  // namespace netpol_guard
