#include "netpol_guard/netpol/namespace_settings.hpp"

#include <nlohmann/json.hpp>

#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard {

// STEP-0 STUBS: issue 13 part A implements these.
namespace_keys keys_from_metadata(const nlohmann::json&) { return {}; }

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

namespace_settings settings_from_keys(const namespace_keys&) { return {}; }

boost::system::result<namespace_settings, std::string> validate_keys(const namespace_keys&,
                                                                     std::chrono::sys_seconds,
                                                                     std::chrono::seconds) {
  return namespace_settings{};
}

std::optional<std::chrono::sys_seconds> parse_rfc3339(std::string_view) { return std::nullopt; }

std::string loosening(const namespace_keys&, const namespace_keys&, bool) { return {}; }

}  // namespace netpol_guard
