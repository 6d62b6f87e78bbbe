#include "netpol_guard/netpol/rules.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "netpol_guard/netpol/manifest_loader.hpp"

using namespace netpol_guard;

TEST_CASE("provisioning creates exactly the template in manifests/policies", "[netpol][rules]") {
  // The file users apply by hand and the object netpol-guard creates must not
  // drift apart: same apiVersion, kind, name, labels and spec.
  auto objs = load_manifests(
      {std::string(NETPOL_GUARD_SOURCE_DIR) + "/manifests/policies/default-deny-all.yaml"});
  INFO((objs ? "" : objs.error().what()));
  REQUIRE(objs.has_value());
  REQUIRE(objs->size() == 1);
  nlohmann::json file = objs->at(0).object;
  file["metadata"]["namespace"] = "team-x";  // the file says "ACTION REQUIRED: change this"
  CHECK(rules::default_deny_all_policy("team-x") == file);
  CHECK(file["metadata"]["name"] == std::string(rules::template_policy_name));
}

TEST_CASE("the rule book answers for workloads and exemptions", "[netpol][rules]") {
  CHECK(rules::find_workload("apps", "deployments")->kind == "Deployment");
  CHECK(rules::find_workload("batch", "cronjobs")->kind == "CronJob");
  CHECK(rules::find_workload("", "pods") == nullptr);
  CHECK(rules::find_workload("extensions", "deployments") == nullptr);
  CHECK(rules::find_pod_creator("", "pods") == &rules::pod_kind);
  CHECK(rules::find_pod_creator("apps", "statefulsets")->kind == "StatefulSet");
  CHECK(rules::find_pod_creator("", "services") == nullptr);
  CHECK(rules::find_pod_creator_kind("v1", "Pod") == &rules::pod_kind);
  CHECK(rules::find_pod_creator_kind("apps/v1", "StatefulSet")->resource == "statefulsets");
  CHECK(rules::find_pod_creator_kind("batch/v1", "CronJob")->kind == "CronJob");
  // The same kind name in another group is a custom resource the webhook never sees.
  CHECK(rules::find_pod_creator_kind("example.com/v1", "Deployment") == nullptr);
  CHECK(rules::find_pod_creator_kind("apps/v1", "Pod") == nullptr);
  CHECK(rules::find_pod_creator_kind("v1", "Deployment") == nullptr);
  CHECK(rules::api_group("v1").empty());
  CHECK(rules::api_group("networking.k8s.io/v1") == "networking.k8s.io");
  CHECK(rules::default_exempt_list() ==
        std::vector<std::string>{"kube-system", "kube-public", "kube-node-lease"});
}
