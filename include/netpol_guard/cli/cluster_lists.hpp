#pragma once

// Whole collections from the apiserver, for the one-shot commands (audit,
// remediate) that judge a cluster from a single consistent read.

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "netpol_guard/kube/api_client.hpp"
#include "netpol_guard/netpol/report.hpp"

namespace netpol_guard::cli {

// Every item of the collection at `path`, through the reflector's paging
// (limit 500 + an escaped continue token; an expired continuation starts over),
// or one line saying why not.
boost::asio::awaitable<boost::system::result<std::vector<nlohmann::json>, std::string>> list_all(
    kube::api_transport& client, std::string_view path);

// One consistent read of the cluster, judged as the webhook judges it: the
// Namespaces, NetworkPolicies and Pods as listed, and the report built from
// them (a malformed object is left out of it), each failing row's
// unprotected_pods counting the pods that are not finished.
struct cluster_read {
  std::vector<nlohmann::json> namespaces, policies, pods;
  compliance_report report;
};

struct cluster_judgement {
  std::vector<std::string> exempt_namespaces;
  bool audit_only = false;
  bool deny_allow_all = false;
};

boost::asio::awaitable<boost::system::result<cluster_read, std::string>> read_cluster(
    kube::api_transport& client, cluster_judgement how);

}  // namespace netpol_guard::cli
