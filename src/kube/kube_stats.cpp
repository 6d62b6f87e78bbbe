#include "netpol_guard/kube/kube_stats.hpp"

namespace netpol_guard::kube {

void kube_stats::write_relists(stats::exposition& out) const {
  constexpr std::string_view name = "netpol_guard_relists_total";
  out.header(name, "counter",
             "Full lists of the cluster's NetworkPolicies (first sync, 410 Expired, reconnects).");
  out.sample(name, "", static_cast<double>(relists_.value()));
}

void kube_stats::write_provisioned(stats::exposition& out) const {
  constexpr std::string_view name = "netpol_guard_provisioned_policies_total";
  out.header(name, "counter", "default-deny-all policies created in new namespaces, by result.");
  provisioned_.write(out, name);
}

}  // namespace netpol_guard::kube
