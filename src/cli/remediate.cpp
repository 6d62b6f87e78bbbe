// `netpol-guard remediate`: the NetworkPolicies that bring a live cluster's
// non-compliant namespaces into line, printed (the default), validated by the
// apiserver (--dry-run=server) or created (--apply). Created objects are never
// modified afterwards: an object that exists is skipped.
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "netpol_guard/cli/cluster_lists.hpp"
#include "netpol_guard/cli/commands.hpp"
#include "netpol_guard/cli/flags.hpp"
#include "netpol_guard/cli/remediate_apply.hpp"
#include "netpol_guard/cli/remediate_plan.hpp"
#include "netpol_guard/kube/api_client.hpp"
#include "netpol_guard/kube/api_paths.hpp"
#include "netpol_guard/kube/config.hpp"
#include "netpol_guard/netpol/object.hpp"
#include "netpol_guard/netpol/report.hpp"
#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard::cli {

namespace net = boost::asio;
namespace http = boost::beast::http;
using json = nlohmann::json;

namespace {

constexpr const char* exit_codes =
    "\nExit codes:\n"
    "  0  dry run (client): printed; --dry-run=server: the apiserver accepted every object;\n"
    "     --apply: every targeted namespace is compliant afterwards\n"
    "  1  --dry-run=server: the apiserver refused an object, or a conflict; --apply: a\n"
    "     targeted namespace is still not compliant (an object failed, a conflict left it\n"
    "     alone, or a namespace named in --namespaces is terminating)\n"
    "  2  bad flags, an unknown --namespaces name, or an error talking to the apiserver\n";

}  // namespace

int run_remediate(const std::vector<std::string>& args) {
  std::string output = "yaml";
  std::string kubeconfig;
  std::string dry_run = "client";
  std::vector<std::string> exempt = rules::default_exempt_list();
  std::vector<std::string> only;
  bool with_dns = false;
  bool apply = false;
  bool help = false;
  flag_set flags("remediate");
  flags.add_string("kubeconfig", &kubeconfig,
                   "kubeconfig to use (default: in-cluster, then $KUBECONFIG)");
  flags.add_list("exempt-namespaces", &exempt, "namespaces left alone (as audit reports them)");
  flags.add_list("namespaces", &only, "remediate only these namespaces (default: every one)");
  flags.add_bool("with-dns-egress", &with_dns,
                 "also allow DNS egress where egress is denied (allow-dns-egress)");
  flags.add_string("output", &output, "yaml or json");
  flags.add_string("dry-run", &dry_run,
                   "client: print what would be created; server: the apiserver validates it "
                   "(dryRun=All); none: with --apply");
  flags.add_bool("apply", &apply,
                 "create the objects (server-side apply, field manager "
                 "netpol-guard); an existing object is never modified");
  flags.add_bool("help", &help, "show this help");
  auto parsed = flags.parse(args);
  const auto bad = [](const std::string& why) {
    std::fprintf(stderr, "netpol-guard remediate: %s\n", why.c_str());
    return 2;
  };
  if (!parsed) return bad(parsed.error());
  if (help) {
    std::cout << "Without --apply nothing is changed: the NetworkPolicies every non-compliant,\n"
                 "non-exempt namespace needs are printed as YAML for `kubectl apply -f -`, each\n"
                 "namespace's impact (running pods, policies already there) as comments.\n\n"
              << flags.usage() << exit_codes;
    return 0;
  }
  if (!parsed->empty()) return bad("unexpected argument \"" + parsed->front() + "\"");
  // An empty value must not widen what is touched: `--namespaces "$NS"` with NS
  // unset would otherwise target every namespace, and `--exempt-namespaces ""`
  // would drop kube-system from the exemptions.
  if (flags.was_set("namespaces") && only.empty()) {
    return bad("--namespaces needs at least one namespace name");
  }
  if (flags.was_set("exempt-namespaces") && exempt.empty()) {
    return bad("--exempt-namespaces needs at least one namespace name (its default is " +
               std::string("kube-system,kube-public,kube-node-lease)"));
  }
  if (output != "yaml" && output != "json") return bad("--output must be yaml or json");
  if (dry_run != "none" && dry_run != "client" && dry_run != "server") {
    return bad("--dry-run must be none, client or server");
  }
  if (apply && dry_run == "server") return bad("--apply and --dry-run=server exclude each other");
  if (apply && flags.was_set("dry-run") && dry_run != "none") {
    return bad("--apply and --dry-run=" + dry_run + " exclude each other");
  }
  if (!apply && dry_run == "none") return bad("--dry-run=none needs --apply");
  const bool server_dry = dry_run == "server";
  if (kubeconfig.empty() && !std::getenv("KUBERNETES_SERVICE_HOST")) {
    if (const char* env = std::getenv("KUBECONFIG"); env && *env) kubeconfig = env;
  }
  auto cfg = kubeconfig.empty() ? kube::in_cluster_config() : kube::load_kubeconfig(kubeconfig);
  if (!cfg) return bad(cfg.error());

  int code = 0;
  std::string text;
  json doc;
  try {
    kube::api_client client(*cfg);
    net::io_context ioc;
    auto fut = net::co_spawn(
        ioc,
        [&]() -> net::awaitable<std::string> {
          // A named local, not a braced temporary: GCC 12 mishandles temporaries
          // in a co_await's arguments.
          const cluster_judgement judgement{exempt, false, false};
          auto before = co_await read_cluster(client, judgement);
          if (!before) co_return before.error();
          if (auto unknown = unknown_namespaces(before->report, only); !unknown.empty()) {
            co_return "--namespaces: no namespace \"" + unknown.front() + "\" in the cluster";
          }
          const auto sel = select_remediations(before->report, before->namespaces, before->policies,
                                               before->pods, only, with_dns);
          if (!apply && !server_dry) {
            if (output == "json")
              doc = remediation_json(sel);
            else
              text = render_remediation_yaml(sel);
            co_return std::string{};
          }
          apply_totals totals;
          json rows = json::array();
          for (const auto& t : sel.targets) {
            json row{{"namespace", t.plan.namespace_name}, {"results", json::array()}};
            text += "namespace " + t.plan.namespace_name + ":";
            if (!t.plan.conflict.empty()) {
              row["conflict"] = t.plan.conflict;
              text += " conflict, nothing created: " + t.plan.conflict;
              code = 1;
            }
            for (const auto& o : t.plan.objects) {
              auto r = co_await apply_one(client, o, server_dry, totals);
              row["results"].push_back({{"name", r.name}, {"result", r.result}});
              if (!r.message.empty()) row["results"].back()["message"] = r.message;
              text += (&o == &t.plan.objects.front() ? " " : "; ") + result_line(r);
            }
            text += "\n";
            rows.push_back(std::move(row));
          }
          for (const auto& n : sel.terminating) {
            text += "namespace " + n + ": skipped, terminating\n";
            // Named on purpose and left non-compliant: not a success.
            if (std::find(only.begin(), only.end(), n) != only.end()) code = std::max(code, 1);
          }
          if (totals.transport_error)
            code = 2;
          else if (totals.refused)
            code = std::max(code, 1);
          doc = {{"namespaces", rows}, {"dryRun", server_dry}};
          if (server_dry) {
            text += std::to_string(sel.targets.size()) + " namespaces, " +
                    std::to_string(sel.object_count()) +
                    " objects sent with dryRun=All (nothing was changed)\n";
            doc["summary"] = {{"namespaces", sel.targets.size()}, {"objects", sel.object_count()}};
            co_return std::string{};
          }
          // Judge the targets again from a fresh read: the exit code says
          // whether they are compliant now, whoever made them so.
          auto after = co_await read_cluster(client, judgement);
          if (!after) {
            // What was created is still reported before the error.
            std::cout << text << std::flush;
            co_return "reading the cluster after --apply: " + after.error();
          }
          std::size_t still = 0;
          for (auto& row : doc["namespaces"]) {
            bool ok = false;
            for (const auto& r : after->report.namespaces) {
              if (r.name == row["namespace"]) ok = !directions_to_deny(r).any();
            }
            row["compliant"] = ok;
            if (!ok) {
              ++still;
              text +=
                  "namespace " + row["namespace"].get<std::string>() + ": still not compliant\n";
            }
          }
          if (still > 0 && code == 0) code = 1;
          text += std::to_string(sel.targets.size()) +
                  " namespaces targeted: " + std::to_string(totals.created) + " objects created, " +
                  std::to_string(totals.skipped) + " skipped, " + std::to_string(totals.failed) +
                  " failed; " + std::to_string(still) + " namespaces still not compliant\n";
          doc["summary"] = {{"namespaces", sel.targets.size()},
                            {"created", totals.created},
                            {"skipped", totals.skipped},
                            {"failed", totals.failed},
                            {"stillNotCompliant", still}};
          co_return std::string{};
        },
        net::use_future);
    ioc.run();
    if (auto err = fut.get(); !err.empty()) return bad(err);
  } catch (const std::exception& e) {
    return bad(e.what());
  }
  if (output == "json")
    std::cout << doc.dump(2) << "\n";
  else
    std::cout << text;
  return code;
}

}  // namespace netpol_guard::cli
