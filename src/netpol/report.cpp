#include "netpol_guard/netpol/report.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>

#include "netpol_guard/netpol/namespace_compliance.hpp"
#include "netpol_guard/netpol/object.hpp"
#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard {

namespace {

// The webhook's own test (rules::find_pod_creator), read from the manifest's
// apiVersion and kind.
bool is_pod_creator(const nlohmann::json& o, std::string_view kind, bool check_workloads) {
  auto api_version = o.find("apiVersion");
  if (api_version == o.end() || !api_version->is_string()) return false;
  const auto* creator =
      rules::find_pod_creator_kind(api_version->get_ref<const std::string&>(), kind);
  if (creator == nullptr) return false;
  return creator == &rules::pod_kind || check_workloads;
}

constexpr std::array<std::string_view, 28> namespaced_builtins{"Pod",
                                                               "Deployment",
                                                               "ReplicaSet",
                                                               "StatefulSet",
                                                               "DaemonSet",
                                                               "Job",
                                                               "CronJob",
                                                               "ReplicationController",
                                                               "ControllerRevision",
                                                               "PodTemplate",
                                                               "Service",
                                                               "Endpoints",
                                                               "EndpointSlice",
                                                               "ConfigMap",
                                                               "Secret",
                                                               "ServiceAccount",
                                                               "NetworkPolicy",
                                                               "Role",
                                                               "RoleBinding",
                                                               "Ingress",
                                                               "PersistentVolumeClaim",
                                                               "HorizontalPodAutoscaler",
                                                               "PodDisruptionBudget",
                                                               "LimitRange",
                                                               "ResourceQuota",
                                                               "Lease",
                                                               "Event",
                                                               "CSIStorageCapacity"};

bool is_namespaced_builtin(std::string_view kind) {
  return std::find(namespaced_builtins.begin(), namespaced_builtins.end(), kind) !=
         namespaced_builtins.end();
}

bool has_namespace(const nlohmann::json& o) {
  auto md = o.find("metadata");
  if (md == o.end() || !md->is_object()) return false;
  auto ns = md->find("namespace");
  return ns != md->end() && ns->is_string() && !ns->get_ref<const std::string&>().empty();
}

// A namespace as the webhook's decision sees it (namespace_compliance.hpp).
namespace_compliance evaluate(const namespace_map& entries, const std::string& ns,
                              const std::set<std::string, std::less<>>& exempt) {
  auto it = entries.find(ns);
  return evaluate_namespace(ns, it == entries.end() ? nullptr : &it->second,
                            evaluation_context{exempt});
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

}  // namespace

bool compliance_report::passed() const {
  return std::all_of(namespaces.begin(), namespaces.end(),
                     [](const namespace_report& n) { return n.exempt || n.compliant(); });
}

compliance_report build_report(const namespace_map& entries,
                               const std::set<std::string, std::less<>>& extra_namespaces,
                               const std::set<std::string, std::less<>>& exempt) {
  std::map<std::string, namespace_report> rows;
  for (const auto& [ns, entry] : entries) {
    auto& r = rows[ns];
    r.name = ns;
    r.baseline_policies = entry.baseline_names();
    r.policy_count = entry.policy_count;
  }
  for (const auto& ns : extra_namespaces) rows[ns].name = ns;
  compliance_report report;
  for (auto& [ns, r] : rows) {
    const namespace_compliance c = evaluate(entries, ns, exempt);
    r.exempt = c.exempt;
    r.coverage = c.coverage;
    r.template_name_taken = c.template_name_taken;
    report.namespaces.push_back(std::move(r));
  }
  return report;
}

compliance_report report_manifests(const std::vector<manifest_object>& objects,
                                   const namespace_index& index,
                                   const std::set<std::string, std::less<>>& exempt,
                                   bool check_workloads) {
  std::set<std::string, std::less<>> seen;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> creators;
  for (const auto& m : objects) {
    const auto& kind = m.object["kind"].get_ref<const std::string&>();
    if (kind == "Namespace") continue;  // indexed already
    // An object names its namespace, or is a built-in namespaced kind that
    // kubectl would put in "default". Anything else may be cluster-scoped
    // (ClusterRole, RuntimeClass, custom kinds...) and makes no namespace appear.
    if (!has_namespace(m.object) && !is_namespaced_builtin(kind)) continue;
    std::string ns = object_namespace(m.object);
    seen.insert(ns);
    if (is_pod_creator(m.object, kind, check_workloads))
      creators[ns].emplace_back(kind, object_name(m.object));
  }
  auto report = build_report(index.entries(), seen, exempt);
  for (auto& row : report.namespaces) {
    // Pods and workloads there are refused exactly when the webhook refuses them.
    if (!evaluate(index.entries(), row.name, exempt).refuses_pods()) continue;
    if (auto it = creators.find(row.name); it != creators.end()) row.would_reject = it->second;
  }
  return report;
}

std::string render_text(const compliance_report& report) {
  std::string out;
  std::size_t pass = 0, fail = 0, exempt = 0;
  for (const auto& n : report.namespaces) {
    std::string line;
    if (n.exempt) {
      ++exempt;
      line = "[INFO] 5.3.2 namespace " + n.name + ": exempt";
      if (!n.compliant()) line += " (no default-deny " + missing_directions(n.coverage) + ")";
    } else if (n.compliant()) {
      ++pass;
      line = "[PASS] 5.3.2 namespace " + n.name + ": default-deny ingress and egress (" +
             join(n.baseline_policies, ", ") + ")";
    } else {
      ++fail;
      line = "[FAIL] 5.3.2 namespace " + n.name + ": " + no_default_deny(n.coverage);
      if (!n.baseline_policies.empty()) line += " (has " + join(n.baseline_policies, ", ") + ")";
      if (!n.would_reject.empty()) {
        std::vector<std::string> items;
        for (const auto& [k, name] : n.would_reject) items.push_back(k + "/" + name);
        line += "; would reject " + join(items, ", ");
      }
      if (n.unprotected_pods)
        line += "; " + std::to_string(*n.unprotected_pods) + " running pods unprotected";
      if (n.template_name_taken) {
        line += "; the NetworkPolicy named " + std::string(rules::template_policy_name) +
                " is not a deny-all (replace it)";
      }
      line += "; fix: apply " + template_summary();
    }
    out += line + "\n";
  }
  out += "\n== Summary ==\n";
  out += std::to_string(pass) + " checks PASS\n" + std::to_string(fail) + " checks FAIL\n" +
         std::to_string(exempt) + " namespaces exempt\n";
  return out;
}

std::string render_json(const compliance_report& report) {
  nlohmann::ordered_json doc;
  doc["namespaces"] = nlohmann::ordered_json::array();
  std::size_t pass = 0, fail = 0, exempt = 0;
  for (const auto& n : report.namespaces) {
    nlohmann::ordered_json row;
    row["namespace"] = n.name;
    row["denyAllIngress"] = n.coverage.ingress;
    row["denyAllEgress"] = n.coverage.egress;
    row["compliant"] = n.compliant();
    row["baselinePolicies"] = n.baseline_policies;
    row["exempt"] = n.exempt;
    row["status"] = n.exempt ? "EXEMPT" : n.compliant() ? "PASS" : "FAIL";
    row["missing"] = nlohmann::ordered_json::array();
    if (!n.coverage.ingress) row["missing"].push_back("ingress");
    if (!n.coverage.egress) row["missing"].push_back("egress");
    row["policyCount"] = n.policy_count;
    row["wouldReject"] = nlohmann::ordered_json::array();
    for (const auto& [k, name] : n.would_reject) {
      row["wouldReject"].push_back({{"kind", k}, {"name", name}});
    }
    if (n.unprotected_pods) row["unprotectedPods"] = *n.unprotected_pods;
    // A user's policy holds the template's name without being a deny-all, so
    // provisioning cannot create the template there.
    if (n.template_name_taken) row["templateNameTaken"] = true;
    (n.exempt ? exempt : n.compliant() ? pass : fail)++;
    doc["namespaces"].push_back(std::move(row));
  }
  doc["summary"] = {{"pass", pass},
                    {"fail", fail},
                    {"exempt", exempt},
                    {"compliant", report.passed()},
                    {"control", "CIS 5.3.2"}};
  return doc.dump(2) + "\n";
}

// STEP-0 STUBS: issue 13 part A implements these.
compliance_report build_report(const namespace_map& entries,
                               const std::set<std::string, std::less<>>& extra_namespaces,
                               const evaluation_context& ctx) {
  return build_report(entries, extra_namespaces, ctx.exempt_namespaces);
}

compliance_report report_manifests(const std::vector<manifest_object>& objects,
                                   const namespace_index& index, const evaluation_context& ctx,
                                   bool check_workloads) {
  return report_manifests(objects, index, ctx.exempt_namespaces, check_workloads);
}

}  // namespace netpol_guard
