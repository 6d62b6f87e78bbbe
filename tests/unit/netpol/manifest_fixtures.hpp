#pragma once

// Helpers the manifest loader tests share: read text or files, and fail the
// test with the loader's error when reading should have worked.

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "netpol_guard/netpol/manifest_loader.hpp"
#include "netpol_guard/netpol/object.hpp"

namespace manifest_fixtures {

using namespace netpol_guard;

inline constexpr deny_all_coverage none{false, false};
inline constexpr deny_all_coverage ingress_only{true, false};
inline constexpr deny_all_coverage both{true, true};

inline std::string manifest_path(const std::string& rel) {
  return std::string(NETPOL_GUARD_FIXTURES) + "/manifests/" + rel;
}

inline std::vector<manifest_object> load_ok(const std::vector<std::string>& paths) {
  auto objs = load_manifests(paths);
  INFO((objs ? "" : objs.error().what()));
  REQUIRE(objs.has_value());
  return *objs;
}

inline manifest_error load_fails(const std::string& path) {
  auto objs = load_manifests({path});
  REQUIRE_FALSE(objs.has_value());
  return objs.error();
}

inline std::vector<manifest_object> parse_ok(const std::string& text) {
  auto objs = parse_manifests(text, "inline.yaml");
  INFO((objs ? "" : objs.error().what()));
  REQUIRE(objs.has_value());
  return *objs;
}

inline manifest_error parse_fails(const std::string& text) {
  auto objs = parse_manifests(text, "inline.yaml");
  REQUIRE_FALSE(objs.has_value());
  return objs.error();
}

inline namespace_index index_ok(const std::vector<manifest_object>& objs) {
  auto index = index_manifests(objs);
  INFO((index ? "" : index.error().what()));
  REQUIRE(index.has_value());
  return std::move(*index);
}

inline std::vector<std::string> kinds_of(const std::vector<manifest_object>& objs) {
  std::vector<std::string> out;
  for (const auto& o : objs) out.push_back(o.object.at("kind").get<std::string>());
  return out;
}

inline std::vector<std::string> names_of(const std::vector<manifest_object>& objs) {
  std::vector<std::string> out;
  for (const auto& o : objs) out.push_back(object_name(o.object));
  return out;
}

using strings = std::vector<std::string>;

}  // namespace manifest_fixtures
