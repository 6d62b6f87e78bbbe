#include "netpol_guard/cli/cluster_lists.hpp"

#include <chrono>
#include <map>
#include <set>

#include "netpol_guard/kube/api_paths.hpp"
#include "netpol_guard/kube/reflector.hpp"
#include "netpol_guard/netpol/manifest_loader.hpp"
#include "netpol_guard/netpol/object.hpp"

namespace netpol_guard::cli {

using json = nlohmann::json;

boost::asio::awaitable<boost::system::result<std::vector<json>, std::string>> list_all(
    kube::api_transport& client, std::string_view path) {
  using result = kube::list_outcome::result;
  const std::string name(path);
  kube::api_list_watch source(client, name);
  std::vector<json> items;
  auto out = co_await kube::list_pages(
      source, name, 100'000, [] { return false; }, [&] { items.clear(); },
      [&](const json& item) { items.push_back(item); });
  switch (out.how) {
    case result::complete:
      co_return items;
    case result::failed:
      co_return "list " + name + ": " +
          (out.reply.status
               ? "HTTP " + std::to_string(out.reply.status) + " " + out.reply.body.substr(0, 300)
               : out.reply.error);
    case result::malformed:
      co_return "list " + name + ": malformed response";
    case result::too_many_pages:
    case result::stopped:
      break;
  }
  co_return "list " + name + ": too many pages";
}

boost::asio::awaitable<boost::system::result<cluster_read, std::string>> read_cluster(
    kube::api_transport& client, cluster_judgement how) {
  cluster_read r;
  auto namespaces = co_await list_all(client, kube::all_namespaces_path);
  if (!namespaces) co_return namespaces.error();
  auto policies = co_await list_all(client, kube::all_policies_path);
  if (!policies) co_return policies.error();
  auto pods = co_await list_all(client, kube::all_pods_path);
  if (!pods) co_return pods.error();
  namespace_index index;
  for (const auto& n : *namespaces) (void)index_namespace(index, n);
  for (const auto& p : *policies) (void)index_policy(index, p);
  // Exemptions are judged at the wall clock, in whole seconds as exempt-until is.
  const std::set<std::string, std::less<>> exempt_set{how.exempt_namespaces.begin(),
                                                      how.exempt_namespaces.end()};
  const evaluation_context ctx{
      exempt_set, how.audit_only, how.deny_allow_all,
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())};
  r.report = build_report(index.entries(), {}, ctx);
  // Pods that are not finished, per namespace: these run (or will run) without
  // the baseline in a failing namespace.
  std::map<std::string, std::size_t, std::less<>> live_pods;
  for (const auto& p : *pods) {
    std::string phase;
    if (auto st = p.find("status"); st != p.end() && st->is_object()) {
      if (auto ph = st->find("phase"); ph != st->end() && ph->is_string())
        phase = ph->get<std::string>();
    }
    if (phase != "Succeeded" && phase != "Failed") live_pods[object_namespace(p)]++;
  }
  for (auto& row : r.report.namespaces) {
    row.unprotected_pods = row.compliant() || row.exempt ? 0 : live_pods[row.name];
  }
  r.namespaces = std::move(*namespaces);
  r.policies = std::move(*policies);
  r.pods = std::move(*pods);
  co_return r;
}

}  // namespace netpol_guard::cli
