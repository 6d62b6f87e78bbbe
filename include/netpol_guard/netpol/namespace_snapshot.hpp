#pragma once

// The per-namespace facts decisions need, as an immutable snapshot.
// Only deny-all ("baseline") policies are kept by name; other policies are only
// counted, so memory grows with the number of namespaces, not with policy size.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "netpol_guard/netpol/namespace_settings.hpp"
#include "netpol_guard/netpol/policy.hpp"

namespace netpol_guard {

struct baseline_policy {
  std::string name;
  deny_all_coverage coverage;
  // metadata.creationTimestamp as the apiserver writes it (RFC 3339, UTC, whole
  // seconds), so ordering the strings orders the times. Empty for manifests.
  std::string created;
  friend bool operator==(const baseline_policy&, const baseline_policy&) = default;
};

// Orders policies by age: creationTimestamp, then name. Both are immutable and
// the same in every replica's view, so every replica picks the same "oldest".
bool older_than(const baseline_policy& a, const baseline_policy& b);

// A policy that re-opens a direction for every pod of its namespace.
struct negating_policy {
  std::string name;
  deny_all_coverage opens;
  std::string rule;  // "spec.ingress[0]"
  friend bool operator==(const negating_policy&, const negating_policy&) = default;
};

struct namespace_entry {
  std::vector<baseline_policy> baselines;  // sorted by name; only policies with coverage.any()
  std::uint32_t policy_count = 0;          // every NetworkPolicy in the namespace
  bool known_namespace = false;            // a Namespace object was seen
  bool terminating = false;                // Namespace has deletionTimestamp / phase Terminating
  // A policy named default-deny-all exists but does not deny both directions
  // (a user's policy under the template's name): provisioning cannot fix it.
  bool template_name_taken = false;
  // The Namespace object's mode label and exemption, parsed when indexed.
  namespace_settings settings;
  std::vector<negating_policy> negating;  // sorted by name

  deny_all_coverage coverage() const;
  // Names of the policies that provide the coverage, sorted.
  std::vector<std::string> baseline_names() const;
  // The pinned baseline of a direction: the oldest policy that denies it, or
  // nullptr. Its removal or weakening is refused whatever else covers.
  const baseline_policy* pinned(bool ingress) const;
};

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

using namespace_map =
    std::unordered_map<std::string, namespace_entry, string_hash, std::equal_to<>>;

class namespace_snapshot {
 public:
  namespace_snapshot() = default;
  explicit namespace_snapshot(namespace_map entries, std::string source = {});

  // nullptr when nothing is known of the namespace (no policy, no Namespace object).
  const namespace_entry* find(std::string_view ns) const;
  deny_all_coverage coverage(std::string_view ns) const;

  const namespace_map& entries() const { return entries_; }
  std::size_t namespace_count() const { return entries_.size(); }
  const std::string& source() const { return source_; }
  std::chrono::steady_clock::time_point built_at() const { return built_at_; }

 private:
  namespace_map entries_;
  std::string source_;
  std::chrono::steady_clock::time_point built_at_ = std::chrono::steady_clock::now();
};

// One object of a full list, as replace_policies / replace_namespaces take it.
struct policy_record {
  std::string namespace_name;
  std::string name;
  deny_all_coverage coverage;
  std::string created;
  allow_all opens;  // what it re-opens for every pod
};
struct namespace_record {
  std::string name;
  bool terminating = false;
  namespace_settings settings;
};

// Mutable index the state sources update, then freeze into snapshots. Its
// operations are client-go's cache.Store's: upsert_* is Add/Update, remove_* is
// Delete, replace_* is Replace. Policies and Namespaces come from two lists, so
// a relist of one kind replaces that kind only and keeps the other.
class namespace_index {
 public:
  // Records (or replaces) policy `name` in `ns` with the given coverage and
  // creationTimestamp.
  void upsert_policy(const std::string& ns, const std::string& name, deny_all_coverage c,
                     const std::string& created = {});
  void remove_policy(const std::string& ns, const std::string& name);
  void upsert_policy(const policy_record& policy);
  void upsert_namespace(const std::string& ns, bool terminating);
  void upsert_namespace(const namespace_record& ns);
  void remove_namespace(const std::string& ns);
  // Every policy becomes `policies`; Namespace objects are kept.
  void replace_policies(const std::vector<policy_record>& policies);
  // Every Namespace object becomes `namespaces`; policies are kept.
  void replace_namespaces(const std::vector<namespace_record>& namespaces);
  void clear();

  // Whether `ns` holds a policy named `name`, a baseline or not.
  bool has_policy(std::string_view ns, std::string_view name) const;

  std::shared_ptr<const namespace_snapshot> freeze(std::string source) const;
  const namespace_map& entries() const { return entries_; }

 private:
  namespace_entry& entry(const std::string& ns);
  void drop_if_empty(const std::string& ns);

  namespace_map entries_;
  // Non-baseline policy names per namespace, so MODIFIED/DELETED events keep the
  // counts exact. Kept as one set per namespace of names only.
  std::unordered_map<std::string, std::vector<std::string>, string_hash, std::equal_to<>> others_;
};

}  // namespace netpol_guard
