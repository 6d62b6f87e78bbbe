#include "netpol_guard/netpol/namespace_settings.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard {

namespace {

using std::chrono::sys_seconds;

std::optional<std::string> string_at(const nlohmann::json& metadata, const char* map,
                                     std::string_view key) {
  auto m = metadata.find(map);
  if (m == metadata.end() || !m->is_object()) return std::nullopt;
  auto v = m->find(key);
  if (v == m->end() || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

// UTF-8 code points, as the "256 characters" counts them: every byte
// that is not a continuation byte starts one.
std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::optional<deny_all_coverage> directions_of(std::string_view v) {
  if (v == "ingress") return deny_all_coverage{true, false};
  if (v == "egress") return deny_all_coverage{false, true};
  if (v == "all") return deny_all_coverage{true, true};
  return std::nullopt;
}

std::optional<namespace_mode> mode_of(std::string_view v) {
  if (v == "enforce") return namespace_mode::enforce;
  if (v == "warn") return namespace_mode::warn;
  return std::nullopt;
}

// "2160h", as the flag is written; minutes or seconds when not whole hours.
std::string duration_text(std::chrono::seconds d) {
  auto n = d.count();
  if (n % 3600 == 0) return std::to_string(n / 3600) + "h";
  if (n % 60 == 0) return std::to_string(n / 60) + "m";
  return std::to_string(n) + "s";
}

// UTC, whole seconds: "2025-09-30T00:00:00Z".
std::string format_rfc3339(std::chrono::sys_seconds t) {
  using namespace std::chrono;
  auto midnight = floor<days>(t);
  year_month_day date{midnight};
  hh_mm_ss<seconds> tod{t - midnight};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lldZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<long long>(tod.hours().count()),
                static_cast<long long>(tod.minutes().count()),
                static_cast<long long>(tod.seconds().count()));
  return buf;
}

// Every problem of the keys, each a sentence. `max_duration` is checked only at
// admission (stored exemptions are honoured whatever their length).
struct checked {
  namespace_settings settings;
  std::vector<std::string> errors;
};

checked check(const namespace_keys& keys, std::optional<sys_seconds> now,
              std::chrono::seconds max_duration) {
  checked out;
  const std::string exempt_key(rules::exempt_annotation);
  const std::string reason_key(rules::exempt_reason_annotation);
  const std::string until_key(rules::exempt_until_annotation);
  if (keys.mode) {
    if (auto m = mode_of(*keys.mode)) {
      out.settings.mode = *m;
    } else {
      out.errors.push_back("label " + std::string(rules::mode_label) + " is " + quote(*keys.mode) +
                           "; it must be enforce or warn.");
    }
  }
  // A reason or an expiry without `exempt` is no exemption, and harmless.
  if (!keys.exempt) return out;
  std::size_t errors_before = out.errors.size();
  auto directions = directions_of(*keys.exempt);
  if (!directions) {
    out.errors.push_back("annotation " + exempt_key + " is " + quote(*keys.exempt) +
                         "; it must be ingress, egress or all.");
  }
  if (!keys.reason || keys.reason->find_first_not_of(" \t\r\n") == std::string::npos) {
    out.errors.push_back(reason_key + " is required with " + exempt_key +
                         " and must not be empty or blank.");
  } else if (auto n = code_points(*keys.reason); n > rules::max_exempt_reason_chars) {
    out.errors.push_back(reason_key + " has " + std::to_string(n) + " characters; at most " +
                         std::to_string(rules::max_exempt_reason_chars) + ".");
  }
  std::optional<sys_seconds> until;
  if (!keys.until) {
    out.errors.push_back(until_key + " is required with " + exempt_key +
                         " (RFC 3339, e.g. 2025-09-30T00:00:00Z).");
  } else if (until = parse_rfc3339(*keys.until); !until) {
    out.errors.push_back(until_key + " " + quote(*keys.until) +
                         " is not an RFC 3339 time (e.g. 2025-09-30T00:00:00Z, with a time zone).");
  } else if (now && *until - *now > max_duration) {
    out.errors.push_back(until_key + " " + *keys.until +
                         " is more than --max-exemption-duration (" + duration_text(max_duration) +
                         ") after now (latest " + format_rfc3339(*now + max_duration) + ").");
  }
  if (out.errors.size() == errors_before) {
    out.settings.exempt = exemption{*directions, *keys.reason, *keys.until, *until};
  }
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

// Reads exactly `n` digits at `pos`; advances `pos`.
std::optional<int> digits(std::string_view s, std::size_t& pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

bool take(std::string_view s, std::size_t& pos, char a, char b = '\0') {
  if (pos >= s.size() || (s[pos] != a && (b == '\0' || s[pos] != b))) return false;
  ++pos;
  return true;
}

namespace_mode effective(const std::optional<std::string>& mode, bool audit_only) {
  if (mode) {
    if (auto m = mode_of(*mode)) return *m;
  }
  return audit_only ? namespace_mode::warn : namespace_mode::enforce;
}

std::string directions_text(std::string_view exempt) {
  return exempt == "all" ? "ingress and egress" : std::string(exempt);
}

// Set or changed; a removal is never a loosening.
bool set_or_changed(const std::optional<std::string>& before,
                    const std::optional<std::string>& after) {
  return after && after != before;
}

}  // namespace

namespace_keys keys_from_metadata(const nlohmann::json& metadata) {
  namespace_keys keys;
  if (!metadata.is_object()) return keys;
  keys.mode = string_at(metadata, "labels", rules::mode_label);
  keys.exempt = string_at(metadata, "annotations", rules::exempt_annotation);
  keys.reason = string_at(metadata, "annotations", rules::exempt_reason_annotation);
  keys.until = string_at(metadata, "annotations", rules::exempt_until_annotation);
  return keys;
}

const char* to_string(namespace_mode m) {
  switch (m) {
    case namespace_mode::enforce:
      return "enforce";
    case namespace_mode::warn:
      return "warn";
    case namespace_mode::unset:
      break;
  }
  return "";
}

namespace_settings settings_from_keys(const namespace_keys& keys) {
  auto c = check(keys, std::nullopt, {});
  c.settings.invalid = joined(c.errors);
  return c.settings;
}

boost::system::result<namespace_settings, std::string> validate_keys(
    const namespace_keys& keys, std::chrono::sys_seconds now, std::chrono::seconds max_duration) {
  auto c = check(keys, now, max_duration);
  if (!c.errors.empty()) return {boost::system::in_place_error, joined(c.errors)};
  return c.settings;
}

std::optional<std::chrono::sys_seconds> parse_rfc3339(std::string_view s) {
  using namespace std::chrono;
  std::size_t pos = 0;
  auto y = digits(s, pos, 4);
  if (!y || !take(s, pos, '-')) return std::nullopt;
  auto mo = digits(s, pos, 2);
  if (!mo || !take(s, pos, '-')) return std::nullopt;
  auto d = digits(s, pos, 2);
  if (!d || !take(s, pos, 'T')) return std::nullopt;
  auto h = digits(s, pos, 2);
  if (!h || !take(s, pos, ':')) return std::nullopt;
  auto mi = digits(s, pos, 2);
  if (!mi || !take(s, pos, ':')) return std::nullopt;
  auto sec = digits(s, pos, 2);
  if (!sec) return std::nullopt;
  if (take(s, pos, '.')) {
    // Fractions are truncated: an exemption is judged to the second.
    std::size_t first = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == first) return std::nullopt;
  }
  int offset_minutes = 0;
  if (take(s, pos, 'Z')) {
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    auto oh = digits(s, pos, 2);
    if (!oh || !take(s, pos, ':')) return std::nullopt;
    auto om = digits(s, pos, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset_minutes = sign * (*oh * 60 + *om);
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  // Go's time.Parse refuses hour 24 and second 60 too.
  if (*h > 23 || *mi > 59 || *sec > 59) return std::nullopt;
  year_month_day date{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
  if (!date.ok()) return std::nullopt;
  return sys_seconds{sys_days{date}} + hours{*h} + minutes{*mi} + seconds{*sec} -
         minutes{offset_minutes};
}

std::string loosening(const namespace_keys& before, const namespace_keys& after, bool audit_only) {
  std::vector<std::string> how;
  // (a) Any exemption key set or changed, narrowing included: owners narrow by
  // removing, which anyone may do.
  if (set_or_changed(before.exempt, after.exempt)) {
    std::string s = before.exempt ? "changes the exemption to " + directions_text(*after.exempt)
                                  : "adds an exemption of " + directions_text(*after.exempt);
    if (after.until) s += " until " + *after.until;
    how.push_back(std::move(s));
  } else {
    if (set_or_changed(before.reason, after.reason)) {
      how.push_back(before.reason ? "changes the exemption's reason"
                                  : "sets " + std::string(rules::exempt_reason_annotation));
    }
    if (set_or_changed(before.until, after.until)) {
      how.push_back((before.until ? "changes the exemption's expiry to "
                                  : "sets " + std::string(rules::exempt_until_annotation) + " ") +
                    *after.until);
    }
  }
  // (b) The effective mode goes from enforce to warn; (c) the label becomes warn
  // even where the global mode already warns, so tenants cannot pre-place it
  // and escape the switch to enforcing.
  bool label_to_warn = after.mode == "warn" && before.mode != "warn";
  bool to_warn = effective(before.mode, audit_only) == namespace_mode::enforce &&
                 effective(after.mode, audit_only) == namespace_mode::warn;
  if (label_to_warn) {
    how.push_back("sets mode=warn");
  } else if (to_warn) {
    how.push_back(after.mode
                      ? "changes mode=" + before.mode.value_or("") + " to mode=" + *after.mode
                      : "removes mode=" + before.mode.value_or(""));
  }
  std::string out;
  for (const auto& h : how) {
    if (!out.empty()) out += " and ";
    out += h;
  }
  return out;
}

}  // namespace netpol_guard
