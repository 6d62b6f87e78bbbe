#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "netpol_guard/cli/cluster_lists.hpp"
#include "netpol_guard/cli/commands.hpp"
#include "netpol_guard/cli/flags.hpp"
#include "netpol_guard/kube/api_client.hpp"
#include "netpol_guard/kube/config.hpp"
#include "netpol_guard/netpol/report.hpp"
#include "netpol_guard/netpol/report_formats.hpp"
#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard::cli {

namespace net = boost::asio;
using json = nlohmann::json;

int run_audit(const std::vector<std::string>& args) {
  std::string output = "text";
  std::string kubeconfig;
  std::vector<std::string> exempt = rules::default_exempt_list();
  bool audit_only = false;
  bool deny_allow_all = false;
  bool help = false;
  flag_set flags("audit");
  flags.add_string("kubeconfig", &kubeconfig,
                   "kubeconfig to use (default: in-cluster, then $KUBECONFIG)");
  flags.add_string("output", &output, "text, json or junit (JUnit XML)");
  flags.add_list("exempt-namespaces", &exempt, "namespaces reported as exempt");
  flags.add_bool("audit-only", &audit_only,
                 "report each namespace's mode as `serve --audit-only` applies it");
  flags.add_bool("deny-allow-all", &deny_allow_all,
                 "report a namespace whose default deny a policy re-opens as FAIL, not WARN, as "
                 "`serve --deny-allow-all` refuses that policy");
  flags.add_bool("help", &help, "show this help");
  auto parsed = flags.parse(args);
  if (!parsed) {
    std::fprintf(stderr, "netpol-guard audit: %s\n", parsed.error().c_str());
    return 2;
  }
  if (help) {
    std::cout << flags.usage()
              << "\nExit codes: 0 every non-exempt namespace passes, 1 any fails, 2 error\n";
    return 0;
  }
  if (output != "text" && output != "json" && output != "junit") {
    // SARIF names files and lines; a live cluster has neither.
    std::fprintf(stderr, "netpol-guard audit: --output must be text, json or junit%s\n",
                 output == "sarif" ? " (sarif is for `check`: a live cluster has no files)" : "");
    return 2;
  }
  if (kubeconfig.empty() && !std::getenv("KUBERNETES_SERVICE_HOST")) {
    if (const char* env = std::getenv("KUBECONFIG"); env && *env) kubeconfig = env;
  }
  auto cfg = kubeconfig.empty() ? kube::in_cluster_config() : kube::load_kubeconfig(kubeconfig);
  if (!cfg) {
    std::fprintf(stderr, "netpol-guard audit: %s\n", cfg.error().c_str());
    return 2;
  }
  using report_result = boost::system::result<compliance_report, std::string>;
  report_result report{boost::system::in_place_error};
  try {
    kube::api_client client(*cfg);
    net::io_context ioc;
    auto fut = net::co_spawn(
        ioc,
        [&]() -> net::awaitable<report_result> {
          // A named local, not a braced temporary: GCC 12 mishandles temporaries
          // in a co_await's arguments.
          const cluster_judgement judgement{exempt, audit_only, deny_allow_all};
          auto read = co_await read_cluster(client, judgement);
          if (!read) co_return read.error();
          co_return std::move(read->report);
        },
        net::use_future);
    ioc.run();
    report = fut.get();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netpol-guard audit: %s\n", e.what());
    return 2;
  }
  if (!report) {
    std::fprintf(stderr, "netpol-guard audit: %s\n", report.error().c_str());
    return 2;
  }
  if (output == "junit") {
    std::cout << render_junit(*report);
  } else {
    std::cout << (output == "json" ? render_json(*report) : render_text(*report));
  }
  return report->passed() ? 0 : 1;
}

}  // namespace netpol_guard::cli
