// netpol-guard: wiring only. Everything else is in the library.
#include <cstdio>
#include <string>
#include <vector>

#include "netpol_guard/cli/commands.hpp"
#include "netpol_guard/version.hpp"

namespace {

constexpr const char* usage =
    "netpol-guard: CIS 5.3.2 default-deny NetworkPolicy admission webhook\n\n"
    "Usage:\n"
    "  netpol-guard serve [flags]            run the validating admission webhook\n"
    "  netpol-guard check [flags] PATH...    CIS 5.3.2 report of manifests (exit 1 on FAIL)\n"
    "  netpol-guard audit [flags]            CIS 5.3.2 report of a live cluster (exit 1 on FAIL)\n"
    "  netpol-guard remediate [flags]        the NetworkPolicies non-compliant namespaces need\n"
    "                                        (a dry run unless --apply)\n"
    "  netpol-guard version\n\n"
    "Run `netpol-guard COMMAND --help` for a command's flags.\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(usage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string command = args[0];
  args.erase(args.begin());
  if (command == "serve") return netpol_guard::cli::run_serve(args);
  if (command == "check") return netpol_guard::cli::run_check(args);
  if (command == "audit") return netpol_guard::cli::run_audit(args);
  if (command == "remediate") return netpol_guard::cli::run_remediate(args);
  if (command == "version" || command == "--version") {
    std::printf("netpol-guard %s\n", netpol_guard::version_string);
    return 0;
  }
  std::fprintf(stderr, "netpol-guard: unknown command \"%s\"\n\n%s", command.c_str(), usage);
  return 2;
}
