#include "netpol_guard/netpol/object.hpp"

#include <nlohmann/json.hpp>

namespace netpol_guard {

using json = nlohmann::json;
using boost::system::in_place_error;

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

boost::system::result<policy_summary, std::string> summarize_policy(const json& policy) {
  std::string name = object_name(policy);
  // policy_summary is constructible from a string, so errors are tagged.
  if (name.empty()) return {in_place_error, "NetworkPolicy has no metadata.name"};
  auto spec = policy.find("spec");
  auto facts = facts_from_spec(spec == policy.end() ? json() : *spec);
  if (!facts) return {in_place_error, "NetworkPolicy \"" + name + "\": spec." + facts.error()};
  policy_summary summary{object_namespace(policy), std::move(name), coverage_of(*facts), {}, false,
                         opens_all_of(*facts)};
  if (auto md = policy.find("metadata"); md != policy.end() && md->is_object()) {
    if (auto c = md->find("creationTimestamp"); c != md->end() && c->is_string()) {
      summary.created = c->get<std::string>();
    }
    auto d = md->find("deletionTimestamp");
    summary.deleting = d != md->end() && !d->is_null() &&
                       !(d->is_string() && d->get_ref<const std::string&>().empty());
  }
  // A policy being deleted may still be enforced until it is gone: it covers
  // nothing, but what it re-opens still counts.
  if (summary.deleting) summary.coverage = {};
  return summary;
}

boost::system::result<namespace_summary, std::string> summarize_namespace(const json& ns) {
  namespace_summary out;
  auto md = ns.find("metadata");
  if (md != ns.end() && md->is_object()) {
    auto n = md->find("name");
    if (n != md->end() && n->is_string()) out.name = n->get<std::string>();
    auto d = md->find("deletionTimestamp");
    out.terminating = d != md->end() && d->is_string() && !d->get_ref<const std::string&>().empty();
    out.settings = settings_from_keys(keys_from_metadata(*md));
  }
  if (out.name.empty()) return {in_place_error, "Namespace has no metadata.name"};
  auto status = ns.find("status");
  if (status != ns.end() && status->is_object()) {
    auto phase = status->find("phase");
    out.terminating = out.terminating || (phase != status->end() && phase->is_string() &&
                                          phase->get_ref<const std::string&>() == "Terminating");
  }
  return out;
}

boost::system::result<void, std::string> index_policy(namespace_index& index, const json& policy) {
  auto p = summarize_policy(policy);
  if (!p) return p.error();
  index.upsert_policy(policy_record{p->namespace_name, p->name, p->coverage, p->created, p->opens});
  return {};
}

boost::system::result<void, std::string> index_namespace(namespace_index& index, const json& ns) {
  auto n = summarize_namespace(ns);
  if (!n) return n.error();
  index.upsert_namespace(namespace_record{n->name, n->terminating, n->settings});
  return {};
}

}  // namespace netpol_guard
