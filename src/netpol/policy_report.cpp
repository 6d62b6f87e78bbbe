#include "netpol_guard/netpol/policy_report.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "netpol_guard/netpol/rules.hpp"

namespace netpol_guard {

using json = nlohmann::json;

const char* to_string(report_result r) {
  switch (r) {
    case report_result::pass:
      return "pass";
    case report_result::skip:
      return "skip";
    case report_result::warn:
      return "warn";
    case report_result::fail:
      break;
  }
  return "fail";
}

report_summary policy_report_content::summary() const {
  report_summary s;
  for (const auto& r : results) {
    if (r.result == report_result::pass) s.pass++;
    if (r.result == report_result::fail) s.fail++;
    if (r.result == report_result::skip) s.skip++;
    if (r.result == report_result::warn) s.warn++;
  }
  return s;
}

bool policy_report_content::counts_pods() const {
  return std::any_of(results.begin(), results.end(),
                     [](const rule_finding& r) { return r.result != report_result::pass; });
}

namespace {

bool denies(const deny_all_coverage& c, bool ingress) { return ingress ? c.ingress : c.egress; }

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + in_quotes(n);
  return out;
}

rule_finding finding_for(bool ingress, std::string_view ns, const namespace_entry* entry,
                         const namespace_compliance& c, std::uint64_t pods, bool deny_allow_all) {
  const char* direction = ingress ? "ingress" : "egress";
  rule_finding f;
  f.rule = std::string(ingress ? report_fields::ingress_rule : report_fields::egress_rule);
  // The deny-all policies of this direction, sorted so the content (and its
  // digest) does not depend on the order the index kept them in.
  std::vector<std::string> covering;
  if (entry != nullptr) {
    for (const auto& b : entry->baselines) {
      if (denies(b.coverage, ingress)) covering.push_back(b.name);
    }
  }
  std::sort(covering.begin(), covering.end());
  // An empty list is left out rather than written as a word a policy could be named.
  if (!covering.empty()) f.properties["baselinePolicies"] = joined(covering);
  const std::string pod_count = std::to_string(pods);

  if (c.exempt) {
    f.result = report_result::skip;
    f.message = "CIS 5.3.2: namespace " + in_quotes(ns) +
                " is in --exempt-namespaces; netpol-guard does not check its " + direction + ".";
    f.properties["unprotectedPods"] = pod_count;
    return f;
  }
  if (denies(c.coverage, ingress)) {
    std::vector<std::string> opening;
    const negating_policy* first = nullptr;
    if (entry != nullptr) {
      for (const auto& n : entry->negating) {
        if (!denies(n.opens, ingress)) continue;
        opening.push_back(n.name);
        if (first == nullptr) first = &n;
      }
    }
    if (first != nullptr) {
      // As the webhook treats it: denied with --deny-allow-all, else a warning.
      f.result = deny_allow_all ? report_result::fail : report_result::warn;
      f.message = allow_all_message(first->name, allow_all{first->opens, first->rule}, ns);
      f.properties["allowAllPolicies"] = joined(opening);
      f.properties["unprotectedPods"] = pod_count;
      return f;
    }
    f.result = report_result::pass;
    f.message = "CIS 5.3.2: namespace " + in_quotes(ns) + " denies all " + direction +
                " by default (NetworkPolicy " + quoted_list(covering) + ").";
    f.properties["unprotectedPods"] = "0";
    return f;
  }
  f.properties["unprotectedPods"] = pod_count;
  if (denies(c.exempted, ingress) && c.exempt_detail) {
    f.result = report_result::skip;
    f.message = "CIS 5.3.2: namespace " + in_quotes(ns) + " has " + no_default_deny(c.coverage) +
                " but is exempt until " + c.exempt_detail->until_text + ": " +
                c.exempt_detail->reason + ".";
    f.properties["exemptReason"] = c.exempt_detail->reason;
    f.properties["exemptUntil"] = c.exempt_detail->until_text;
    return f;
  }
  // Missing (an expired exemption says so in the message): the webhook's words.
  f.result = report_result::fail;
  f.message = violation_message(c, ns, "a Pod");
  return f;
}

}  // namespace

policy_report_content build_policy_report(std::string_view ns, const namespace_entry* entry,
                                          const evaluation_context& ctx,
                                          std::uint64_t unprotected_pods) {
  const auto c = evaluate_namespace(ns, entry, ctx);
  policy_report_content r;
  r.namespace_name = std::string(ns);
  r.results.push_back(finding_for(true, ns, entry, c, unprotected_pods, ctx.deny_allow_all));
  r.results.push_back(finding_for(false, ns, entry, c, unprotected_pods, ctx.deny_allow_all));
  return r;
}

namespace {

json labels() {
  const json t = rules::template_labels();
  return json{{std::string(report_fields::managed_by_label), report_fields::managed_by},
              {"app.kubernetes.io/part-of", t.at("app.kubernetes.io/part-of")}};
}

json scope_of(std::string_view ns) {
  return json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"name", ns}};
}

json summary_json(const report_summary& s) {
  return json{
      {"pass", s.pass}, {"fail", s.fail}, {"warn", s.warn}, {"error", s.error}, {"skip", s.skip}};
}

}  // namespace

json report_object(const policy_report_content& content, report_type type,
                   std::chrono::sys_seconds now) {
  json results = json::array();
  for (const auto& r : content.results) {
    results.push_back(
        json{{"source", report_fields::source},
             {"policy", report_fields::policy},
             {"rule", r.rule},
             {"category", report_fields::category},
             {"severity", report_fields::severity},
             {"timestamp", {{"seconds", now.time_since_epoch().count()}, {"nanos", 0}}},
             {"result", to_string(r.result)},
             {"scored", true},
             {"message", r.message},
             {"properties", r.properties}});
  }
  json object{{"apiVersion", type.api_version},
              {"kind", type.kind},
              {"metadata",
               {{"name", report_fields::report_name},
                {"namespace", content.namespace_name},
                {"labels", labels()}}},
              {"scope", scope_of(content.namespace_name)},
              {"summary", summary_json(content.summary())},
              {"results", std::move(results)}};
  // The report-level source is openreports.io's; wgpolicyk8s.io's PolicyReport
  // has it only in its results, and server-side apply refuses an undeclared field.
  if (type.api_version.starts_with("openreports.io/")) object["source"] = report_fields::source;
  return object;
}

namespace {

std::optional<std::string> string_at(const json& o, const char* key) {
  if (!o.is_object()) return std::nullopt;
  auto it = o.find(key);
  if (it == o.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

bool has(const json& o, const char* key, std::string_view want) {
  auto v = string_at(o, key);
  return v && *v == want;
}

std::optional<report_result> result_of(const std::string& s) {
  if (s == "pass") return report_result::pass;
  if (s == "fail") return report_result::fail;
  if (s == "skip") return report_result::skip;
  if (s == "warn") return report_result::warn;
  return std::nullopt;
}

std::optional<rule_finding> read_finding(const json& r, std::string_view rule) {
  if (!has(r, "rule", rule) || !has(r, "source", report_fields::source) ||
      !has(r, "policy", report_fields::policy) || !has(r, "category", report_fields::category) ||
      !has(r, "severity", report_fields::severity)) {
    return std::nullopt;
  }
  auto scored = r.find("scored");
  if (scored == r.end() || *scored != true) return std::nullopt;
  auto result = string_at(r, "result");
  auto parsed = result ? result_of(*result) : std::nullopt;
  if (!parsed) return std::nullopt;
  rule_finding f;
  f.rule = std::string(rule);
  f.result = *parsed;
  f.message = string_at(r, "message").value_or("");
  if (auto p = r.find("properties"); p != r.end() && p->is_object()) {
    for (const auto& [k, v] : p->items()) {
      if (!v.is_string()) return std::nullopt;
      f.properties[k] = v.get<std::string>();
    }
  }
  return f;
}

}  // namespace

std::optional<policy_report_content> read_policy_report(const json& object) {
  if (!object.is_object()) return std::nullopt;
  const auto meta = object.find("metadata");
  if (meta == object.end() || !has(*meta, "name", report_fields::report_name)) {
    return std::nullopt;
  }
  auto ns = string_at(*meta, "namespace");
  auto l = meta->find("labels");
  if (!ns || l == meta->end() || !l->is_object()) return std::nullopt;
  const json ours = labels();
  for (const auto& [k, v] : ours.items()) {
    auto have = l->find(k);
    if (have == l->end() || *have != v) return std::nullopt;
  }
  const bool openreports =
      string_at(object, "apiVersion").value_or("").starts_with("openreports.io/");
  if (openreports && !has(object, "source", report_fields::source)) return std::nullopt;
  auto scope = object.find("scope");
  if (scope == object.end() || *scope != scope_of(*ns)) return std::nullopt;
  auto results = object.find("results");
  if (results == object.end() || !results->is_array() || results->size() != 2) {
    return std::nullopt;
  }
  policy_report_content c;
  c.namespace_name = *ns;
  const std::string_view rules[] = {report_fields::ingress_rule, report_fields::egress_rule};
  for (std::size_t i = 0; i < 2; ++i) {
    auto f = read_finding((*results)[i], rules[i]);
    if (!f) return std::nullopt;
    c.results.push_back(std::move(*f));
  }
  // A summary that does not match the results is wrong and must be rewritten.
  auto summary = object.find("summary");
  if (summary == object.end() || *summary != summary_json(c.summary())) return std::nullopt;
  return c;
}

std::uint64_t content_digest(const policy_report_content& content) {
  // FNV-1a over the fields with separators that cannot occur in names; a
  // collision would at worst skip one write until the next content change.
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&h](std::string_view s) {
    for (char ch : s) {
      h ^= static_cast<unsigned char>(ch);
      h *= 1099511628211ull;
    }
    h ^= 0xff;
    h *= 1099511628211ull;
  };
  mix(content.namespace_name);
  for (const auto& r : content.results) {
    mix(r.rule);
    mix(to_string(r.result));
    mix(r.message);
    for (const auto& [k, v] : r.properties) {
      mix(k);
      mix(v);
    }
    mix("\x1e");
  }
  return h;
}

}  // namespace netpol_guard
