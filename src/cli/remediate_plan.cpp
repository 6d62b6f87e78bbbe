#include "netpol_guard/cli/remediate_plan.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "netpol_guard/netpol/object.hpp"

namespace netpol_guard::cli {

using json = nlohmann::json;

namespace {

std::string pod_phase(const json& pod) {
  if (auto st = pod.find("status"); st != pod.end() && st->is_object()) {
    if (auto ph = st->find("phase"); ph != st->end() && ph->is_string())
      return ph->get<std::string>();
  }
  return {};
}

std::string joined(const std::vector<std::string>& names, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < limit; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > limit) out += " and " + std::to_string(names.size() - limit) + " more";
  return out;
}

// Comment lines carry names from the cluster: a newline must not end the comment.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

}  // namespace

std::size_t remediation_selection::object_count() const {
  std::size_t n = 0;
  for (const auto& t : targets) n += t.plan.objects.size();
  return n;
}

std::string directions_text(const deny_all_coverage& d) {
  if (d.full()) return "ingress and egress";
  return d.ingress ? "ingress" : (d.egress ? "egress" : "nothing");
}

std::vector<std::string> unknown_namespaces(const compliance_report& report,
                                            const std::vector<std::string>& only) {
  std::set<std::string, std::less<>> known;
  for (const auto& row : report.namespaces) known.insert(row.name);
  std::vector<std::string> out;
  for (const auto& n : only) {
    if (!known.contains(n)) out.push_back(n);
  }
  return out;
}

remediation_selection select_remediations(const compliance_report& report,
                                          const std::vector<json>& namespaces,
                                          const std::vector<json>& policies,
                                          const std::vector<json>& pods,
                                          const std::vector<std::string>& only,
                                          bool with_dns_egress) {
  std::set<std::string, std::less<>> terminating;
  for (const auto& n : namespaces) {
    if (auto s = summarize_namespace(n); s && s->terminating) terminating.insert(s->name);
  }
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> policy_names;
  for (const auto& p : policies) policy_names[object_namespace(p)].insert(object_name(p));
  std::map<std::string, std::vector<std::string>, std::less<>> running;
  for (const auto& p : pods) {
    const auto phase = pod_phase(p);
    if (phase != "Succeeded" && phase != "Failed")
      running[object_namespace(p)].push_back(object_name(p));
  }
  const std::set<std::string, std::less<>> wanted(only.begin(), only.end());
  remediation_selection s;
  for (const auto& row : report.namespaces) {
    if (!wanted.empty() && !wanted.contains(row.name)) continue;
    const auto& existing = policy_names[row.name];
    auto plan = plan_remediation(row, existing, with_dns_egress);
    if (!plan.needed()) {
      if (!wanted.empty()) s.untouched.push_back(row.name);
      continue;
    }
    if (terminating.contains(row.name)) {
      s.terminating.push_back(row.name);
      continue;
    }
    namespace_remediation t{std::move(plan), running[row.name], {existing.begin(), existing.end()}};
    std::sort(t.running_pods.begin(), t.running_pods.end());
    s.targets.push_back(std::move(t));
  }
  return s;
}

std::string render_remediation_yaml(const remediation_selection& s) {
  std::string out;
  for (const auto& t : s.targets) {
    const auto& ns = t.plan.namespace_name;
    out += "# namespace " + ns + ": no default deny of " + directions_text(t.plan.deny) + "\n";
    out +=
        "#   running pods that will lose " + directions_text(t.plan.deny) + " traffic (" +
        std::to_string(t.running_pods.size()) + ")" +
        (t.running_pods.empty() ? "" : ": " + one_line(joined(t.running_pods, max_listed_pods))) +
        "\n";
    out += "#   policies already there (" + std::to_string(t.existing_policies.size()) + ")" +
           (t.existing_policies.empty()
                ? ""
                : ": " + one_line(joined(t.existing_policies, max_listed_pods))) +
           "\n";
    if (!t.plan.conflict.empty()) {
      out += "#   CONFLICT, nothing is created here: " + one_line(t.plan.conflict) + "\n";
    }
    out += render_yaml(t.plan.objects);
  }
  for (const auto& n : s.terminating) out += "# namespace " + n + ": skipped, it is terminating\n";
  for (const auto& n : s.untouched) {
    out += "# namespace " + n + ": nothing to do (compliant or exempt)\n";
  }
  out += "# " + std::to_string(s.targets.size()) + " namespaces, " +
         std::to_string(s.object_count()) + " objects (dry run: nothing was changed)\n";
  return out;
}

json remediation_json(const remediation_selection& s) {
  json rows = json::array();
  std::size_t conflicts = 0;
  for (const auto& t : s.targets) {
    json missing = json::array();
    if (t.plan.deny.ingress) missing.push_back("Ingress");
    if (t.plan.deny.egress) missing.push_back("Egress");
    json row{{"namespace", t.plan.namespace_name},
             {"missing", missing},
             {"runningPods", t.running_pods},
             {"existingPolicies", t.existing_policies},
             {"objects", t.plan.objects}};
    if (!t.plan.conflict.empty()) {
      row["conflict"] = t.plan.conflict;
      ++conflicts;
    }
    rows.push_back(std::move(row));
  }
  return json{{"namespaces", rows},
              {"skippedTerminating", s.terminating},
              {"untouched", s.untouched},
              {"summary",
               {{"namespaces", s.targets.size()},
                {"objects", s.object_count()},
                {"conflicts", conflicts}}}};
}

}  // namespace netpol_guard::cli
