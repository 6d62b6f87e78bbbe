#pragma once

// Namespace state from a live cluster: reflectors for NetworkPolicies and
// Namespaces feed one index that publishes immutable snapshots; a live read
// confirms denials; new namespaces get the template's default-deny-all when
// provisioning is on.

#include "netpol_guard/kube/api_client.hpp"
#include "netpol_guard/kube/reflector.hpp"
#include "netpol_guard/admission/live_reader.hpp"
#include "netpol_guard/telemetry/metrics.hpp"
#include "netpol_guard/netpol/namespace_state.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

namespace netpol_guard::kube {

struct cluster_state_options {
  std::chrono::milliseconds max_state_age{std::chrono::minutes(2)};
  bool provision_default_deny = false;
  std::set<std::string, std::less<>> exempt_namespaces;
  reflector_options reflect;
};

// The template's default-deny-all for namespace `ns`, as sent to the apiserver.

// The namespace entry for a NetworkPolicyList (a live read).
std::optional<namespace_entry> entry_from_policy_list(const std::string& body);

class cluster_state final : public namespace_state, public live_policy_reader {
 public:
  cluster_state(std::shared_ptr<api_client> client, cluster_state_options options, metrics& m);
  ~cluster_state() override;

  // Starts the reflectors (and the provisioner) on `ex`.
  void start(boost::asio::any_io_executor ex);
  void stop();

  std::shared_ptr<const namespace_snapshot> snapshot() const override { return cell_.load(); }
  state_readiness readiness() const override;

  boost::asio::awaitable<std::optional<namespace_entry>> read_namespace(
      std::string ns, std::chrono::milliseconds timeout) override;
  bool provisioning(const std::string& ns) const override;

  // Marks a namespace as about to be provisioned (its CREATE was admitted), so
  // pods created right after it may wait for the policy.
  void namespace_admitted(const std::string& ns) override;

 private:
  class policy_sink;
  class namespace_sink;
  void publish();
  // Logs namespaces that went from having a baseline direction to not having it.
  void log_drift(const namespace_snapshot& before, const namespace_snapshot& after);
  enum class seen_how { first_list, new_in_relist, watch_added };
  void namespace_seen(const std::string& ns, const nlohmann::json& object, seen_how how);
  boost::asio::awaitable<void> provision(std::string ns);
  boost::asio::awaitable<void> check_existing_template(const std::string& ns,
                                                       const std::string& collection);

  std::shared_ptr<api_client> client_;
  cluster_state_options options_;
  metrics& metrics_;
  snapshot_cell cell_;

  mutable std::mutex mutex_;
  struct policy_record {
    deny_all_coverage coverage;
    std::string created;
  };
  // ns -> policy name -> what decisions need of it.
  std::unordered_map<std::string, std::map<std::string, policy_record>> policies_;
  std::unordered_map<std::string, bool> namespaces_;  // ns -> terminating
  std::map<std::string, std::chrono::steady_clock::time_point> pending_;  // provisioning

  std::unique_ptr<policy_sink> policy_sink_;
  std::unique_ptr<namespace_sink> namespace_sink_;
  std::unique_ptr<api_list_watch> policy_source_, namespace_source_;
  std::unique_ptr<reflector> policy_reflector_, namespace_reflector_;
  boost::asio::any_io_executor executor_;
};

}  // namespace netpol_guard::kube
