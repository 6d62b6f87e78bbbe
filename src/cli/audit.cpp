#include "netpol_guard/cli.hpp"

#include <cstdio>

namespace netpol_guard::cli {

int run_audit(const std::vector<std::string>&) {
  std::fprintf(stderr, "netpol-guard audit: not available in this build\n");
  return 2;
}

}  // namespace netpol_guard::cli
