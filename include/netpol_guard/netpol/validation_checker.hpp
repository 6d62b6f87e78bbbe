#pragma once

// The error collector the manifest validators share: the first error, with the
// field path written as the apiserver writes it, and the decoding checks
// (JSON types, unknown fields under --validate=strict) that come before
// validation proper. Internal to src/netpol/*_validation.cpp.

#include <boost/system/result.hpp>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace netpol_guard::validation {

using json = nlohmann::json;

// Messages quote values; a value with invalid UTF-8 is shown with U+FFFD, not thrown on.
inline std::string shown(const json& v) {
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}
inline std::string quote(const std::string& s) { return shown(json(s)); }

// The first error, with the field path as the apiserver writes it.
class checker {
 public:
  bool failed() const { return error_.has_value(); }
  // Success, or the first error.
  boost::system::result<void, std::string> result() const {
    if (error_) return *error_;
    return {};
  }

  void fail(const std::string& path, const std::string& message) {
    if (!error_) error_ = path + ": " + message;
  }
  void invalid(const std::string& path, const json& value, const std::string& message) {
    fail(path, "Invalid value: " + shown(value) + ": " + message);
  }

  // JSON type checks, as decoding into the Go type does them. null is the zero value.
  bool string_or_null(const json& v, const std::string& path) {
    if (v.is_null() || v.is_string()) return true;
    type_error(v, path, "string");
    return false;
  }
  bool object_or_null(const json& v, const std::string& path) {
    if (v.is_null() || v.is_object()) return true;
    type_error(v, path, "object");
    return false;
  }
  bool array_or_null(const json& v, const std::string& path) {
    if (v.is_null() || v.is_array()) return true;
    type_error(v, path, "array");
    return false;
  }
  bool integer_or_null(const json& v, const std::string& path, std::int64_t lo, std::int64_t hi) {
    if (v.is_null()) return true;
    if (v.is_number_integer() &&
        !(v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi))) {
      auto i = v.get<std::int64_t>();
      if (i >= lo && i <= hi) return true;
    }
    type_error(v, path, hi == INT32_MAX ? "int32" : "int64");
    return false;
  }
  void type_error(const json& v, const std::string& path, const std::string& want) {
    std::string got = v.is_string()    ? "string"
                      : v.is_boolean() ? "bool"
                      : v.is_number()  ? "number"
                      : v.is_array()   ? "array"
                      : v.is_object()  ? "object"
                                       : "null";
    std::string text = shown(v);
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    fail(path,
         "Invalid value: " + text + ": cannot unmarshal " + got + " into a field of type " + want);
  }

  // Strict field validation: every key must be a field of the type.
  bool known_fields(const json& obj, const std::string& path,
                    std::initializer_list<std::string_view> fields) {
    for (const auto& [k, _] : obj.items()) {
      if (std::find(fields.begin(), fields.end(), k) == fields.end()) {
        fail(path.empty() ? k : path + "." + k,
             "unknown field " + quote(path.empty() ? k : path + "." + k) +
                 " (kubectl's default --validate=strict refuses it)");
        return false;
      }
    }
    return true;
  }

  // map[string]string
  bool string_map(const json& v, const std::string& path) {
    if (!object_or_null(v, path)) return false;
    if (v.is_null()) return true;
    for (const auto& [k, val] : v.items()) {
      if (!string_or_null(val, path + "." + k)) return false;
    }
    return true;
  }
  bool string_array(const json& v, const std::string& path) {
    if (!array_or_null(v, path)) return false;
    if (v.is_null()) return true;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!string_or_null(v[i], path + "[" + std::to_string(i) + "]")) return false;
    }
    return true;
  }

 private:
  std::optional<std::string> error_;
};

inline const json& field(const json& obj, const char* name) {
  static const json null_value;
  if (!obj.is_object()) return null_value;
  auto it = obj.find(name);
  return it == obj.end() ? null_value : *it;
}

inline std::string str(const json& v) {
  return v.is_string() ? v.get<std::string>() : std::string();
}

inline std::string index_path(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

}  // namespace netpol_guard::validation
