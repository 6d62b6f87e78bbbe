#include "netpol_guard/netpol/yaml_reader.hpp"

#include <yaml.h>

#include <optional>
#include <unordered_map>

#include "netpol_guard/netpol/yaml_scalars.hpp"

namespace netpol_guard {
namespace {

using json = nlohmann::json;

std::string_view text_of(const yaml_char_t* s) {
  return s ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view();
}

struct parser_handle {
  yaml_parser_t p;
  explicit parser_handle(std::string_view text) {
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
  }
  ~parser_handle() { yaml_parser_delete(&p); }
  parser_handle(const parser_handle&) = delete;
  parser_handle& operator=(const parser_handle&) = delete;
};

struct event_handle {
  yaml_event_t e{};
  bool held = false;
  ~event_handle() { reset(); }
  void reset() {
    if (held) yaml_event_delete(&e);
    held = false;
  }
};

// A collection being read, and for a mapping the key waiting for its value.
struct frame {
  bool mapping = false;
  json value;
  std::string anchor;
  std::size_t line = 0;
  std::size_t decoded_at_start = 0;  // the nodes it holds are the difference
  bool has_key = false, merge = false, key_is_items = false;
  std::string key;
};

struct anchored {
  json value;
  std::size_t cost = 0;  // nodes go-yaml decodes for it
};

// Reads one document's events into JSON, keeping go-yaml v2's counts.
class document_reader {
 public:
  document_reader(std::string_view text, std::size_t& budget) : parser_(text), budget_(budget) {}

  boost::system::result<yaml_document, conversion_error> read() {
    for (;;) {
      event_handle ev;
      if (!yaml_parser_parse(&parser_.p, &ev.e)) return parse_error();
      ev.held = true;
      const auto& e = ev.e;
      const std::size_t line = e.start_mark.line;
      switch (e.type) {
        case YAML_STREAM_START_EVENT:
        case YAML_NO_EVENT:
          break;
        case YAML_DOCUMENT_START_EVENT:
          doc_.found = true;
          break;
        case YAML_DOCUMENT_END_EVENT:
        case YAML_STREAM_END_EVENT:
          // go-yaml's Unmarshal reads the first document only.
          return std::move(doc_);
        case YAML_ALIAS_EVENT:
          if (!on_alias(text_of(e.data.alias.anchor), line)) return *error_;
          break;
        case YAML_SCALAR_EVENT:
          if (!on_scalar(e, line)) return *error_;
          break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
          if (!on_start(e, line)) return *error_;
          break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
          if (!on_end()) return *error_;
          break;
      }
    }
  }

 private:
  conversion_error parse_error() {
    const auto& p = parser_.p;
    std::string problem = p.problem ? p.problem : "unknown problem parsing YAML content";
    std::size_t line = p.problem_mark.line ? p.problem_mark.line : p.context_mark.line;
    return {"invalid YAML/JSON: " + problem, line};
  }

  bool fail(std::size_t line, std::string why) {
    error_ = conversion_error{std::move(why), line};
    return false;
  }

  // Counts `n` decoded nodes, `aliased` of them from an alias expansion.
  bool count(std::size_t line, std::size_t n = 1, std::size_t aliased = 0) {
    if (n > budget_) {
      return fail(line,
                  "more than " + std::to_string(max_yaml_nodes) + " YAML nodes (alias expansion?)");
    }
    budget_ -= n;
    decoded_ += n;
    from_aliases_ += aliased;
    if (excessive_yaml_aliasing(decoded_, from_aliases_)) {
      return fail(line, "document contains excessive aliasing");
    }
    return true;
  }

  bool key_position() const {
    return !stack_.empty() && stack_.back().mapping && !stack_.back().has_key;
  }

  bool take_key(json key, std::size_t line) {
    frame& f = stack_.back();
    if (key.is_string()) {
      f.key = std::move(key.get_ref<std::string&>());
    } else {
      auto k = yaml_key_from_json(key);
      if (!k) return fail(line, k.error());
      f.key = std::move(*k);
    }
    f.has_key = true;
    f.key_is_items = stack_.size() == 1 && f.key == "items";
    return true;
  }

  void remember(const std::string& anchor, const json& value, std::size_t cost) {
    if (!anchor.empty()) anchors_[anchor] = anchored{value, cost};
  }

  bool on_scalar(const yaml_event_t& e, std::size_t line) {
    const auto& s = e.data.scalar;
    const std::string_view value(reinterpret_cast<const char*>(s.value), s.length);
    const std::string_view tag = text_of(s.tag);
    const bool plain = s.style == YAML_PLAIN_SCALAR_STYLE;
    if (key_position() && is_yaml_merge_key(value, tag, plain)) {
      stack_.back().has_key = stack_.back().merge = true;
      return true;
    }
    if (stack_.size() > max_yaml_depth) return too_deep(line);
    note_item(line);
    if (!count(line)) return false;
    auto v = yaml_scalar_to_json(value, tag, plain);
    if (!v) return fail(line, v.error());
    remember(std::string(text_of(s.anchor)), *v, 1);
    if (key_position()) return take_key(std::move(*v), line);
    return place(std::move(*v), line);
  }

  bool on_alias(std::string_view name, std::size_t line) {
    for (const auto& f : stack_) {
      if (f.anchor == name) {
        return fail(line, "anchor '" + std::string(name) + "' value contains itself");
      }
    }
    auto it = anchors_.find(std::string(name));
    if (it == anchors_.end()) {
      return fail(line, "unknown anchor '" + std::string(name) + "' referenced");
    }
    note_item(line);
    // The alias node itself, then what it stands for, all of it from an alias.
    if (!count(line, 1 + it->second.cost, it->second.cost)) return false;
    json copy = it->second.value;
    if (key_position()) return take_key(std::move(copy), line);
    return place(std::move(copy), line);
  }

  bool on_start(const yaml_event_t& e, std::size_t line) {
    const bool mapping = e.type == YAML_MAPPING_START_EVENT;
    if (key_position()) return fail(line, "invalid map key: not a scalar");
    if (stack_.size() > max_yaml_depth) return too_deep(line);
    note_item(line);
    const bool items = !stack_.empty() && stack_.back().key_is_items && !mapping;
    frame f;
    f.mapping = mapping;
    f.value = mapping ? json::object() : json::array();
    f.anchor =
        std::string(text_of(mapping ? e.data.mapping_start.anchor : e.data.sequence_start.anchor));
    f.line = line;
    f.decoded_at_start = decoded_;
    if (!count(line)) return false;
    if (stack_.empty()) doc_.line = line;
    if (items) {
      doc_.item_lines.clear();
      items_frame_ = stack_.size();
    }
    stack_.push_back(std::move(f));
    return true;
  }

  bool on_end() {
    frame f = std::move(stack_.back());
    stack_.pop_back();
    if (items_frame_ && *items_frame_ == stack_.size()) items_frame_.reset();
    remember(f.anchor, f.value, decoded_ - f.decoded_at_start);
    return place(std::move(f.value), f.line);
  }

  bool too_deep(std::size_t line) {
    return fail(line, "nested deeper than " + std::to_string(max_yaml_depth) + " levels");
  }

  // The lines of the root's "items" entries.
  void note_item(std::size_t line) {
    if (items_frame_ && *items_frame_ + 1 == stack_.size()) doc_.item_lines.push_back(line);
  }

  // A finished value goes to its parent, or becomes the document.
  bool place(json v, std::size_t line) {
    if (stack_.empty()) {
      doc_.line = line;
      doc_.value = std::move(v);
      return true;
    }
    frame& f = stack_.back();
    if (!f.mapping) {
      f.value.push_back(std::move(v));
      return true;
    }
    f.has_key = false;
    if (f.merge) {
      f.merge = false;
      return merge(f.value, std::move(v), line);
    }
    // go-yaml v2 without strict mode: a repeated key replaces the earlier one.
    f.value.get_ref<json::object_t&>()[std::move(f.key)] = std::move(v);
    return true;
  }

  // go-yaml v2: "<<" copies the keys of a mapping (or of each mapping in a
  // sequence, earlier ones winning) into the mapping at that point; keys
  // written after "<<" replace merged ones, keys written before it are replaced.
  bool merge(json& into, json v, std::size_t line) {
    auto wrong = [&] {
      return fail(line, "map merge requires map or sequence of maps as the value");
    };
    if (v.is_object()) {
      for (auto& [k, val] : v.items()) into[k] = std::move(val);
      return true;
    }
    if (!v.is_array()) return wrong();
    for (const auto& m : v) {
      if (!m.is_object()) return wrong();
    }
    for (std::size_t i = v.size(); i-- > 0;) {
      for (auto& [k, val] : v[i].items()) into[k] = std::move(val);
    }
    return true;
  }

  parser_handle parser_;
  std::size_t& budget_;
  yaml_document doc_;
  std::vector<frame> stack_;
  std::unordered_map<std::string, anchored> anchors_;
  std::optional<std::size_t> items_frame_;  // stack index of the root's "items" sequence
  std::optional<conversion_error> error_;
  std::size_t decoded_ = 0, from_aliases_ = 0;
};

}  // namespace

boost::system::result<yaml_document, conversion_error> yaml_converter::convert_document(
    std::string_view text) {
  // kubectl decodes each document on its own: anchors and counts restart.
  return document_reader(text, budget_).read();
}

}  // namespace netpol_guard
