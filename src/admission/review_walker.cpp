#include "netpol_guard/admission/review_walker.hpp"

#include <simdjson.h>

#include <bitset>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include "netpol_guard/admission/review_fields.hpp"

namespace netpol_guard::review_walker {
namespace {

using json = nlohmann::json;
using namespace review_fields;
namespace od = simdjson::ondemand;

static_assert(decoder_padding >= simdjson::SIMDJSON_PADDING,
              "decoder_padding is simdjson's padding");

// A parser keeps its buffers (about 6 bytes per body byte) for the next body:
// each thread keeps one for bodies up to this size; a larger body gets its own,
// freed after it, so no thread holds on to the memory of one huge request.
constexpr std::size_t retained_parser_bytes = 1024 * 1024;

class walker {
 public:
  explicit walker(review_parts& out) : out_(out) {}

  std::optional<codec_error> run(od::document& doc) {
    od::json_type t;
    if (auto e = doc.type().get(t)) return json_error(e);
    if (t == od::json_type::object) {
      od::object root;
      if (auto e = doc.get_object().get(root)) return json_error(e);
      if (!walk_object(root, node::root, 1)) return error_;
      // The object must end the body: an iterator with tokens left is trailing
      // content ("{...}{}").
      if (!doc.current_location().error()) return json_error(simdjson::TRAILING_CONTENT);
    } else if (t == od::json_type::array) {
      return codec_error{"not_admission_review", "body is not a JSON object"};
    } else if (!root_scalar(doc, t)) {
      return error_;
    }
    return std::nullopt;
  }

 private:
  // The message names simdjson's error class only: never the bytes it read.
  bool fail_json(simdjson::error_code e) {
    if (e == simdjson::DEPTH_ERROR) return too_deep();
    return fail("malformed_json", std::string("malformed JSON: ") + simdjson::error_message(e));
  }
  std::optional<codec_error> json_error(simdjson::error_code e) {
    fail_json(e);
    return error_;
  }
  bool fail(const char* reason, std::string message) {
    if (!failed_) {
      failed_ = true;
      error_ = codec_error{reason, std::move(message)};
    }
    return false;
  }
  bool too_deep() {
    return fail("too_deep",
                "JSON nested deeper than " + std::to_string(max_json_depth) + " levels");
  }
  bool wrong_type(field f, const char* want) {
    return fail("wrong_type", std::string(field_path(f)) + ": expected " + want);
  }
  static const char* container_type(field f) {
    return f == field::c_groups ? "an array of strings" : "an object";
  }

  // A scalar document: valid or not, it is no AdmissionReview.
  bool root_scalar(od::document& doc, od::json_type t) {
    simdjson::error_code e = simdjson::SUCCESS;
    switch (t) {
      case od::json_type::string: {
        std::string_view s;
        e = doc.get_string().get(s);
        break;
      }
      case od::json_type::number: {
        od::number n;
        e = doc.get_number().get(n);
        if (e) {
          double d;
          e = doc.get_double().get(d);
        }
        break;
      }
      case od::json_type::boolean: {
        bool b;
        e = doc.get_bool().get(b);
        break;
      }
      default: {
        bool is_null = false;
        e = doc.is_null().get(is_null);
        if (!e && !is_null) e = simdjson::N_ATOM_ERROR;
        break;
      }
    }
    if (e) return fail_json(e);
    return true;
  }

  // A scalar value, checked the way the JSON grammar wants it; `j` (when given)
  // gets its value as nlohmann reads it (positive integers unsigned).
  bool scalar(od::value& v, od::json_type t, json* j) {
    switch (t) {
      case od::json_type::number: {
        od::number n;
        if (v.get_number().get(n)) {
          // An integer beyond 64 bits: JSON allows it, nlohmann reads it as a double.
          double d;
          if (auto e = v.get_double().get(d)) return fail_json(e);
          if (j) *j = d;
          return true;
        }
        if (!j) return true;
        switch (n.get_number_type()) {
          case od::number_type::signed_integer: {
            std::int64_t i = n.get_int64();
            if (i >= 0) {
              *j = static_cast<std::uint64_t>(i);
            } else {
              *j = i;
            }
            break;
          }
          case od::number_type::unsigned_integer:
            *j = n.get_uint64();
            break;
          default:
            *j = n.get_double();
            break;
        }
        return true;
      }
      case od::json_type::boolean: {
        bool b;
        if (auto e = v.get_bool().get(b)) return fail_json(e);
        if (j) *j = b;
        return true;
      }
      default: {
        bool is_null = false;
        if (auto e = v.is_null().get(is_null)) return fail_json(e);
        if (!is_null) return fail_json(simdjson::N_ATOM_ERROR);
        if (j) *j = nullptr;
        return true;
      }
    }
  }

  bool string_of(od::value& v, std::string_view& s) {
    if (auto e = v.get_string().get(s)) return fail_json(e);
    return true;
  }

  // A value nobody reads: validated, nothing kept.
  bool skip(od::value v, std::size_t depth) {
    od::json_type t;
    if (auto e = v.type().get(t)) return fail_json(e);
    switch (t) {
      case od::json_type::object: {
        if (depth > max_json_depth) return too_deep();
        od::object o;
        if (auto e = v.get_object().get(o)) return fail_json(e);
        for (auto member : o) {
          od::field fd;
          std::string_view k;
          if (auto e = std::move(member).get(fd)) return fail_json(e);
          if (auto e = fd.unescaped_key().get(k)) return fail_json(e);
          if (!skip(fd.value(), depth + 1)) return false;
        }
        return true;
      }
      case od::json_type::array: {
        if (depth > max_json_depth) return too_deep();
        od::array a;
        if (auto e = v.get_array().get(a)) return fail_json(e);
        for (auto item : a) {
          od::value iv;
          if (auto e = item.get(iv)) return fail_json(e);
          if (!skip(iv, depth + 1)) return false;
        }
        return true;
      }
      case od::json_type::string: {
        std::string_view s;
        return string_of(v, s);
      }
      default:
        return scalar(v, t, nullptr);
    }
  }

  // A member captured whole. Strict (spec members): a duplicate key anywhere in
  // it is refused. Otherwise (metadata) the last value wins, as in the
  // apiserver's own decoder.
  bool capture(od::value v, json& out, bool strict, std::size_t depth) {
    od::json_type t;
    if (auto e = v.type().get(t)) return fail_json(e);
    switch (t) {
      case od::json_type::object: {
        if (depth > max_json_depth) return too_deep();
        out = json::object();
        od::object o;
        if (auto e = v.get_object().get(o)) return fail_json(e);
        for (auto member : o) {
          od::field fd;
          std::string_view k;
          if (auto e = std::move(member).get(fd)) return fail_json(e);
          if (auto e = fd.unescaped_key().get(k)) return fail_json(e);
          std::string key(k);
          if (auto it = out.find(key); it != out.end()) {
            if (strict) return fail("duplicate_key", "duplicate key \"" + key + "\"");
            out.erase(it);
          }
          if (!capture(fd.value(), out[key], strict, depth + 1)) return false;
        }
        return true;
      }
      case od::json_type::array: {
        if (depth > max_json_depth) return too_deep();
        out = json::array();
        od::array a;
        if (auto e = v.get_array().get(a)) return fail_json(e);
        for (auto item : a) {
          od::value iv;
          if (auto e = item.get(iv)) return fail_json(e);
          out.push_back(json());
          if (!capture(iv, out.back(), strict, depth + 1)) return false;
        }
        return true;
      }
      case od::json_type::string: {
        std::string_view s;
        if (!string_of(v, s)) return false;
        out = std::string(s);
        return true;
      }
      default:
        return scalar(v, t, &out);
    }
  }

  // Labels, annotations and ownerReferences are kept for NetworkPolicies and
  // Namespaces. The apiserver sends request.resource before the objects, so Pods'
  // labels are never kept; a body in another order only costs a little more.
  bool keeps_metadata() const {
    return !seen_.test(static_cast<std::size_t>(field::res_resource)) ||
           out_.req.resource == "networkpolicies" || out_.req.resource == "namespaces";
  }

  json& member_target(field f) {
    switch (f) {
      case field::obj_spec_member:
        return out_.object_spec;
      case field::old_spec_member:
        return out_.old_spec;
      case field::obj_meta_member:
        return out_.object_meta;
      default:
        return out_.old_meta;
    }
  }
  static const char* member_prefix(field f) {
    switch (f) {
      case field::obj_spec_member:
        return "request.object.spec.";
      case field::old_spec_member:
        return "request.oldObject.spec.";
      case field::obj_meta_member:
        return "request.object.metadata.";
      default:
        return "request.oldObject.metadata.";
    }
  }

  // A spec member or a metadata member of request.object or request.oldObject.
  bool member(od::value v, field f, std::string_view k, std::size_t depth) {
    json& target = member_target(f);
    std::string key(k);
    if (auto it = target.find(key); it != target.end()) {
      if (f == field::obj_spec_member || f == field::old_spec_member) {
        return fail("duplicate_key", std::string("duplicate key ") + member_prefix(f) + key);
      }
      target.erase(it);
    }
    const bool strict = f == field::obj_spec_member || f == field::old_spec_member;
    return capture(v, target[key], strict, depth);
  }

  bool mark_seen(field f) {
    auto i = static_cast<std::size_t>(f);
    if (seen_.test(i)) return fail("duplicate_key", std::string("duplicate key ") + field_path(f));
    seen_.set(i);
    return true;
  }

  // A field review_fields.hpp names, at `depth` when it is a container.
  bool read_field(od::value v, field f, node child, std::size_t depth) {
    od::json_type t;
    if (auto e = v.type().get(t)) return fail_json(e);
    const bool is_container = t == od::json_type::object || t == od::json_type::array;
    if (is_container && depth > max_json_depth) return too_deep();
    if (!mark_seen(f)) return false;
    if (is_container) {
      const bool is_object = t == od::json_type::object;
      if (f < field::c_request) {
        return wrong_type(f, f == field::dry_run ? "a boolean" : "a string");
      }
      if (is_object == (f == field::c_groups)) return wrong_type(f, container_type(f));
      if (f == field::c_request) out_.has_request = true;
      if (f == field::c_object) out_.req.object.present = true;
      if (f == field::c_old_object) out_.req.old_object.present = true;
      if (f == field::c_groups) {
        od::array a;
        if (auto e = v.get_array().get(a)) return fail_json(e);
        return read_groups(a, depth);
      }
      od::object o;
      if (auto e = v.get_object().get(o)) return fail_json(e);
      return walk_object(o, child, depth);
    }
    if (t == od::json_type::string) {
      std::string_view s;
      if (!string_of(v, s)) return false;
      return store_string(f, s);
    }
    json j;
    if (!scalar(v, t, &j)) return false;
    // null is "unset" for every field we read (Go's encoding of empty values).
    if (j.is_null()) return true;
    if (f == field::dry_run) {
      if (!j.is_boolean()) return wrong_type(f, "a boolean");
      out_.req.dry_run = j.get<bool>();
      return true;
    }
    if (f >= field::c_request) return wrong_type(f, container_type(f));
    return wrong_type(f, "a string");
  }

  // request.userInfo.groups, an array at `depth`.
  bool read_groups(od::array& a, std::size_t depth) {
    for (auto item : a) {
      od::value iv;
      od::json_type t;
      if (auto e = item.get(iv)) return fail_json(e);
      if (auto e = iv.type().get(t)) return fail_json(e);
      if (t == od::json_type::string) {
        std::string_view s;
        if (!string_of(iv, s)) return false;
        out_.req.groups.emplace_back(s);
        continue;
      }
      if (t == od::json_type::object || t == od::json_type::array) {
        if (depth + 1 > max_json_depth) return too_deep();
      } else if (!scalar(iv, t, nullptr)) {
        return false;
      }
      return wrong_type(field::c_groups, "an array of strings");
    }
    return true;
  }

  bool walk_object(od::object& o, node here, std::size_t depth) {
    for (auto m : o) {
      od::field fd;
      std::string_view k;
      if (auto e = std::move(m).get(fd)) return fail_json(e);
      if (auto e = fd.unescaped_key().get(k)) return fail_json(e);
      bool ok;
      if (here == node::skip) {
        ok = skip(fd.value(), depth + 1);
      } else if (here == node::object_spec || here == node::old_object_spec) {
        ok = is_policy_spec_key(k) ? member(fd.value(),
                                            here == node::object_spec ? field::obj_spec_member
                                                                      : field::old_spec_member,
                                            k, depth + 1)
                                   : skip(fd.value(), depth + 1);
      } else if ((here == node::object_metadata || here == node::old_object_metadata) &&
                 is_captured_metadata_key(k) && keeps_metadata()) {
        ok = member(fd.value(),
                    here == node::object_metadata ? field::obj_meta_member : field::old_meta_member,
                    k, depth + 1);
      } else if (const key_rule* r = find_key_rule(here, k)) {
        ok = read_field(fd.value(), r->f, r->child, depth + 1);
      } else {
        ok = skip(fd.value(), depth + 1);
      }
      if (!ok) return false;
    }
    return true;
  }

  bool store_string(field f, std::string_view v) {
    if (f == field::obj_deletion || f == field::old_deletion) {
      (f == field::obj_deletion ? out_.req.object : out_.req.old_object).deleting = !v.empty();
      return true;
    }
    if (std::string* target = string_field(out_, f)) {
      *target = v;
      return true;
    }
    return wrong_type(f, f == field::dry_run ? "a boolean" : container_type(f));
  }

  review_parts& out_;
  std::bitset<static_cast<std::size_t>(field::count_)> seen_;
  codec_error error_;
  bool failed_ = false;
};

}  // namespace

std::optional<codec_error> walk(const char* data, std::size_t size, std::size_t capacity,
                                review_parts& out) {
  thread_local od::parser retained;
  std::unique_ptr<od::parser> own;
  od::parser* parser = &retained;
  if (size > retained_parser_bytes) {
    own = std::make_unique<od::parser>();
    parser = own.get();
  }
  od::document doc;
  if (auto e = parser->iterate(data, size, capacity).get(doc)) {
    return codec_error{"malformed_json",
                       std::string("malformed JSON: ") + simdjson::error_message(e)};
  }
  walker w(out);
  return w.run(doc);
}

}  // namespace netpol_guard::review_walker
