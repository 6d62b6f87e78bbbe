#include "netpol_guard/cli/flags.hpp"

#include <cctype>
#include <cstdlib>
#include <variant>

namespace netpol_guard::cli {

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text == "0") return std::chrono::milliseconds(0);
  double total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      ++i;
    }
    if (start == i) return std::nullopt;
    const std::string number = text.substr(start, i - start);
    char* end = nullptr;
    double value = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size() ||
        number.find_first_of("0123456789") == std::string::npos) {
      return std::nullopt;  // "1.2.3s", ".s"
    }
    std::size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(ustart, i - ustart);
    if (unit == "ms")
      total_ms += value;
    else if (unit == "s")
      total_ms += value * 1000;
    else if (unit == "m")
      total_ms += value * 60'000;
    else if (unit == "h")
      total_ms += value * 3'600'000;
    else
      return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<long long>(total_ms));
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

void flag_set::add_string(const std::string& name, std::string* t, std::string help) {
  flags_[name] = {t, std::move(help), *t};
}
void flag_set::add_list(const std::string& name, std::vector<std::string>* t, std::string help) {
  std::string def;
  for (const auto& s : *t) def += (def.empty() ? "" : ",") + s;
  flags_[name] = {t, std::move(help), def};
}
void flag_set::add_bool(const std::string& name, bool* t, std::string help) {
  flags_[name] = {t, std::move(help), *t ? "true" : "false"};
}
void flag_set::add_size(const std::string& name, std::size_t* t, std::string help) {
  flags_[name] = {t, std::move(help), std::to_string(*t)};
}
void flag_set::add_duration(const std::string& name, std::chrono::milliseconds* t,
                            std::string help) {
  // The largest whole unit, as the flag reads it back: 2160h, not 129600m.
  const auto ms = t->count();
  std::string text = ms % 3'600'000 == 0 && ms > 0 ? std::to_string(ms / 3'600'000) + "h"
                     : ms % 60'000 == 0 && ms > 0  ? std::to_string(ms / 60'000) + "m"
                     : ms % 1000 == 0              ? std::to_string(ms / 1000) + "s"
                                                   : std::to_string(ms) + "ms";
  flags_[name] = {t, std::move(help), text};
}

boost::system::result<std::vector<std::string>, std::string> flag_set::parse(
    const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      positional.push_back(a);
      continue;
    }
    std::string body = a.substr(a[1] == '-' ? 2 : 1);
    std::optional<std::string> value;
    if (auto eq = body.find('='); eq != std::string::npos) {
      value = body.substr(eq + 1);
      body = body.substr(0, eq);
    }
    auto it = flags_.find(body);
    if (it == flags_.end()) {
      return "unknown flag --" + body + " for `netpol-guard " + command_ + "` (see --help)";
    }
    flag& f = it->second;
    if (auto* target = std::get_if<bool*>(&f.to)) {
      bool v = true;
      if (value) {
        if (*value == "true" || *value == "1")
          v = true;
        else if (*value == "false" || *value == "0")
          v = false;
        else {
          return "flag --" + body + " wants true or false, not \"" + *value + "\"";
        }
      }
      **target = v;
      set_[body] = true;
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        return "flag --" + body + " needs a value";
      }
      value = args[++i];
    }
    if (auto assigned = assign(body, f, *value); !assigned) return assigned.error();
    set_[body] = true;
  }
  return positional;
}

boost::system::result<void, std::string> flag_set::assign(const std::string& name, flag& f,
                                                          const std::string& value) {
  struct visitor {
    using outcome = boost::system::result<void, std::string>;
    const std::string& name;
    const std::string& value;
    bool first_use;
    outcome operator()(std::string* t) const {
      *t = value;
      return {};
    }
    outcome operator()(std::vector<std::string>* list) const {
      // The first use replaces the default; later uses append.
      if (first_use) list->clear();
      for (auto& s : split_list(value)) list->push_back(s);
      return {};
    }
    outcome operator()(bool*) const { return {}; }  // parsed without a value, in parse()
    outcome operator()(std::size_t* t) const {
      char* end = nullptr;
      unsigned long long v = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' ||
          value.find_first_not_of("0123456789") != std::string::npos) {
        return "flag --" + name + " wants a whole number, not \"" + value + "\"";
      }
      *t = static_cast<std::size_t>(v);
      return {};
    }
    outcome operator()(std::chrono::milliseconds* t) const {
      auto d = parse_duration(value);
      if (!d) {
        return "flag --" + name + " wants a duration like 500ms, 10s or 2m, not \"" + value + "\"";
      }
      *t = *d;
      return {};
    }
  };
  return std::visit(visitor{name, value, !was_set(name)}, f.to);
}

std::string flag_set::usage() const {
  std::string out = "Usage: netpol-guard " + command_ + " [flags]\n\nFlags:\n";
  for (const auto& [name, f] : flags_) {
    out += "  --" + name;
    if (!std::holds_alternative<bool*>(f.to)) out += " value";
    out += "\n      " + f.help;
    if (!f.default_text.empty()) out += " (default " + f.default_text + ")";
    out += "\n";
  }
  return out;
}

}  // namespace netpol_guard::cli
