// `netpol-guard check`, the real binary: the rollout's flags change the report.
#include <catch2/catch.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "../support/server_process.hpp"

using namespace netpol_guard::testing;
using nlohmann::json;

namespace {

// One namespace with its baseline and a policy that re-opens all ingress, and
// one without a mode label or a baseline.
std::string reopened_manifests() {
  const std::string dir = temp_dir("netpol-guard-check");
  std::FILE* f = std::fopen((dir + "/cluster.yaml").c_str(), "w");
  REQUIRE(f != nullptr);
  const std::string text = R"(apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-all, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: open, namespace: shop}
spec:
  podSelector: {}
  ingress: [{}]
)";
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  return dir;
}

json row(const json& report, const std::string& ns) {
  for (const auto& r : report["namespaces"]) {
    if (r["namespace"] == ns) return r;
  }
  FAIL("no row for " << ns);
  return {};
}

}  // namespace

TEST_CASE("check: an allow-all policy is WARN, or FAIL with --deny-allow-all", "[integration]") {
  const std::string dir = reopened_manifests();
  const std::string check = std::string(NETPOL_GUARD_BINARY) + " check --output json ";
  auto warned = run(check + dir + " 2>&1");
  CHECK(warned.exit_code == 0);
  auto shop = row(json::parse(warned.out), "shop");
  CHECK(shop["status"] == "WARN");
  CHECK(shop["negatedBy"] == json::array({"open"}));
  CHECK(shop["mode"] == "enforce");

  auto denied = run(check + "--deny-allow-all " + dir + " 2>&1");
  CHECK(denied.exit_code == 1);
  CHECK(row(json::parse(denied.out), "shop")["status"] == "FAIL");

  auto audit_only = run(check + "--audit-only " + dir + " 2>&1");
  CHECK(audit_only.exit_code == 0);
  CHECK(row(json::parse(audit_only.out), "shop")["mode"] == "warn");
}
