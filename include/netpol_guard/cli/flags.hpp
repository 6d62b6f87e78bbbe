#pragma once

// Kube-style command-line flags for the subcommands.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace netpol_guard::cli {

// Kube-style flags: --name=value, --name value, --bool, --bool=false.
class flag_set {
 public:
  explicit flag_set(std::string command) : command_(std::move(command)) {}

  void add_string(const std::string& name, std::string* target, std::string help);
  void add_list(const std::string& name, std::vector<std::string>* target, std::string help);
  void add_bool(const std::string& name, bool* target, std::string help);
  void add_size(const std::string& name, std::size_t* target, std::string help);
  void add_duration(const std::string& name, std::chrono::milliseconds* target, std::string help);

  // Parses args; positional arguments are returned in `positional`.
  // On error returns false with `error` set (one line).
  bool parse(const std::vector<std::string>& args, std::vector<std::string>& positional,
             std::string& error);
  bool was_set(const std::string& name) const { return set_.count(name) > 0; }
  std::string usage() const;

 private:
  // Where a flag's value goes; its type says how the value is parsed.
  using flag_target = std::variant<std::string*, std::vector<std::string>*, bool*, std::size_t*,
                                   std::chrono::milliseconds*>;
  struct flag {
    flag_target to;
    std::string help;
    std::string default_text;
  };
  // Parses `value` into f's target; false with `error` set.
  bool assign(const std::string& name, flag& f, const std::string& value, std::string& error);
  std::string command_;
  std::map<std::string, flag> flags_;
  std::map<std::string, bool> set_;
};

// "500ms", "10s", "2m", "1h", or "1m30s".
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);
std::vector<std::string> split_list(const std::string& text);

}  // namespace netpol_guard::cli
