#include "netpol_guard/telemetry/stats.hpp"

#include <cstdio>

namespace netpol_guard::stats {

std::string format_value(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", value);
  return buf;
}

void exposition::header(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void exposition::sample(std::string_view name, std::string_view labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    out_ += labels;
    out_ += '}';
  }
  out_ += ' ';
  out_ += format_value(value);
  out_ += '\n';
}

void exposition::sample_whole(std::string_view name, double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", value);
  out_ += name;
  out_ += ' ';
  out_ += buf;
  out_ += '\n';
}

void errors_header(exposition& out) { out.header(errors_metric, "counter", "Errors, by reason."); }

}  // namespace netpol_guard::stats
