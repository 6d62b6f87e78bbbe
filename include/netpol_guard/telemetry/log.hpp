#pragma once

// Structured logs: one JSON object per line on stderr.

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace netpol_guard::log {

enum class level : int { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(level l);
bool enabled(level l);
// Parses "debug", "info", "warn", "error"; anything else has no level.
std::optional<level> parse_level(std::string_view s);

using field = std::pair<std::string_view, std::string_view>;

// Writes {"ts":...,"level":...,"msg":...,<fields>} as one line.
void write(level l, std::string_view msg, std::initializer_list<field> fields = {});

inline void debug(std::string_view m, std::initializer_list<field> f = {}) {
  if (enabled(level::debug)) write(level::debug, m, f);
}
inline void info(std::string_view m, std::initializer_list<field> f = {}) {
  if (enabled(level::info)) write(level::info, m, f);
}
inline void warn(std::string_view m, std::initializer_list<field> f = {}) {
  write(level::warn, m, f);
}
inline void error(std::string_view m, std::initializer_list<field> f = {}) {
  write(level::error, m, f);
}

}  // namespace netpol_guard::log
