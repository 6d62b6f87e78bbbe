#include "netpol_guard/kube/cluster_state.hpp"

#include "netpol_guard/kube/api_paths.hpp"

namespace netpol_guard::kube {

namespace {

provisioner_options provisioning_of(const cluster_state_options& o) {
  provisioner_options p;
  p.enabled = o.provision_default_deny;
  p.exempt_namespaces = o.exempt_namespaces;
  return p;
}

live_state_options live_state_of(const cluster_state_options& o) {
  return {o.max_state_age, o.exempt_namespaces, o.reflect};
}

}  // namespace

cluster_state::cluster_state(std::shared_ptr<api_client> client, cluster_state_options options,
                             kube_stats& m)
    : client_(std::move(client)),
      policy_list_(*client_, std::string(all_policies_path)),
      namespace_list_(*client_, std::string(all_namespaces_path)),
      provisioner_(*client_, provisioning_of(options), m),
      fanout_{},
      source_(policy_list_, namespace_list_, live_state_of(options), m, &fanout_),
      reader_(*client_, source_) {
  fanout_.listeners.push_back(&provisioner_);
}

void cluster_state::start(boost::asio::any_io_executor ex) {
  provisioner_.start(ex);
  source_.start(std::move(ex));
}

}  // namespace netpol_guard::kube
