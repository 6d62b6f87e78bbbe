#pragma once

// What kubectl and the apiserver refuse before an object is stored, for the
// objects `check` and `serve --policies` count: NetworkPolicy (networking.k8s.io/v1)
// and Namespace (v1) in full (types, unknown fields under strict field
// validation, ValidateNetworkPolicy / ValidateNamespace with apimachinery's
// name, label and selector rules, Kubernetes 1.37); other kinds only as far as
// the namespace they put objects in (apiVersion, metadata.name/namespace types
// and namespace name). The live path does not call this: the apiserver has
// validated what it serves.

#include <boost/system/result.hpp>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace netpol_guard {

// Success when kubectl and the apiserver would store `object`; else why they
// would refuse it, as "field.path: reason".
boost::system::result<void, std::string> validate_manifest_object(const nlohmann::json& object);

// The same for one NetworkPolicy and one Namespace object.
boost::system::result<void, std::string> validate_network_policy(const nlohmann::json& policy);
boost::system::result<void, std::string> validate_namespace(const nlohmann::json& ns);

// "NetworkPolicy team-a/deny-all", "Namespace team-a", "Deployment web" for messages.
std::string describe_object(const nlohmann::json& object);

}  // namespace netpol_guard
