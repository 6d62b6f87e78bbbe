#pragma once

namespace netpol_guard {
inline constexpr const char* version_string = "0.1.0";
}  // namespace netpol_guard
