#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "netpol_guard/cli/check_fix.hpp"
#include "netpol_guard/cli/commands.hpp"
#include "netpol_guard/cli/flags.hpp"
#include "netpol_guard/netpol/manifest_loader.hpp"
#include "netpol_guard/netpol/object.hpp"
#include "netpol_guard/netpol/report.hpp"
#include "netpol_guard/netpol/report_formats.hpp"
#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard::cli {

namespace {

bool inside(const std::filesystem::path& child, const std::filesystem::path& parent) {
  std::error_code ec;
  auto c = std::filesystem::weakly_canonical(child, ec);
  auto p = std::filesystem::weakly_canonical(parent, ec);
  auto [pe, ce] = std::mismatch(p.begin(), p.end(), c.begin(), c.end());
  return pe == p.end();
}

// Writes the fixes, then checks the input plus DIR again: 0 only when that passes.
int fix(const compliance_report& report, const std::vector<manifest_object>& objects,
        const std::vector<std::string>& paths, const std::string& dir, bool with_dns_egress,
        const evaluation_context& ctx, bool check_workloads) {
  auto fixed = write_fixes(report, objects, paths, dir, with_dns_egress);
  if (!fixed) {
    std::fprintf(stderr, "netpol-guard check: %s\n", fixed.error().c_str());
    return 2;
  }
  for (const auto& f : fixed->written) std::fprintf(stderr, "check --fix: wrote %s\n", f.c_str());
  for (const auto& c : fixed->conflicts) {
    std::fprintf(stderr, "check --fix: cannot fix %s\n", c.c_str());
  }
  std::vector<std::string> again = paths;
  const bool dir_is_input =
      std::any_of(paths.begin(), paths.end(), [&](const std::string& p) { return inside(dir, p); });
  if (!dir_is_input && std::filesystem::exists(dir)) again.push_back(dir);
  auto objects_after = load_manifests(again);
  if (!objects_after) {
    std::fprintf(stderr, "netpol-guard check: after --fix: %s\n",
                 objects_after.error().what().c_str());
    return 2;
  }
  auto index_after = index_manifests(*objects_after);
  if (!index_after) {
    std::fprintf(stderr, "netpol-guard check: after --fix: %s\n",
                 index_after.error().what().c_str());
    return 2;
  }
  auto after = report_manifests(*objects_after, *index_after, ctx, check_workloads);
  std::vector<std::string> failing;
  for (const auto& row : after.namespaces) {
    compliance_report one;
    one.deny_allow_all = after.deny_allow_all;
    one.namespaces.push_back(row);
    if (!one.passed()) failing.push_back(row.name);
  }
  if (failing.empty()) {
    std::fprintf(stderr, "check --fix: %zu file(s) written to %s; the input plus %s passes\n",
                 fixed->written.size(), dir.c_str(), dir.c_str());
    return 0;
  }
  std::string names;
  for (const auto& n : failing) names += (names.empty() ? "" : ", ") + n;
  std::fprintf(stderr,
               "check --fix: %zu file(s) written to %s; still failing with them: %s (a policy "
               "that re-opens a direction, or a name conflict, needs a person)\n",
               fixed->written.size(), dir.c_str(), names.c_str());
  return 1;
}

}  // namespace

int run_check(const std::vector<std::string>& args) {
  std::string output = "text";
  std::vector<std::string> exempt = rules::default_exempt_list();
  bool check_workloads = true;
  bool audit_only = false;
  bool deny_allow_all = false;
  std::string fix_dir;
  bool with_dns_egress = false;
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
  flags.add_string("fix", &fix_dir,
                   "write DIR/<namespace>.default-deny.yaml for every namespace that lacks its "
                   "default deny (the objects `remediate` creates); the input is never edited");
  flags.add_bool("with-dns-egress", &with_dns_egress,
                 "with --fix, also write allow-dns-egress where egress becomes denied");
  flags.add_bool("help", &help, "show this help");
  auto parsed = flags.parse(args);
  if (!parsed) {
    std::fprintf(stderr, "netpol-guard check: %s\n", parsed.error().c_str());
    return 2;
  }
  const std::vector<std::string>& paths = *parsed;
  if (help) {
    std::cout << flags.usage() << "\nArguments: PATH... (files or directories of manifests)\n"
              << "Exit codes: 0 compliant, 1 a non-exempt namespace is not, 2 bad input\n"
              << "With --fix DIR: 0 when the input plus DIR passes after the files are written, "
                 "1 when a namespace still fails, 2 bad input or a file that cannot be written\n";
    return 0;
  }
  if (output != "text" && output != "json" && output != "junit" && output != "sarif") {
    std::fprintf(stderr, "netpol-guard check: --output must be text, json, junit or sarif\n");
    return 2;
  }
  if (with_dns_egress && fix_dir.empty()) {
    std::fprintf(stderr, "netpol-guard check: --with-dns-egress needs --fix DIR\n");
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
  if (fix_dir.empty()) return report.passed() ? 0 : 1;
  return fix(report, *objects, paths, fix_dir, with_dns_egress, ctx, check_workloads);
}

}  // namespace netpol_guard::cli
