#include "netpol_guard/admission/review_facts.hpp"

#include <array>
#include <nlohmann/json.hpp>
#include <string_view>

#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard::review_facts {

using json = nlohmann::json;

std::string fill_policy(object_facts& o, const json& spec, const json& metadata,
                        const char* where) {
  auto facts = facts_from_spec(spec);
  if (!facts) return std::string(where) + ".spec." + facts.error();
  o.policy = *facts;
  // nlohmann's objects are ordered by key, so equal content dumps equal.
  o.content = json{{"spec", spec}, {"metadata", metadata}}.dump();
  return {};
}

std::string fill_namespace_keys(object_facts& o, const json& metadata, const char* where) {
  struct member {
    const char* name;
    std::array<std::string_view, 3> keys;  // the netpol-guard keys it may hold ("" = none)
  };
  static constexpr std::array<member, 2> members{{
      {"labels", {rules::mode_label, {}, {}}},
      {"annotations",
       {rules::exempt_annotation, rules::exempt_reason_annotation, rules::exempt_until_annotation}},
  }};
  for (const auto& m : members) {
    auto it = metadata.find(m.name);
    // null is "unset", as for every field the decoder reads.
    if (it == metadata.end() || it->is_null()) continue;
    const std::string path = std::string(where) + ".metadata." + m.name;
    if (!it->is_object()) return path + ": expected an object";
    for (std::string_view key : m.keys) {
      if (key.empty()) continue;
      auto value = it->find(key);
      // A value that is not a string would be read as absent, and an exemption
      // or a mode judged on what the apiserver never stores: refuse it.
      if (value != it->end() && !value->is_string()) {
        return path + "[\"" + std::string(key) + "\"]: expected a string";
      }
    }
  }
  o.keys = keys_from_metadata(metadata);
  return {};
}

}  // namespace netpol_guard::review_facts
