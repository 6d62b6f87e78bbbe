#pragma once

// Namespace state from a live cluster, composed of its three jobs: the live
// state source (reflectors -> index -> snapshots), the baseline provisioner and
// the confirm read. It is what `serve` hands the webhook as namespace_state and
// live_policy_reader.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "netpol_guard/admission/live_reader.hpp"
#include "netpol_guard/kube/api_client.hpp"
#include "netpol_guard/kube/baseline_provisioner.hpp"
#include "netpol_guard/kube/kube_stats.hpp"
#include "netpol_guard/kube/live_namespace_reader.hpp"
#include "netpol_guard/kube/live_state_source.hpp"
#include "netpol_guard/kube/reflector.hpp"
#include "netpol_guard/netpol/namespace_state.hpp"

namespace netpol_guard::kube {

struct cluster_state_options {
  std::chrono::milliseconds max_state_age{std::chrono::minutes(2)};
  bool provision_default_deny = false;
  std::set<std::string, std::less<>> exempt_namespaces;
  reflector_options reflect;
};

class cluster_state final : public namespace_state, public live_policy_reader {
 public:
  cluster_state(std::shared_ptr<api_client> client, cluster_state_options options, kube_stats& m);

  // Also tells `l` what the live source learns (after the provisioner), e.g.
  // the report writer and the drift Events. Before start(); `l` outlives this.
  void add_listener(live_state_listener* l) { fanout_.listeners.push_back(l); }

  // Starts the reflectors (and the provisioner) on `ex`.
  void start(boost::asio::any_io_executor ex);
  void stop() { source_.stop(); }

  std::shared_ptr<const namespace_snapshot> snapshot() const override { return source_.snapshot(); }
  state_readiness readiness() const override { return source_.readiness(); }
  bool synced() const { return source_.synced(); }

  boost::asio::awaitable<std::optional<namespace_entry>> read_namespace(
      std::string ns, std::chrono::milliseconds timeout) override {
    return reader_.read(std::move(ns), timeout);
  }
  bool provisioning(const std::string& ns) const override { return provisioner_.provisioning(ns); }
  void namespace_admitted(const std::string& ns) override { provisioner_.namespace_admitted(ns); }

 private:
  // The provisioner first, then the listeners added.
  struct listener_fanout final : live_state_listener {
    std::vector<live_state_listener*> listeners;
    void namespace_appeared(const appeared_namespace& n) override {
      for (auto* l : listeners) l->namespace_appeared(n);
    }
    void published(const namespace_snapshot& next) override {
      for (auto* l : listeners) l->published(next);
    }
  };

  std::shared_ptr<api_client> client_;
  api_list_watch policy_list_, namespace_list_;
  baseline_provisioner provisioner_;
  listener_fanout fanout_;
  live_state_source source_;
  live_namespace_reader reader_;
};

}  // namespace netpol_guard::kube
