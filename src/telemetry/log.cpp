#include "netpol_guard/telemetry/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "netpol_guard/telemetry/json_text.hpp"

namespace netpol_guard::log {
namespace {

std::atomic<int> current_level{static_cast<int>(level::info)};
std::mutex write_mutex;

const char* name(level l) {
  switch (l) {
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warn:
      return "warn";
    case level::error:
      return "error";
  }
  return "info";
}

}  // namespace

void set_level(level l) { current_level.store(static_cast<int>(l)); }
bool enabled(level l) {
  return static_cast<int>(l) >= current_level.load(std::memory_order_relaxed);
}

std::optional<level> parse_level(std::string_view s) {
  for (level l : {level::debug, level::info, level::warn, level::error}) {
    if (s == name(l)) return l;
  }
  return std::nullopt;
}

void write(level l, std::string_view msg, std::initializer_list<field> fields) {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[64];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  std::string line = "{\"ts\":\"";
  line += ts;
  line += "\",\"level\":\"";
  line += name(l);
  line += "\",\"msg\":";
  append_json_string(line, msg);
  for (const auto& [k, v] : fields) {
    line += ',';
    append_json_string(line, k);
    line += ':';
    append_json_string(line, v);
  }
  line += "}\n";
  std::lock_guard lock(write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace netpol_guard::log
