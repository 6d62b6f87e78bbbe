#pragma once

// Command-line entry points. main() only dispatches to these.

#include <string>
#include <vector>

namespace netpol_guard::cli {

int run_serve(const std::vector<std::string>& args);      // src/cli/serve.cpp
int run_check(const std::vector<std::string>& args);      // src/cli/check.cpp
int run_audit(const std::vector<std::string>& args);      // src/cli/audit.cpp
int run_remediate(const std::vector<std::string>& args);  // src/cli/remediate.cpp

}  // namespace netpol_guard::cli
