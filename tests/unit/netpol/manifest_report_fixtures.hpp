#pragma once

// Manifests under tests/fixtures/manifests/, loaded and indexed as `check`
// loads them, for the report tests.

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "netpol_guard/netpol/manifest_loader.hpp"
#include "netpol_guard/netpol/namespace_snapshot.hpp"

namespace report_fixtures {

struct loaded {
  std::vector<netpol_guard::manifest_object> objects;
  netpol_guard::namespace_index index;
};

// `rel` is relative to tests/fixtures/manifests/.
inline loaded load(const std::string& rel) {
  auto objs =
      netpol_guard::load_manifests({std::string(NETPOL_GUARD_FIXTURES) + "/manifests/" + rel});
  INFO((objs ? "" : objs.error().what()));
  REQUIRE(objs.has_value());
  auto index = netpol_guard::index_manifests(*objs);
  INFO((index ? "" : index.error().what()));
  REQUIRE(index.has_value());
  return {std::move(*objs), std::move(*index)};
}

}  // namespace report_fixtures
