#include "netpol_guard/netpol/yaml_reader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string_view>

namespace netpol_guard {
namespace {

using json = nlohmann::json;

const std::string tag_prefix = "tag:yaml.org,2002:";

// ---- go-yaml v2 scalar resolution (YAML 1.1), as sigs.k8s.io/yaml uses it.

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
    if (p == 'x' || p == 'X')
      base = 16, i += 2;
    else if (p == 'o' || p == 'O')
      base = 8, i += 2;
    else if (p == 'b' || p == 'B')
      base = 2, i += 2;
    else
      base = 8, i += 1;
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
  static const std::set<std::string, std::less<>> yes{"y",    "Y",    "yes", "Yes", "YES", "true",
                                                      "True", "TRUE", "on",  "On",  "ON"};
  static const std::set<std::string, std::less<>> no{"n",     "N",     "no",  "No",  "NO", "false",
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
// json is constructible from a string, so results holding one are built tagged.
using json_result = boost::system::result<json, std::string>;
using boost::system::in_place_error;
using boost::system::in_place_value;

json_result float_to_json(double d) {
  if (std::isnan(d) || std::isinf(d)) {
    return {in_place_error,
            "json: unsupported value: " + std::string(std::isnan(d) ? "NaN" : "+Inf")};
  }
  if (std::floor(d) == d && std::fabs(d) < 1e21 && std::fabs(d) < 9.2e18) {
    return {in_place_value, static_cast<std::int64_t>(d)};
  }
  return {in_place_value, d};
}

json_result scalar_to_json(const YAML::Node& n) {
  json out;
  const std::string& s = n.Scalar();
  const std::string& tag = n.Tag();
  yaml_kind k;
  if (tag == "?") {
    k = resolve_plain(s, out);
  } else if (tag == "!" || tag == tag_prefix + "str" || tag == tag_prefix + "binary" ||
             tag.rfind(tag_prefix, 0) != 0) {
    // Quoted, !!str, or a tag go-yaml does not resolve: the text as a string.
    return {in_place_value, s};
  } else {
    std::string want = tag.substr(tag_prefix.size());
    k = resolve_plain(s, out);
    bool ok = (want == "int" && k == yaml_kind::integer) ||
              (want == "float" && (k == yaml_kind::floating || k == yaml_kind::integer)) ||
              (want == "bool" && k == yaml_kind::boolean) ||
              (want == "null" && k == yaml_kind::null_) || want == "timestamp";
    if (!ok) return {in_place_error, "cannot decode `" + s + "` as a !!" + want};
  }
  if (k == yaml_kind::floating) return float_to_json(out.get<double>());
  return {in_place_value, std::move(out)};
}

// A mapping key as sigs.k8s.io/yaml turns it into a JSON key.
// The key and the error are both strings, so the result is built tagged.
boost::system::result<std::string, std::string> key_to_string(const YAML::Node& k) {
  if (!k.IsScalar()) {
    return {in_place_error,
            k.IsNull() ? "unsupported map key of type: <nil>" : "invalid map key: not a scalar"};
  }
  auto scalar = scalar_to_json(k);
  if (!scalar) return {in_place_error, scalar.error()};
  const json& v = *scalar;
  std::string key;
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
    return {in_place_error, "unsupported map key of type: <nil>"};
  }
  return {in_place_value, std::move(key)};
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
  const double allowed = d <= low    ? 0.99
                         : d >= high ? 0.10
                                     : 0.99 - 0.89 * ((d - low) / (high - low));
  return static_cast<double>(from_aliases) / d > allowed;
}

}  // namespace

boost::system::result<json, conversion_error> yaml_converter::convert_document(
    const YAML::Node& doc) {
  // kubectl decodes each document on its own; positions restart with each.
  seen_.clear();
  decoded_ = from_aliases_ = alias_depth_ = 0;
  json out;
  // json converts implicitly to most types, so both sides are tagged.
  if (!convert(doc, out, 0)) return {boost::system::in_place_error, error_};
  return {boost::system::in_place_value, std::move(out)};
}

// Counts one decoded_ node (keys included, as go-yaml does); false once the
// document holds too many alias copies.
bool yaml_converter::count(bool alias) {
  ++decoded_;
  if (alias || alias_depth_ > 0) ++from_aliases_;
  return !excessive_aliasing(decoded_, from_aliases_);
}

bool yaml_converter::fail(const YAML::Node& n, std::string why) {
  error_ = {std::move(why), static_cast<std::size_t>(std::max(0, n.Mark().line))};
  return false;
}

bool yaml_converter::map_into(const YAML::Node& n, json& out, std::size_t depth) {
  for (const auto& kv : n) {
    if (is_merge_key(kv.first)) {
      if (!merge(kv.second, out, depth)) return false;
      continue;
    }
    if (!count(false)) return fail(kv.first, "document contains excessive aliasing");
    auto key = key_to_string(kv.first);
    if (!key) return fail(kv.first, key.error());
    json v;
    if (!convert(kv.second, v, depth + 1)) return false;
    // go-yaml v2 without strict mode: a repeated key replaces the earlier one.
    out[*key] = std::move(v);
  }
  return true;
}

// go-yaml v2: "<<" copies the keys of a mapping (or of each mapping in a
// sequence, earlier ones winning) into the mapping at that point; keys
// written after "<<" replace merged ones, keys written before it are replaced.
bool yaml_converter::merge(const YAML::Node& v, json& out, std::size_t depth) {
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

bool yaml_converter::convert(const YAML::Node& n, json& out, std::size_t depth) {
  if (budget_ == 0) {
    return fail(n,
                "more than " + std::to_string(max_yaml_nodes) + " YAML nodes (alias expansion?)");
  }
  --budget_;
  if (depth > max_yaml_depth) {
    return fail(n, "nested deeper than " + std::to_string(max_yaml_depth) + " levels");
  }
  bool alias = false;
  if (alias_depth_ == 0 && n.Type() != YAML::NodeType::Null && !n.Mark().is_null()) {
    alias = !seen_.emplace(n.Mark().pos, static_cast<int>(n.Type())).second;
  }
  // go-yaml counts the alias node itself outside the expansion.
  if (alias && !count(false)) return fail(n, "document contains excessive aliasing");
  if (!count(alias)) return fail(n, "document contains excessive aliasing");
  if (alias) ++alias_depth_;
  const bool ok = convert_node(n, out, depth);
  if (alias) --alias_depth_;
  return ok;
}

bool yaml_converter::convert_node(const YAML::Node& n, json& out, std::size_t depth) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out = nullptr;
      return true;
    case YAML::NodeType::Scalar: {
      auto scalar = scalar_to_json(n);
      if (!scalar) return fail(n, scalar.error());
      out = std::move(*scalar);
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

}  // namespace netpol_guard
