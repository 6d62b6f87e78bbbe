#include "netpol_guard/netpol/report.hpp"

#include <algorithm>
#include <array>
#include <chrono>
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
                              const evaluation_context& ctx) {
  auto it = entries.find(ns);
  return evaluate_namespace(ns, it == entries.end() ? nullptr : &it->second, ctx);
}

report_status status_of(const namespace_compliance& c, bool deny_allow_all) {
  if (c.exempt) return report_status::exempt;
  if (!c.effective().full()) {
    bool expired = (c.expired.ingress && !c.effective().ingress) ||
                   (c.expired.egress && !c.effective().egress);
    return expired ? report_status::expired : report_status::fail;
  }
  // A baseline that an allow-all policy re-opens is still a CIS 5.3.2 baseline,
  // but denies nothing any more.
  if (c.negated.any()) return deny_allow_all ? report_status::fail : report_status::warn;
  return c.by_exemption() ? report_status::exempt : report_status::pass;
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

const char* to_string(report_status s) {
  switch (s) {
    case report_status::pass:
      return "PASS";
    case report_status::exempt:
      return "EXEMPT";
    case report_status::warn:
      return "WARN";
    case report_status::expired:
      return "EXPIRED";
    case report_status::fail:
      break;
  }
  return "FAIL";
}

bool compliance_report::fails(const namespace_report& n) const {
  if (n.exempt) return false;
  switch (n.status) {
    case report_status::pass:
    case report_status::exempt:
      return false;
    case report_status::warn:
      return deny_allow_all;
    case report_status::fail:
    case report_status::expired:
      break;
  }
  return true;
}

bool compliance_report::passed() const {
  return std::none_of(namespaces.begin(), namespaces.end(),
                      [&](const namespace_report& n) { return fails(n); });
}

compliance_report build_report(const namespace_map& entries,
                               const std::set<std::string, std::less<>>& extra_namespaces,
                               const evaluation_context& ctx) {
  std::map<std::string, namespace_report> rows;
  for (const auto& [ns, entry] : entries) {
    auto& r = rows[ns];
    r.name = ns;
    r.baseline_policies = entry.baseline_names();
    r.policy_count = entry.policy_count;
  }
  for (const auto& ns : extra_namespaces) rows[ns].name = ns;
  compliance_report report;
  report.deny_allow_all = ctx.deny_allow_all;
  for (auto& [ns, r] : rows) {
    const namespace_compliance c = evaluate(entries, ns, ctx);
    r.exempt = c.exempt;
    r.coverage = c.coverage;
    r.template_name_taken = c.template_name_taken;
    r.mode = c.mode;
    if (c.exempt_detail) {
      r.exemption =
          report_exemption{c.exempt_detail->directions, c.exempt_detail->reason,
                           c.exempt_detail->until_text, !c.exempt_detail->active(ctx.now)};
    }
    r.negated_by = c.negated_by;
    r.settings_invalid = c.settings_invalid;
    r.status = status_of(c, ctx.deny_allow_all);
    report.namespaces.push_back(std::move(r));
  }
  return report;
}

compliance_report report_manifests(const std::vector<manifest_object>& objects,
                                   const namespace_index& index, const evaluation_context& ctx,
                                   bool check_workloads) {
  std::set<std::string, std::less<>> seen;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> creators;
  // Where each namespace is: its Namespace object, else its first object.
  std::map<std::string, const manifest_object*, std::less<>> namespace_at, first_at;
  for (const auto& m : objects) {
    const auto& kind = m.object["kind"].get_ref<const std::string&>();
    if (kind == "Namespace") {
      namespace_at.try_emplace(object_name(m.object), &m);
      continue;  // indexed already
    }
    // An object names its namespace, or is a built-in namespaced kind that
    // kubectl would put in "default". Anything else may be cluster-scoped
    // (ClusterRole, RuntimeClass, custom kinds...) and makes no namespace appear.
    if (!has_namespace(m.object) && !is_namespaced_builtin(kind)) continue;
    std::string ns = object_namespace(m.object);
    first_at.try_emplace(ns, &m);
    seen.insert(ns);
    if (is_pod_creator(m.object, kind, check_workloads))
      creators[ns].emplace_back(kind, object_name(m.object));
  }
  auto report = build_report(index.entries(), seen, ctx);
  for (auto& row : report.namespaces) {
    const manifest_object* at = nullptr;
    if (auto it = namespace_at.find(row.name); it != namespace_at.end()) {
      at = it->second;
    } else if (auto f = first_at.find(row.name); f != first_at.end()) {
      at = f->second;
    }
    if (at != nullptr) {
      // "file.yaml#2" names the second document of file.yaml.
      row.source_file = at->source;
      const auto hash = row.source_file.rfind('#');
      if (hash != std::string::npos && hash + 1 < row.source_file.size() &&
          row.source_file.find_first_not_of("0123456789", hash + 1) == std::string::npos) {
        row.source_file.resize(hash);
      }
      row.source_line = at->line;
    }
    // Pods and workloads there are refused exactly when the webhook refuses
    // them: a warn namespace admits them with a warning.
    auto c = evaluate(index.entries(), row.name, ctx);
    if (!c.refuses_pods() || !c.enforced()) continue;
    if (auto it = creators.find(row.name); it != creators.end()) row.would_reject = it->second;
  }
  return report;
}

namespace {

std::string exemption_text(const report_exemption& e) {
  std::string dirs = e.directions.full()    ? "ingress and egress"
                     : e.directions.ingress ? "ingress"
                                            : "egress";
  return "exemption of " + dirs + (e.expired ? " expired at " : " until ") + e.until +
         " (reason: " + e.reason + ")";
}

std::string failing_details(const namespace_report& n) {
  std::string line;
  if (!n.baseline_policies.empty()) line += " (has " + join(n.baseline_policies, ", ") + ")";
  if (n.exemption) line += "; its " + exemption_text(*n.exemption);
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
  if (n.mode == namespace_mode::warn) line += "; mode warn: its pods are admitted with a warning";
  return line;
}

// Both directions denied, by policies or an active exemption.
bool covered(const namespace_report& n) {
  if (n.coverage.full()) return true;
  if (!n.exemption || n.exemption->expired) return false;
  return (n.coverage.ingress || n.exemption->directions.ingress) &&
         (n.coverage.egress || n.exemption->directions.egress);
}

std::string coverage_text(const namespace_report& n) {
  if (n.coverage.full()) {
    return "default-deny ingress and egress (" + join(n.baseline_policies, ", ") + ")";
  }
  return no_default_deny(n.coverage) + ", covered by its " + exemption_text(*n.exemption);
}

std::string negation_text(const namespace_report& n) {
  return "re-opened for every pod by " + join(n.negated_by, ", ") +
         "; fix: list the sources, destinations and ports the pods need";
}

struct counts {
  std::size_t pass = 0, fail = 0, exempt = 0, warn = 0, expired = 0;
  void add(const namespace_report& n) {
    switch (n.exempt ? report_status::exempt : n.status) {
      case report_status::pass:
        ++pass;
        break;
      case report_status::fail:
        ++fail;
        break;
      case report_status::exempt:
        ++exempt;
        break;
      case report_status::warn:
        ++warn;
        break;
      case report_status::expired:
        ++expired;
        break;
    }
  }
};

}  // namespace

std::string finding_text(const namespace_report& n) {
  const std::string head = "5.3.2 namespace " + n.name + ": ";
  std::string line;
  if (n.exempt) {
    line = "[INFO] " + head + "exempt";
    if (!n.compliant()) line += " (no default-deny " + missing_directions(n.coverage) + ")";
  } else if (n.status == report_status::pass) {
    line = "[PASS] " + head + "default-deny ingress and egress (" +
           join(n.baseline_policies, ", ") + ")";
  } else if (n.status == report_status::exempt) {
    line = "[EXEMPT] " + head + coverage_text(n);
  } else if (!n.negated_by.empty() && covered(n) &&
             (n.status == report_status::warn || n.status == report_status::fail)) {
    line = std::string(n.status == report_status::warn ? "[WARN] " : "[FAIL] ") + head +
           coverage_text(n) + ", " + negation_text(n);
  } else {
    line = std::string(n.status == report_status::expired ? "[EXPIRED] " : "[FAIL] ") + head +
           no_default_deny(n.coverage);
    line += failing_details(n) + "; fix: apply " + template_summary();
  }
  if (!n.exempt && !n.settings_invalid.empty()) {
    line += "; ignored its invalid settings: " + n.settings_invalid;
  }
  return line;
}

std::string render_text(const compliance_report& report) {
  std::string out;
  counts k;
  for (const auto& n : report.namespaces) {
    k.add(n);
    out += finding_text(n) + "\n";
  }
  out += "\n== Summary ==\n";
  out += std::to_string(k.pass) + " checks PASS\n" + std::to_string(k.fail) + " checks FAIL\n" +
         std::to_string(k.exempt) + " namespaces exempt\n";
  if (k.warn > 0) out += std::to_string(k.warn) + " checks WARN\n";
  if (k.expired > 0) out += std::to_string(k.expired) + " checks EXPIRED\n";
  return out;
}

std::string render_json(const compliance_report& report) {
  nlohmann::ordered_json doc;
  doc["namespaces"] = nlohmann::ordered_json::array();
  counts k;
  for (const auto& n : report.namespaces) {
    nlohmann::ordered_json row;
    row["namespace"] = n.name;
    row["denyAllIngress"] = n.coverage.ingress;
    row["denyAllEgress"] = n.coverage.egress;
    row["compliant"] = n.compliant();
    row["baselinePolicies"] = n.baseline_policies;
    row["exempt"] = n.exempt;
    row["status"] = to_string(n.exempt ? report_status::exempt : n.status);
    row["mode"] = to_string(n.mode);
    row["missing"] = nlohmann::ordered_json::array();
    if (!n.coverage.ingress) row["missing"].push_back("ingress");
    if (!n.coverage.egress) row["missing"].push_back("egress");
    row["policyCount"] = n.policy_count;
    row["wouldReject"] = nlohmann::ordered_json::array();
    for (const auto& [kind, name] : n.would_reject) {
      row["wouldReject"].push_back({{"kind", kind}, {"name", name}});
    }
    if (n.exemption) {
      auto directions = nlohmann::ordered_json::array();
      if (n.exemption->directions.ingress) directions.push_back("ingress");
      if (n.exemption->directions.egress) directions.push_back("egress");
      row["exemption"] = {{"directions", std::move(directions)},
                          {"reason", n.exemption->reason},
                          {"until", n.exemption->until},
                          {"expired", n.exemption->expired}};
    }
    row["negatedBy"] = n.negated_by;
    if (!n.settings_invalid.empty()) row["settingsInvalid"] = n.settings_invalid;
    if (n.unprotected_pods) row["unprotectedPods"] = *n.unprotected_pods;
    // A user's policy holds the template's name without being a deny-all, so
    // provisioning cannot create the template there.
    if (n.template_name_taken) row["templateNameTaken"] = true;
    k.add(n);
    doc["namespaces"].push_back(std::move(row));
  }
  doc["summary"] = {{"pass", k.pass},        {"fail", k.fail},       {"exempt", k.exempt},
                    {"warn", k.warn},        {"expired", k.expired}, {"compliant", report.passed()},
                    {"control", "CIS 5.3.2"}};
  return doc.dump(2) + "\n";
}

}  // namespace netpol_guard
