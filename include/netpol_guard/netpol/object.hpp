#pragma once

// What netpol-guard reads of a Kubernetes object, for the manifest loader and
// the live path alike: names, namespaces, creation and deletion timestamps, and
// the facts a NetworkPolicy gives the index, and adding objects to the index.

#include <boost/system/result.hpp>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "netpol_guard/netpol/namespace_snapshot.hpp"
#include "netpol_guard/netpol/policy.hpp"

namespace netpol_guard {

// Namespace of a namespaced object; "default" when unset, as kubectl does.
std::string object_namespace(const nlohmann::json& object);
std::string object_name(const nlohmann::json& object);

// What the index keeps of one NetworkPolicy object.
struct policy_summary {
  std::string namespace_name;
  std::string name;
  deny_all_coverage coverage;
  std::string created;    // metadata.creationTimestamp ("" in manifests)
  bool deleting = false;  // metadata.deletionTimestamp is set
  allow_all opens;        // what it re-opens for every pod of its namespace
};
// Reads a NetworkPolicy object (stored or from a manifest: defaulting applied).
// A policy being deleted (deletionTimestamp set; finalizers only delay it)
// provides no coverage.
boost::system::result<policy_summary, std::string> summarize_policy(const nlohmann::json& policy);

// What the index keeps of one Namespace object.
struct namespace_summary {
  std::string name;
  bool terminating = false;     // deletionTimestamp set or phase Terminating
  namespace_settings settings;  // its mode label and exemption annotations
};
boost::system::result<namespace_summary, std::string> summarize_namespace(const nlohmann::json& ns);

// Adds a NetworkPolicy object (as stored, or as in a manifest: defaulting is
// applied) to the index; the error says what is wrong with a malformed policy.
boost::system::result<void, std::string> index_policy(namespace_index& index,
                                                      const nlohmann::json& policy);
// Adds a Namespace object; terminating when deletionTimestamp or phase Terminating.
boost::system::result<void, std::string> index_namespace(namespace_index& index,
                                                         const nlohmann::json& ns);

}  // namespace netpol_guard
