#include "netpol_guard/netpol/meta_validation.hpp"

#include <algorithm>
#include <cstdint>
#include <string_view>

// Sources followed (apimachinery 0.37.2):
//   pkg/api/validation/objectmeta.go   ValidateObjectMeta(Accessor)
//   pkg/apis/meta/v1/validation         ValidateLabelSelector, ValidateLabels
//   pkg/api/validate/content            label keys/values, DNS-1123

namespace netpol_guard {
namespace {

constexpr std::size_t dns1123_label_max = 63;
constexpr std::size_t dns1123_subdomain_max = 253;
constexpr std::size_t label_name_max = 63;
constexpr std::size_t label_value_max = 63;
constexpr std::size_t annotations_max_bytes = 256 * 1024;  // TotalAnnotationSizeLimitB
constexpr std::size_t port_name_max = 15;

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?
bool label_key_name_chars(std::string_view s) {
  if (s.empty() || !alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool dns_label_chars(std::string_view s) {
  if (s.empty() || !lower_alnum(s.front()) || !lower_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return lower_alnum(c) || c == '-'; });
}

}  // namespace

namespace validation {

void decode_object_meta(checker& c, const json& md) {
  if (!c.object_or_null(md, "metadata") || md.is_null()) return;
  if (!c.known_fields(
          md, "metadata",
          {"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
           "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
           "annotations", "ownerReferences", "finalizers", "managedFields"})) {
    return;
  }
  for (const char* f : {"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion",
                        "creationTimestamp", "deletionTimestamp"}) {
    if (!c.string_or_null(field(md, f), std::string("metadata.") + f)) return;
  }
  if (!c.integer_or_null(field(md, "generation"), "metadata.generation", INT64_MIN, INT64_MAX))
    return;
  if (!c.integer_or_null(field(md, "deletionGracePeriodSeconds"),
                         "metadata.deletionGracePeriodSeconds", INT64_MIN, INT64_MAX)) {
    return;
  }
  if (!c.string_map(field(md, "labels"), "metadata.labels")) return;
  if (!c.string_map(field(md, "annotations"), "metadata.annotations")) return;
  if (!c.array_or_null(field(md, "ownerReferences"), "metadata.ownerReferences")) return;
  if (!c.string_array(field(md, "finalizers"), "metadata.finalizers")) return;
  c.array_or_null(field(md, "managedFields"), "metadata.managedFields");
}

void validate_labels(checker& c, const json& labels, const std::string& path) {
  if (!labels.is_object()) return;
  for (const auto& [k, v] : labels.items()) {
    if (!is_qualified_name(k)) {
      c.invalid(path, k,
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                "start and end with an alphanumeric character (an optional DNS subdomain "
                "prefix and '/'; at most 63 characters)");
      return;
    }
    std::string value = str(v);
    if (!is_label_value(value)) {
      c.invalid(path, value,
                "a valid label must be an empty string or consist of alphanumeric "
                "characters, '-', '_' or '.', and must start and end with an "
                "alphanumeric character (at most 63 characters)");
      return;
    }
  }
}

void validate_object_meta(checker& c, const json& md, bool namespaced, bool name_is_label) {
  auto name_ok = [&](std::string n, bool prefix) {
    // NameIsDNSSubdomain/NameIsDNSLabel(name, prefix): a generateName may end in '-'.
    if (prefix && !n.empty() && n.back() == '-') n.back() = 'a';
    return name_is_label ? is_dns1123_label(n) : is_dns1123_subdomain(n);
  };
  const std::string rule =
      name_is_label
          ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
            "and "
            "must start and end with an alphanumeric character (at most 63 characters)"
          : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
            "'-' or "
            "'.', and must start and end with an alphanumeric character (at most 253 characters)";
  std::string generate = str(field(md, "generateName"));
  std::string name = str(field(md, "name"));
  if (!generate.empty() && !name_ok(generate, true))
    return c.invalid("metadata.generateName", generate, rule);
  if (name.empty() && generate.empty())
    return c.fail("metadata.name", "Required value: name or generateName is required");
  if (!name.empty() && !name_ok(name, false)) return c.invalid("metadata.name", name, rule);
  std::string ns = str(field(md, "namespace"));
  if (namespaced && !ns.empty() && !is_dns1123_label(ns)) {
    return c.invalid(
        "metadata.namespace", ns,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
        "or '-', and must start and end with an alphanumeric character (at most 63 "
        "characters)");
  }
  validate_labels(c, field(md, "labels"), "metadata.labels");
  if (c.failed()) return;
  const json& annotations = field(md, "annotations");
  if (annotations.is_object()) {
    std::size_t total = 0;
    for (const auto& [k, v] : annotations.items()) {
      std::string lower = k;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      if (!is_qualified_name(lower)) {
        return c.invalid("metadata.annotations", k,
                         "name part must consist of alphanumeric "
                         "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                         "character");
      }
      total += k.size() + str(v).size();
    }
    if (total > annotations_max_bytes) {
      return c.fail("metadata.annotations", "Too long: may not be more than " +
                                                std::to_string(annotations_max_bytes) + " bytes");
    }
  }
}

void check_selector(checker& c, const json& sel, const std::string& path) {
  if (!c.object_or_null(sel, path) || sel.is_null()) return;
  if (!c.known_fields(sel, path, {"matchLabels", "matchExpressions"})) return;
  const json& labels = field(sel, "matchLabels");
  if (!c.string_map(labels, path + ".matchLabels")) return;
  const json& exprs = field(sel, "matchExpressions");
  if (!c.array_or_null(exprs, path + ".matchExpressions")) return;
  if (exprs.is_array()) {
    for (std::size_t i = 0; i < exprs.size(); ++i) {
      std::string p = index_path(path + ".matchExpressions", i);
      const json& e = exprs[i];
      if (!c.object_or_null(e, p) || e.is_null()) continue;
      if (!c.known_fields(e, p, {"key", "operator", "values"})) return;
      if (!c.string_or_null(field(e, "key"), p + ".key") ||
          !c.string_or_null(field(e, "operator"), p + ".operator") ||
          !c.string_array(field(e, "values"), p + ".values")) {
        return;
      }
    }
  }
  validate_labels(c, labels, path + ".matchLabels");
  if (c.failed() || !exprs.is_array()) return;
  for (std::size_t i = 0; i < exprs.size(); ++i) {
    std::string p = index_path(path + ".matchExpressions", i);
    const json& e = exprs[i];
    std::string op = str(field(e, "operator"));
    const json& values = field(e, "values");
    std::size_t n = values.is_array() ? values.size() : 0;
    if (op == "In" || op == "NotIn") {
      if (n == 0)
        return c.fail(p + ".values",
                      "Required value: must be specified when `operator` is 'In' or 'NotIn'");
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (n > 0)
        return c.fail(
            p + ".values",
            "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    } else {
      return c.invalid(p + ".operator", op, "not a valid selector operator");
    }
    std::string key = str(field(e, "key"));
    if (!is_qualified_name(key)) {
      return c.invalid(p + ".key", key,
                       "name part must consist of alphanumeric characters, '-', "
                       "'_' or '.', and must start and end with an alphanumeric character");
    }
    for (std::size_t j = 0; j < n; ++j) {
      std::string v = str(values[j]);
      if (!is_label_value(v)) {
        return c.invalid(index_path(p + ".values", j), v,
                         "a valid label must be an empty string "
                         "or consist of alphanumeric characters, '-', '_' or '.', and must start "
                         "and end with an alphanumeric character");
      }
    }
  }
}

}  // namespace validation

bool is_dns1123_label(const std::string& s) {
  return s.size() <= dns1123_label_max && dns_label_chars(s);
}

bool is_dns1123_subdomain(const std::string& s) {
  if (s.empty() || s.size() > dns1123_subdomain_max) return false;
  std::size_t start = 0;
  for (;;) {
    auto dot = s.find('.', start);
    if (!dns_label_chars(std::string_view(s).substr(
            start, dot == std::string::npos ? std::string::npos : dot - start))) {
      return false;
    }
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

bool is_qualified_name(const std::string& s) {
  auto slash = s.find('/');
  std::string_view name = s;
  if (slash != std::string::npos) {
    if (s.find('/', slash + 1) != std::string::npos) return false;
    std::string prefix = s.substr(0, slash);
    if (prefix.empty() || !is_dns1123_subdomain(prefix)) return false;
    name = std::string_view(s).substr(slash + 1);
  }
  return !name.empty() && name.size() <= label_name_max && label_key_name_chars(name);
}

bool is_label_value(const std::string& s) {
  return s.empty() || (s.size() <= label_value_max && label_key_name_chars(s));
}

bool is_iana_svc_name(const std::string& s) {
  if (s.empty() || s.size() > port_name_max) return false;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return lower_alnum(c) || c == '-'; }))
    return false;
  if (std::none_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; })) return false;
  if (s.find("--") != std::string::npos) return false;
  return s.front() != '-' && s.back() != '-';
}

}  // namespace netpol_guard
