#pragma once

// Compares two decoded requests field by field, for the differential tests of
// the simdjson decoder against the nlohmann oracle.

#include <string>

#include "netpol_guard/admission/decision.hpp"
#include "netpol_guard/netpol/policy.hpp"

namespace netpol_guard::oracle {

// "" when `a` and `b` hold the same facts, else the name of the first field that differs.
inline std::string first_difference(const admission_request& a, const admission_request& b) {
  auto object = [](const object_facts& x, const object_facts& y, const std::string& where) {
    if (x.present != y.present) return where + ".present";
    if (x.name != y.name) return where + ".name";
    if (x.namespace_name != y.namespace_name) return where + ".namespace";
    if (x.generate_name != y.generate_name) return where + ".generateName";
    if (x.deleting != y.deleting) return where + ".deleting";
    if (x.created != y.created) return where + ".created";
    if (x.policy.has_value() != y.policy.has_value()) return where + ".policy";
    // The facts are a function of the spec, which `content` holds whole; the
    // derived coverage is what the decision reads of them.
    if (x.policy && (coverage_of(*x.policy) != coverage_of(*y.policy) ||
                     opens_all_of(*x.policy) != opens_all_of(*y.policy))) {
      return where + ".policy";
    }
    if (x.content != y.content) return where + ".content";
    if (!(x.keys == y.keys)) return where + ".keys";
    return std::string();
  };
  if (a.version != b.version) return "version";
  if (a.uid != b.uid) return "uid";
  if (a.kind_group != b.kind_group || a.kind_version != b.kind_version || a.kind != b.kind) {
    return "kind";
  }
  if (a.resource_group != b.resource_group || a.resource_version != b.resource_version ||
      a.resource != b.resource) {
    return "resource";
  }
  if (a.sub_resource != b.sub_resource) return "subResource";
  if (a.name != b.name) return "name";
  if (a.namespace_name != b.namespace_name) return "namespace";
  if (a.operation != b.operation) return "operation";
  if (a.username != b.username) return "username";
  if (a.groups != b.groups) return "groups";
  if (a.dry_run != b.dry_run) return "dryRun";
  if (auto d = object(a.object, b.object, "object"); !d.empty()) return d;
  return object(a.old_object, b.old_object, "oldObject");
}

}  // namespace netpol_guard::oracle
