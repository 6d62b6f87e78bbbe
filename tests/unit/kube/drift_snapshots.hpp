#pragma once

// Snapshots for the drift Events' tests: one row per namespace, its coverage
// given by one policy named default-deny-all.

#include <memory>
#include <string>
#include <vector>

#include "netpol_guard/netpol/namespace_snapshot.hpp"

namespace netpol_guard::kube::testing {

inline const deny_all_coverage both{true, true}, ingress_only{true, false}, none{false, false};

struct row {
  std::string ns;
  deny_all_coverage c;
  bool terminating = false;
  bool known = true;  // a Namespace object was seen
};

inline std::shared_ptr<const namespace_snapshot> snap(const std::vector<row>& rows) {
  namespace_index index;
  for (const auto& r : rows) {
    if (r.known) index.upsert_namespace(r.ns, r.terminating);
    if (r.c.any()) index.upsert_policy(r.ns, "default-deny-all", r.c);
  }
  return index.freeze("cluster");
}

}  // namespace netpol_guard::kube::testing
