#pragma once

// A namespace's rollout settings: its mode label and its expiring exemption, as
// the netpol-guard.k8s-security-pro.io/ keys of its metadata carry them. Pure:
// the time is always passed in, so the decision can be tested with a fake clock.

#include <boost/system/result.hpp>
#include <chrono>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "netpol_guard/netpol/policy.hpp"

namespace netpol_guard {

// The raw values of the four keys; nullopt when the key is absent.
struct namespace_keys {
  std::optional<std::string> mode;    // label rules::mode_label
  std::optional<std::string> exempt;  // annotation rules::exempt_annotation
  std::optional<std::string> reason;  // annotation rules::exempt_reason_annotation
  std::optional<std::string> until;   // annotation rules::exempt_until_annotation
  bool any() const { return mode || exempt || reason || until; }
  friend bool operator==(const namespace_keys&, const namespace_keys&) = default;
};

// Reads the keys from an object's `metadata` (may be null, or lack labels or
// annotations). Values that are not strings count as absent.
namespace_keys keys_from_metadata(const nlohmann::json& metadata);

enum class namespace_mode : unsigned char { unset, enforce, warn };
const char* to_string(namespace_mode m);  // "", "enforce", "warn"

struct exemption {
  deny_all_coverage directions;  // which directions count as covered while active
  std::string reason;
  std::string until_text;  // exempt-until as written
  std::chrono::sys_seconds until{};
  bool active(std::chrono::sys_seconds now) const { return now < until; }
  friend bool operator==(const exemption&, const exemption&) = default;
};

struct namespace_settings {
  namespace_mode mode = namespace_mode::unset;
  std::optional<exemption> exempt;
  // Why the stored keys are invalid ("" when valid). Stored keys that are invalid
  // are ignored (the global mode applies, no exemption), and reports say why.
  std::string invalid;
  friend bool operator==(const namespace_settings&, const namespace_settings&) = default;
};

// Lenient, for stored objects: an invalid mode is unset, an invalid exemption is
// none, and `invalid` says what was ignored.
namespace_settings settings_from_keys(const namespace_keys& keys);

// Strict, for admission: the error is the message a request that sets these
// keys is denied with (after "CIS 5.3.2: namespace "x": "). The expiry may be at
// most `max_duration` after `now`; a past expiry is valid (and inert).
boost::system::result<namespace_settings, std::string> validate_keys(
    const namespace_keys& keys, std::chrono::sys_seconds now, std::chrono::seconds max_duration);

// RFC 3339 as Go's time.Parse(time.RFC3339) reads it, which metav1.Time uses:
// date, 'T', time, optional fraction (truncated), 'Z' or a numeric offset.
std::optional<std::chrono::sys_seconds> parse_rfc3339(std::string_view text);

// How going from `before` to `after` loosens the namespace, in words for the
// governance denial ("adds an exemption of ingress", "sets mode=warn", "removes
// mode=enforce"); "" when it does not loosen. `audit_only` is the global mode.
std::string loosening(const namespace_keys& before, const namespace_keys& after, bool audit_only);

}  // namespace netpol_guard
