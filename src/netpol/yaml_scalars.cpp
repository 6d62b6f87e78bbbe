#include "netpol_guard/netpol/yaml_scalars.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <set>

namespace netpol_guard {
namespace {

using json = nlohmann::json;

constexpr std::string_view tag_prefix = "tag:yaml.org,2002:";
constexpr std::string_view str_tag = "tag:yaml.org,2002:str";
constexpr std::string_view binary_tag = "tag:yaml.org,2002:binary";
constexpr std::string_view merge_tag = "tag:yaml.org,2002:merge";

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
  // Every other kind starts with a digit, a sign, '.', '~' or is a word of at
  // most five letters: longer words are strings without the lookups.
  if (s.size() > 5) {
    const char first = static_cast<char>(s[0] | 0x20);
    if (first >= 'a' && first <= 'z') {
      out = s;
      return yaml_kind::str;
    }
  }
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

}  // namespace

boost::system::result<json, std::string> yaml_scalar_to_json(std::string_view value,
                                                             std::string_view tag, bool plain) {
  json out;
  if (!tag.empty() || !plain) {
    if (tag.empty() || tag == "!" || tag == str_tag || tag == binary_tag ||
        !tag.starts_with(tag_prefix)) {
      // Quoted or block, !!str, or a tag go-yaml does not resolve: the text.
      return {in_place_value, std::string(value)};
    }
  }
  const std::string s(value);
  yaml_kind k;
  if (tag.empty()) {
    k = resolve_plain(s, out);
  } else {
    const std::string_view want = tag.substr(tag_prefix.size());
    k = resolve_plain(s, out);
    bool ok = (want == "int" && k == yaml_kind::integer) ||
              (want == "float" && (k == yaml_kind::floating || k == yaml_kind::integer)) ||
              (want == "bool" && k == yaml_kind::boolean) ||
              (want == "null" && k == yaml_kind::null_) || want == "timestamp";
    if (!ok) return {in_place_error, "cannot decode `" + s + "` as a !!" + std::string(want)};
  }
  if (k == yaml_kind::floating) return float_to_json(out.get<double>());
  return {in_place_value, std::move(out)};
}

// The key and the error are both strings, so the result is built tagged.
boost::system::result<std::string, std::string> yaml_key_from_json(const json& v) {
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
  } else if (v.is_structured()) {
    return {in_place_error, "invalid map key: not a scalar"};
  } else {
    return {in_place_error, "unsupported map key of type: <nil>"};
  }
  return {in_place_value, std::move(key)};
}

bool is_yaml_merge_key(std::string_view value, std::string_view tag, bool plain) {
  return value == "<<" && ((tag.empty() && plain) || tag == merge_tag);
}

bool excessive_yaml_aliasing(std::size_t decoded, std::size_t from_aliases) {
  if (from_aliases <= 100 || decoded <= 1000) return false;
  constexpr double low = 400'000, high = 4'000'000;
  const double d = static_cast<double>(decoded);
  const double allowed = d <= low    ? 0.99
                         : d >= high ? 0.10
                                     : 0.99 - 0.89 * ((d - low) / (high - low));
  return static_cast<double>(from_aliases) / d > allowed;
}

}  // namespace netpol_guard
