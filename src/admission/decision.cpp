#include "netpol_guard/admission/decision.hpp"

#include <array>

#include "netpol_guard/admission/namespace_governance.hpp"
#include "netpol_guard/admission/verdicts.hpp"
#include "netpol_guard/netpol/namespace_compliance.hpp"
#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard {
namespace {

using verdicts::reject;

// The namespace as `check` and `audit` evaluate it, with its effective mode.
namespace_compliance evaluate(std::string_view ns, const namespace_snapshot& state,
                              const decision_config& config, std::chrono::sys_seconds now) {
  return evaluate_namespace(
      ns, state.find(ns),
      evaluation_context{config.exempt_namespaces, config.audit_only, config.deny_allow_all, now});
}

std::string describe_object(const request_subject& s) {
  return s.name.empty() ? s.kind : s.kind + " " + in_quotes(s.name);
}

// A Pod or a workload CREATE: the namespace is evaluated as `check` and `audit`
// evaluate it, and the finding worded as they word it.
admission_decision decide_pod_creator(admission_decision d, const namespace_snapshot& state,
                                      const decision_config& config, std::chrono::sys_seconds now) {
  const std::string& ns = d.subject.namespace_name;
  const namespace_compliance c = evaluate(ns, state, config, now);
  if (c.exempt) return d;
  // What is in force: the policies' coverage and the active exemption's.
  d.coverage = c.effective();
  if (!c.refuses_pods()) {
    if (c.by_exemption()) {
      // Admitted only because of the exemption: the audit log says why, and until when.
      d.by_exemption = true;
      d.response.audit_annotations = exemption_annotations(c);
    }
    return d;
  }
  d.depends_on_state = true;
  std::string message = violation_message(c, ns, describe_object(d.subject));
  const char* key = verdicts::missing_key(d.coverage);
  return reject(std::move(d), std::move(message), key, c.enforced());
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

// NetworkPolicy UPDATE/DELETE: refuse a change that takes a direction away from
// the namespace's pinned baseline (see pinned_directions), and any change but to
// finalizers of a policy that is being deleted. The request's old object is the
// authority on this policy; the snapshot provides the others.
admission_decision decide_policy_change(admission_decision d, const admission_request& r,
                                        const namespace_snapshot& state, bool enforced) {
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
    return reject(std::move(d), std::move(message), "terminating-policy", enforced);
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
  return reject(std::move(d), std::move(message), verdicts::direction_key(pinned), enforced);
}

// NetworkPolicy CREATE/UPDATE: a policy that re-opens a whole direction for every
// pod of its namespace makes its default deny moot. Warned, or with
// --deny-allow-all refused as the namespace's mode says.
admission_decision decide_allow_all(admission_decision d, const admission_request& r, bool enforced,
                                    const decision_config& config) {
  // A policy being deleted re-opens nothing for long, and its finalizers must be
  // able to go.
  if (!r.object.policy || r.object.deleting) return d;
  const allow_all opens = opens_all_of(*r.object.policy);
  if (!opens.opens.any()) return d;
  std::string message = allow_all_message(d.subject.name, opens, d.subject.namespace_name);
  // Beside a finding of baseline protection's (audited in a warn namespace),
  // the allow-all warning is said too.
  if (d.outcome != verdict::allowed) {
    d.response.warnings.push_back(to_warning(message));
    return d;
  }
  // --deny-allow-all refuses what a request opens; an UPDATE of a policy that
  // already opened the same directions (a label a controller sets, a policy from
  // before the install) is only warned about, so its owners are not locked out.
  deny_all_coverage newly = opens.opens;
  if (r.operation == "UPDATE" && r.old_object.policy && !r.old_object.deleting) {
    const deny_all_coverage before = opens_all_of(*r.old_object.policy).opens;
    newly = {newly.ingress && !before.ingress, newly.egress && !before.egress};
  }
  if (!config.deny_allow_all || !newly.any()) return verdicts::warn(std::move(d), message);
  // It rests on the request alone (the mode aside): nothing to confirm live.
  d.depends_on_state = false;
  d.coverage = {!opens.opens.ingress, !opens.opens.egress};
  return reject(std::move(d), std::move(message), verdicts::direction_key(opens.opens), enforced);
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
  // Subresources are not the object, except a Namespace's status and finalize:
  // the apiserver stores the labels and annotations they carry, so the
  // governance of the netpol-guard keys judges them as it judges the Namespace.
  const bool namespace_write = r.resource_group.empty() && r.resource == "namespaces" &&
                               (r.sub_resource == "status" || r.sub_resource == "finalize");
  if (!r.sub_resource.empty() && !namespace_write) return d;

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
    if (config.exempt_namespaces.contains(ns)) return d;
    return decide_namespace(std::move(d), r, config, now);
  }
  if (r.resource_group == "networking.k8s.io" && r.resource == "networkpolicies") {
    const object_facts& o = r.operation == "DELETE" ? r.old_object : r.object;
    std::string name = !r.name.empty() ? r.name : o.name;
    d.subject = {"NetworkPolicy", request_ns, name};
    if (config.exempt_namespaces.contains(request_ns)) return d;
    const bool enforced = evaluate(request_ns, state, config, now).enforced();
    if (config.protect_baseline && (r.operation == "UPDATE" || r.operation == "DELETE")) {
      d = decide_policy_change(std::move(d), r, state, enforced);
      // Losing the pinned baseline is the graver finding: it is the answer (an
      // audited one keeps the allow-all warning beside it).
      if (d.outcome == verdict::denied) return d;
    }
    if (create || r.operation == "UPDATE")
      return decide_allow_all(std::move(d), r, enforced, config);
    return d;
  }
  return d;
}

}  // namespace netpol_guard
