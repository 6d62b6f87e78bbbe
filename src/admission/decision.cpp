#include "netpol_guard/admission/decision.hpp"

#include <array>

#include "netpol_guard/netpol/namespace_compliance.hpp"
#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard {
namespace {

std::string describe_object(const request_subject& s) {
  return s.name.empty() ? s.kind : s.kind + " " + in_quotes(s.name);
}

admission_decision reject(admission_decision d, std::string message, const char* annotation_value,
                          const decision_config& config) {
  if (config.audit_only) {
    d.outcome = verdict::audited;
    d.response.allowed = true;
    d.response.warnings.push_back(to_warning(message));
    d.response.audit_annotations.emplace_back("cis-5.3.2-violation", message);
    d.response.audit_annotations.emplace_back("cis-5.3.2-missing", annotation_value);
  } else {
    d.outcome = verdict::denied;
    d.response.allowed = false;
    d.response.code = 403;
    d.response.reason = "Forbidden";
    d.response.message = std::move(message);
  }
  return d;
}

const char* missing_key(const deny_all_coverage& have) {
  if (!have.ingress && !have.egress) return "ingress,egress";
  return !have.ingress ? "ingress" : "egress";
}

// A Pod or a workload CREATE: the namespace is evaluated as `check` and `audit`
// evaluate it, and the finding worded as they word it.
admission_decision decide_pod_creator(admission_decision d, const namespace_snapshot& state,
                                      const decision_config& config, std::chrono::sys_seconds now) {
  const std::string& ns = d.subject.namespace_name;
  const namespace_compliance c = evaluate_namespace(
      ns, state.find(ns),
      evaluation_context{config.exempt_namespaces, config.audit_only, config.deny_allow_all, now});
  if (c.exempt) return d;
  d.coverage = c.coverage;
  if (!c.refuses_pods()) return d;
  d.depends_on_state = true;
  std::string message = violation_message(c, ns, describe_object(d.subject));
  const char* key = missing_key(d.coverage);
  return reject(std::move(d), std::move(message), key, config);
}

admission_decision decide_namespace(admission_decision d, const decision_config& config) {
  const std::string& ns = d.subject.name;
  if (config.provision_default_deny) {
    d.outcome = verdict::warned;
    d.response.warnings.push_back(to_warning(
        "CIS 5.3.2: netpol-guard creates NetworkPolicy default-deny-all (deny all ingress and "
        "egress) in new namespace " +
        in_quotes(ns) + "; add allow policies for the traffic its pods need."));
    return d;
  }
  // A NetworkPolicy cannot exist before its namespace, so a new namespace can never
  // show a baseline. This is not a stale cache: no live read can change it.
  std::string message =
      "CIS 5.3.2: new Namespace " + in_quotes(ns) +
      " cannot have its default-deny ingress and egress NetworkPolicy yet and netpol-guard is "
      "not provisioning one (MITRE ATT&CK T1046). Fix: ask an admin to run netpol-guard with "
      "--provision-default-deny, or to exempt the namespace.";
  return reject(std::move(d), std::move(message), "ingress,egress", config);
}

// Which of `lost`'s directions `self` holds as the namespace's pinned baseline:
// no other policy that denies that direction is older. Replicas agree on the
// pin whatever their caches miss (creationTimestamp and name never change, and
// a newer policy never takes the pin), so two concurrent requests cannot each
// count on the other's policy: the pin's removal is refused on every replica.
deny_all_coverage pinned_directions(const baseline_policy& self, const namespace_entry* entry,
                                    deny_all_coverage lost) {
  auto older_other_covers = [&](bool ingress) {
    if (entry == nullptr) return false;
    for (const auto& b : entry->baselines) {
      if (b.name == self.name) continue;
      if ((ingress ? b.coverage.ingress : b.coverage.egress) && older_than(b, self)) return true;
    }
    return false;
  };
  return {lost.ingress && !older_other_covers(true), lost.egress && !older_other_covers(false)};
}

const char* direction_key(const deny_all_coverage& d) {
  return d.ingress && d.egress ? "ingress,egress" : d.ingress ? "ingress" : "egress";
}

// NetworkPolicy UPDATE/DELETE: refuse a change that takes a direction away from
// the namespace's pinned baseline (see pinned_directions), and any change but to
// finalizers of a policy that is being deleted. The request's old object is the
// authority on this policy; the snapshot provides the others.
admission_decision decide_policy_change(admission_decision d, const admission_request& r,
                                        const namespace_snapshot& state,
                                        const decision_config& config) {
  const std::string& ns = d.subject.namespace_name;
  const std::string& name = d.subject.name;
  const namespace_entry* entry = state.find(ns);
  // A namespace being deleted loses its policies anyway. The namespace controller
  // gets no other exception: under one shared controller identity, the garbage
  // collector's deletes look the same.
  if (entry && entry->terminating) return d;

  if (r.old_object.present && r.old_object.deleting) {
    // Already going away and providing no coverage. Only its finalizers may change
    // (so the deletion can finish); anything else would keep a re-written policy
    // around for as long as a finalizer holds it.
    if (r.operation != "UPDATE" || r.object.content == r.old_object.content) return d;
    d.depends_on_state = false;
    std::string message = "CIS 5.3.2: NetworkPolicy " + in_quotes(name) + " in namespace " +
                          in_quotes(ns) +
                          " is being deleted; only its finalizers may change (MITRE ATT&CK "
                          "T1046). Fix: let the deletion finish, then create the policy you "
                          "want under a new name.";
    return reject(std::move(d), std::move(message), "terminating-policy", config);
  }

  baseline_policy self{name, {}, r.old_object.created};
  if (r.old_object.policy) {
    self.coverage = coverage_of(*r.old_object.policy);
  } else if (entry) {
    for (const auto& b : entry->baselines) {
      if (b.name == name) self = b;
    }
  }
  deny_all_coverage new_self;
  if (r.operation == "UPDATE" && r.object.policy && !r.object.deleting) {
    new_self = coverage_of(*r.object.policy);
  }
  const deny_all_coverage lost{self.coverage.ingress && !new_self.ingress,
                               self.coverage.egress && !new_self.egress};
  d.coverage = entry ? entry->coverage() : deny_all_coverage{};
  if (!lost.any()) return d;
  const deny_all_coverage pinned = pinned_directions(self, entry, lost);
  if (!pinned.any()) return d;

  d.depends_on_state = true;
  d.coverage = {!pinned.ingress, !pinned.egress};  // what is missing: the pinned directions
  const std::string lost_dirs = missing_directions({!pinned.ingress, !pinned.egress});
  const std::string verb = r.operation == "DELETE" ? "deleting" : "this change to";
  std::string message = "CIS 5.3.2: " + verb + " NetworkPolicy " + in_quotes(name) +
                        " would take default-deny " + lost_dirs + " from namespace " +
                        in_quotes(ns) + ": it is the namespace's oldest default-deny " + lost_dirs +
                        " policy, which netpol-guard keeps in place whatever else covers "
                        "(MITRE ATT&CK T1046). Fix: keep it; add allow policies beside it for "
                        "the traffic you need.";
  return reject(std::move(d), std::move(message), direction_key(pinned), config);
}

}  // namespace

const char* to_string(verdict v) {
  switch (v) {
    case verdict::allowed:
      return "allowed";
    case verdict::denied:
      return "denied";
    case verdict::audited:
      return "audit";
    case verdict::warned:
      return "warned";
  }
  return "allowed";
}

std::string to_warning(std::string_view message) {
  constexpr std::size_t limit = 256;
  // The apiserver drops a warning that is not valid UTF-8 or holds a control
  // character (C0, DEL or C1): replace those with '?' or a space.
  std::string out;
  out.reserve(std::min(message.size(), limit + 4));
  std::size_t i = 0;
  while (i < message.size()) {
    const auto c = static_cast<unsigned char>(message[i]);
    if (c < 0x80) {
      out.push_back(c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c));
      ++i;
      continue;
    }
    std::size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    bool ok = len != 0 && i + len <= message.size();
    std::uint32_t cp = ok ? (c & (0x7Fu >> len)) : 0;
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(message[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    ok = ok && !(len == 2 && cp < 0x80) && !(len == 3 && cp < 0x800) &&
         !(len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (!ok) {
      out.push_back('?');
      ++i;
      continue;
    }
    if (cp >= 0x80 && cp <= 0x9F) {
      out.push_back(' ');
    } else {
      out.append(message.substr(i, len));
    }
    i += len;
  }
  if (out.size() > limit) {
    out.resize(limit - 3);
    // Do not cut a UTF-8 sequence in half.
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
    out += "...";
  }
  return out;
}

bool valid_audit_annotation_key(std::string_view key) {
  if (key.empty() || key.size() > 63) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(key.front()) || !alnum(key.back())) return false;
  for (char c : key) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

admission_decision decide(const admission_request& r, const namespace_snapshot& state,
                          const decision_config& config, std::chrono::sys_seconds now) {
  admission_decision d;
  d.subject.kind = "other";
  if (!r.sub_resource.empty()) return d;

  const bool create = r.operation == "CREATE";
  const std::string& request_ns =
      r.namespace_name.empty() ? r.object.namespace_name : r.namespace_name;

  if (const auto* creator = rules::find_pod_creator(r.resource_group, r.resource)) {
    d.subject = {std::string(creator->kind), request_ns,
                 r.object.name.empty() ? r.name : r.object.name};
    if (!create) return d;
    if (creator != &rules::pod_kind && !config.check_workloads) return d;
    return decide_pod_creator(std::move(d), state, config, now);
  }
  if (r.resource_group.empty() && r.resource == "namespaces") {
    // generateName namespaces arrive with empty request.name/namespace; the
    // object's own metadata is authoritative.
    std::string ns = !r.object.name.empty() ? r.object.name : r.name;
    d.subject = {"Namespace", ns, ns};
    if (!create || config.exempt_namespaces.contains(ns)) return d;
    return decide_namespace(std::move(d), config);
  }
  if (r.resource_group == "networking.k8s.io" && r.resource == "networkpolicies") {
    const object_facts& o = r.operation == "DELETE" ? r.old_object : r.object;
    std::string name = !r.name.empty() ? r.name : o.name;
    d.subject = {"NetworkPolicy", request_ns, name};
    if (!config.protect_baseline || config.exempt_namespaces.contains(request_ns)) return d;
    if (r.operation != "UPDATE" && r.operation != "DELETE") return d;
    return decide_policy_change(std::move(d), r, state, config);
  }
  return d;
}

}  // namespace netpol_guard
