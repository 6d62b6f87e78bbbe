#pragma once

// Kube-style command-line flags for the subcommands.

#include <boost/system/result.hpp>
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

  // Parses args; returns the positional arguments, or the error (one line).
  boost::system::result<std::vector<std::string>, std::string> parse(
      const std::vector<std::string>& args);
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
  // Parses `value` into f's target, or says why it cannot.
  boost::system::result<void, std::string> assign(const std::string& name, flag& f,
                                                  const std::string& value);
  std::string command_;
  std::map<std::string, flag> flags_;
  std::map<std::string, bool> set_;
};

// "500ms", "10s", "2m", "1h", or "1m30s".
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);
std::vector<std::string> split_list(const std::string& text);

}  // namespace netpol_guard::cli
