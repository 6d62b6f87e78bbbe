#include "netpol_guard/netpol/object.hpp"

#include <nlohmann/json.hpp>

namespace netpol_guard {

using json = nlohmann::json;

std::string object_namespace(const json& o) {
  auto md = o.find("metadata");
  if (md != o.end() && md->is_object()) {
    auto ns = md->find("namespace");
    if (ns != md->end() && ns->is_string() && !ns->get_ref<const std::string&>().empty()) {
      return ns->get<std::string>();
    }
  }
  return "default";
}

std::string object_name(const json& o) {
  auto md = o.find("metadata");
  if (md != o.end() && md->is_object()) {
    auto n = md->find("name");
    if (n != md->end() && n->is_string()) return n->get<std::string>();
    auto g = md->find("generateName");
    if (g != md->end() && g->is_string()) return g->get<std::string>();
  }
  return "";
}

std::optional<policy_summary> summarize_policy(const json& policy, std::string& error) {
  std::string name = object_name(policy);
  if (name.empty()) {
    error = "NetworkPolicy has no metadata.name";
    return std::nullopt;
  }
  auto spec = policy.find("spec");
  auto facts = facts_from_spec(spec == policy.end() ? json() : *spec, error);
  if (!facts) {
    error = "NetworkPolicy \"" + name + "\": spec." + error;
    return std::nullopt;
  }
  policy_summary summary{object_namespace(policy), std::move(name), coverage_of(*facts), {}, false};
  if (auto md = policy.find("metadata"); md != policy.end() && md->is_object()) {
    if (auto c = md->find("creationTimestamp"); c != md->end() && c->is_string()) {
      summary.created = c->get<std::string>();
    }
    auto d = md->find("deletionTimestamp");
    summary.deleting = d != md->end() && !d->is_null() &&
                       !(d->is_string() && d->get_ref<const std::string&>().empty());
  }
  if (summary.deleting) summary.coverage = {};
  return summary;
}

bool summarize_namespace(const json& ns, std::string& name, bool& terminating, std::string& error) {
  name.clear();
  terminating = false;
  auto md = ns.find("metadata");
  if (md != ns.end() && md->is_object()) {
    auto n = md->find("name");
    if (n != md->end() && n->is_string()) name = n->get<std::string>();
    auto d = md->find("deletionTimestamp");
    terminating = d != md->end() && d->is_string() && !d->get_ref<const std::string&>().empty();
  }
  if (name.empty()) {
    error = "Namespace has no metadata.name";
    return false;
  }
  auto status = ns.find("status");
  if (status != ns.end() && status->is_object()) {
    auto phase = status->find("phase");
    terminating = terminating || (phase != status->end() && phase->is_string() &&
                                  phase->get_ref<const std::string&>() == "Terminating");
  }
  return true;
}

bool index_policy(namespace_index& index, const json& policy, std::string& error) {
  auto p = summarize_policy(policy, error);
  if (!p) return false;
  index.upsert_policy(p->namespace_name, p->name, p->coverage, p->created);
  return true;
}

bool index_namespace(namespace_index& index, const json& ns, std::string& error) {
  std::string name;
  bool terminating = false;
  if (!summarize_namespace(ns, name, terminating, error)) return false;
  index.upsert_namespace(name, terminating);
  return true;
}

}  // namespace netpol_guard
