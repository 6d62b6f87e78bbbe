#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "netpol_guard/cli/commands.hpp"
#include "netpol_guard/cli/flags.hpp"
#include "netpol_guard/netpol/manifest_loader.hpp"
#include "netpol_guard/netpol/object.hpp"
#include "netpol_guard/netpol/report.hpp"
#include "netpol_guard/netpol/report_formats.hpp"
#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard::cli {

int run_check(const std::vector<std::string>& args) {
  std::string output = "text";
  std::vector<std::string> exempt = rules::default_exempt_list();
  bool check_workloads = true;
  bool audit_only = false;
  bool deny_allow_all = false;
  bool help = false;
  flag_set flags("check");
  flags.add_string("output", &output,
                   "text, json, junit (JUnit XML) or sarif (SARIF 2.1.0, paths relative to "
                   "the current directory)");
  flags.add_list("exempt-namespaces", &exempt, "namespaces that are always allowed");
  flags.add_bool("check-workloads", &check_workloads,
                 "also report workloads that would be rejected");
  flags.add_bool("audit-only", &audit_only,
                 "report each namespace's mode as `serve --audit-only` would apply it");
  flags.add_bool("deny-allow-all", &deny_allow_all,
                 "report a namespace whose default deny a policy re-opens as FAIL, not WARN, as "
                 "`serve --deny-allow-all` would refuse that policy");
  flags.add_bool("help", &help, "show this help");
  auto parsed = flags.parse(args);
  if (!parsed) {
    std::fprintf(stderr, "netpol-guard check: %s\n", parsed.error().c_str());
    return 2;
  }
  const std::vector<std::string>& paths = *parsed;
  if (help) {
    std::cout << flags.usage() << "\nArguments: PATH... (files or directories of manifests)\n"
              << "Exit codes: 0 compliant, 1 a non-exempt namespace is not, 2 bad input\n";
    return 0;
  }
  if (output != "text" && output != "json" && output != "junit" && output != "sarif") {
    std::fprintf(stderr, "netpol-guard check: --output must be text, json, junit or sarif\n");
    return 2;
  }
  if (paths.empty()) {
    std::fprintf(stderr, "netpol-guard check: give at least one PATH (file or directory)\n");
    return 2;
  }
  auto objects = load_manifests(paths);
  if (!objects) {
    std::fprintf(stderr, "netpol-guard check: %s\n", objects.error().what().c_str());
    return 2;
  }
  auto index = index_manifests(*objects);
  if (!index) {
    std::fprintf(stderr, "netpol-guard check: %s\n", index.error().what().c_str());
    return 2;
  }
  // Exemptions are judged at the wall clock, in whole seconds as exempt-until is.
  const std::set<std::string, std::less<>> exempt_set{exempt.begin(), exempt.end()};
  const evaluation_context ctx{
      exempt_set, audit_only, deny_allow_all,
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())};
  auto report = report_manifests(*objects, *index, ctx, check_workloads);
  if (output == "json") {
    std::cout << render_json(report);
  } else if (output == "junit") {
    std::cout << render_junit(report);
  } else if (output == "sarif") {
    std::cout << render_sarif(report, std::filesystem::current_path());
  } else {
    std::cout << render_text(report);
  }
  return report.passed() ? 0 : 1;
}

}  // namespace netpol_guard::cli
