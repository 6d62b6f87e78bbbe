#include "netpol_guard/netpol/offline_state.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

using namespace netpol_guard;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

constexpr const char* good_policies = R"(apiVersion: v1
kind: Namespace
metadata: {name: team-o}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: team-o}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
)";

// Would be a full deny-all if counted; the apiserver refuses it (three policyTypes).
constexpr const char* invalid_policies = R"(apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: team-new}
spec: {podSelector: {}, policyTypes: [Ingress, Egress, Ingress]}
)";

struct temp_file {
  fs::path path =
      fs::temp_directory_path() / ("netpol-guard-offline-" + std::to_string(::getpid()) + ".yaml");
  ~temp_file() {
    std::error_code ec;
    fs::remove(path, ec);
  }
  void write(const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
    // The fingerprint is size + mtime: make sure the change is visible.
    fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(1));
  }
};

}  // namespace

TEST_CASE("offline state refuses an invalid object at startup with file, line and reason",
          "[netpol][offline]") {
  temp_file f;
  f.write(invalid_policies);
  offline_state state({f.path.string()});
  auto loaded = state.load();
  REQUIRE_FALSE(loaded.has_value());
  const manifest_error err = loaded.error();
  CHECK(err.line == 1);
  CHECK(err.object == "NetworkPolicy team-new/deny");
  CHECK_THAT(err.what(),
             Contains(f.path.string() + ":1: NetworkPolicy team-new/deny: spec.policyTypes"));
  auto r = state.readiness();
  CHECK_FALSE(r.ready);
  CHECK_THAT(r.reason, Contains("policies not loaded") && Contains("more than two policyTypes"));
  CHECK(state.snapshot()->namespace_count() == 0);
}

TEST_CASE("a reload with an invalid object keeps the last good state, counts it and says so",
          "[netpol][offline]") {
  temp_file f;
  f.write(good_policies);
  offline_state state({f.path.string()});
  REQUIRE(state.load().has_value());
  REQUIRE(state.readiness().ready);
  CHECK(state.readiness().reason.empty());
  CHECK(state.snapshot()->coverage("team-o").full());

  f.write(invalid_policies);
  auto reload = state.reload_if_changed();
  REQUIRE_FALSE(reload.has_value());
  CHECK_THAT(reload.error().what(), Contains("more than two policyTypes"));
  CHECK(state.reload_failures() == 1);
  // The last good snapshot is still served; the invalid policy is not counted.
  CHECK(state.snapshot()->coverage("team-o").full());
  CHECK_FALSE(state.snapshot()->coverage("team-new").any());
  auto r = state.readiness();
  CHECK(r.ready);
  CHECK_THAT(r.reason, Contains("reload failed") && Contains("team-new/deny"));

  // The same broken files are reported once, not on every tick.
  auto again = state.reload_if_changed();
  REQUIRE(again.has_value());  // no error reported
  CHECK_FALSE(*again);
  CHECK(state.reload_failures() == 1);

  // Fixed files load, and the failure leaves the readiness detail.
  f.write(good_policies + std::string("# fixed\n"));
  auto fixed = state.reload_if_changed();
  REQUIRE(fixed.has_value());
  CHECK(*fixed);
  CHECK(state.readiness().reason.empty());
  CHECK(state.last_error().empty());
}
