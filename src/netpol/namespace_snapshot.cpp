#include "netpol_guard/netpol/namespace_snapshot.hpp"

#include <algorithm>
#include <iterator>

#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard {

deny_all_coverage namespace_entry::coverage() const {
  deny_all_coverage c;
  for (const auto& b : baselines) {
    c.ingress = c.ingress || b.coverage.ingress;
    c.egress = c.egress || b.coverage.egress;
  }
  return c;
}

bool older_than(const baseline_policy& a, const baseline_policy& b) {
  if (a.created != b.created) return a.created < b.created;
  return a.name < b.name;
}

const baseline_policy* namespace_entry::pinned(bool ingress) const {
  const baseline_policy* oldest = nullptr;
  for (const auto& b : baselines) {
    if (!(ingress ? b.coverage.ingress : b.coverage.egress)) continue;
    if (oldest == nullptr || older_than(b, *oldest)) oldest = &b;
  }
  return oldest;
}

std::vector<std::string> namespace_entry::baseline_names() const {
  std::vector<std::string> names;
  names.reserve(baselines.size());
  for (const auto& b : baselines) names.push_back(b.name);
  return names;
}

namespace_snapshot::namespace_snapshot(namespace_map entries, std::string source)
    : entries_(std::move(entries)), source_(std::move(source)) {}

const namespace_entry* namespace_snapshot::find(std::string_view ns) const {
  auto it = entries_.find(ns);
  return it == entries_.end() ? nullptr : &it->second;
}

deny_all_coverage namespace_snapshot::coverage(std::string_view ns) const {
  const auto* e = find(ns);
  return e ? e->coverage() : deny_all_coverage{};
}

namespace_entry& namespace_index::entry(const std::string& ns) { return entries_[ns]; }

void namespace_index::upsert_policy(const std::string& ns, const std::string& name,
                                    deny_all_coverage c, const std::string& created) {
  remove_policy(ns, name);
  auto& e = entry(ns);
  e.policy_count++;
  if (name == rules::template_policy_name) e.template_name_taken = !c.full();
  if (c.any()) {
    auto pos =
        std::lower_bound(e.baselines.begin(), e.baselines.end(), name,
                         [](const baseline_policy& b, const std::string& n) { return b.name < n; });
    e.baselines.insert(pos, baseline_policy{name, c, created});
  } else {
    auto& names = others_[ns];
    names.insert(std::lower_bound(names.begin(), names.end(), name), name);
  }
}

void namespace_index::remove_policy(const std::string& ns, const std::string& name) {
  auto it = entries_.find(ns);
  if (it == entries_.end()) return;
  auto& e = it->second;
  if (name == rules::template_policy_name) e.template_name_taken = false;
  std::erase_if(e.negating, [&](const negating_policy& n) { return n.name == name; });
  auto b = std::find_if(e.baselines.begin(), e.baselines.end(),
                        [&](const baseline_policy& p) { return p.name == name; });
  if (b != e.baselines.end()) {
    e.baselines.erase(b);
    e.policy_count--;
  } else if (auto o = others_.find(ns); o != others_.end()) {
    auto& names = o->second;
    auto pos = std::lower_bound(names.begin(), names.end(), name);
    if (pos != names.end() && *pos == name) {
      names.erase(pos);
      e.policy_count--;
      if (names.empty()) others_.erase(o);
    }
  }
  drop_if_empty(ns);
}

void namespace_index::upsert_namespace(const std::string& ns, bool terminating) {
  upsert_namespace(namespace_record{ns, terminating, {}});
}

void namespace_index::upsert_policy(const policy_record& p) {
  upsert_policy(p.namespace_name, p.name, p.coverage, p.created);
  if (!p.opens.opens.any()) return;
  auto& negating = entry(p.namespace_name).negating;
  auto pos = std::lower_bound(
      negating.begin(), negating.end(), p.name,
      [](const negating_policy& n, const std::string& name) { return n.name < name; });
  negating.insert(pos, negating_policy{p.name, p.opens.opens, p.opens.rule});
}

void namespace_index::upsert_namespace(const namespace_record& n) {
  auto& e = entry(n.name);
  e.known_namespace = true;
  e.terminating = n.terminating;
  e.settings = n.settings;
}

void namespace_index::remove_namespace(const std::string& ns) {
  auto it = entries_.find(ns);
  if (it == entries_.end()) return;
  it->second.known_namespace = false;
  it->second.terminating = false;
  it->second.settings = {};
  drop_if_empty(ns);
}

void namespace_index::drop_if_empty(const std::string& ns) {
  auto it = entries_.find(ns);
  if (it != entries_.end() && it->second.policy_count == 0 && !it->second.known_namespace) {
    entries_.erase(it);
  }
}

void namespace_index::replace_policies(const std::vector<policy_record>& policies) {
  others_.clear();
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto& e = it->second;
    e.baselines.clear();
    e.policy_count = 0;
    e.template_name_taken = false;
    e.negating.clear();
    it = e.known_namespace ? std::next(it) : entries_.erase(it);
  }
  for (const auto& p : policies) upsert_policy(p);
}

void namespace_index::replace_namespaces(const std::vector<namespace_record>& namespaces) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto& e = it->second;
    e.known_namespace = false;
    e.terminating = false;
    e.settings = {};
    it = e.policy_count > 0 ? std::next(it) : entries_.erase(it);
  }
  for (const auto& n : namespaces) upsert_namespace(n);
}

bool namespace_index::has_policy(std::string_view ns, std::string_view name) const {
  auto it = entries_.find(ns);
  if (it == entries_.end()) return false;
  const auto& b = it->second.baselines;
  if (std::any_of(b.begin(), b.end(), [&](const baseline_policy& p) { return p.name == name; })) {
    return true;
  }
  auto o = others_.find(ns);
  return o != others_.end() && std::binary_search(o->second.begin(), o->second.end(), name);
}

void namespace_index::clear() {
  entries_.clear();
  others_.clear();
}

std::shared_ptr<const namespace_snapshot> namespace_index::freeze(std::string source) const {
  return std::make_shared<const namespace_snapshot>(entries_, std::move(source));
}

}  // namespace netpol_guard
