#include "netpol_guard/kube/live_state_source.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <unordered_set>

#include "netpol_guard/netpol/object.hpp"
#include "netpol_guard/netpol/rules.hpp"
#include "netpol_guard/telemetry/log.hpp"

namespace netpol_guard::kube {

namespace net = boost::asio;
using json = nlohmann::json;

std::vector<baseline_drift> drift_between(const namespace_snapshot& before,
                                          const namespace_snapshot& after,
                                          const std::set<std::string, std::less<>>& exempt) {
  std::vector<baseline_drift> out;
  // Only after the first full sync: the initial list is not drift.
  if (before.source().empty()) return out;
  for (const auto& [ns, old_entry] : before.entries()) {
    if (exempt.contains(ns)) continue;
    auto was = old_entry.coverage();
    if (!was.any()) continue;
    const namespace_entry* now_entry = after.find(ns);
    if (now_entry == nullptr || now_entry->terminating) continue;  // namespace going away
    auto now = now_entry->coverage();
    deny_all_coverage lost{was.ingress && !now.ingress, was.egress && !now.egress};
    if (lost.any()) out.push_back({ns, lost});
  }
  std::sort(out.begin(), out.end(),
            [](const baseline_drift& a, const baseline_drift& b) { return a.name < b.name; });
  return out;
}

namespace {

// A new exemption may have been set while the webhook was down, or before it
// was installed, without the --max-exemption-duration check: say so once, when
// the watch first sees it. Invalid keys are ignored; say that too.
void log_new_settings(const std::string& ns, const namespace_settings* before,
                      const namespace_settings& after) {
  const namespace_settings none;
  const namespace_settings& was = before != nullptr ? *before : none;
  if (after.exempt && after.exempt != was.exempt) {
    const auto& d = after.exempt->directions;
    const std::string directions = d.full() ? "ingress,egress" : d.ingress ? "ingress" : "egress";
    log::info("namespace exemption seen", {{"namespace", ns},
                                           {"directions", directions},
                                           {"reason", after.exempt->reason},
                                           {"until", after.exempt->until_text}});
  }
  if (!after.invalid.empty() && after.invalid != was.invalid) {
    log::warn("ignoring the namespace's invalid netpol-guard keys",
              {{"namespace", ns}, {"error", after.invalid}});
  }
}

const namespace_settings* settings_in(const namespace_index& index, const std::string& ns) {
  auto it = index.entries().find(ns);
  return it == index.entries().end() || !it->second.known_namespace ? nullptr
                                                                    : &it->second.settings;
}

}  // namespace

class live_state_source::policy_sink final : public reflector_sink {
 public:
  explicit policy_sink(live_state_source& s) : s_(s) {}
  void replace_begin() override { staging_.clear(); }
  void replace_add(const json& object) override {
    if (auto p = summarize_policy(object)) {
      staging_.push_back({p->namespace_name, p->name, p->coverage, p->created, p->opens});
    } else {
      log::warn("skipping malformed NetworkPolicy", {{"error", p.error()}});
    }
  }
  void replace_end() override {
    {
      std::lock_guard lock(s_.mutex_);
      s_.index_.replace_policies(staging_);
      s_.publish_locked();
    }
    staging_ = {};
  }
  void apply(const std::string& type, const json& object) override {
    auto p = summarize_policy(object);
    if (!p) return;
    std::lock_guard lock(s_.mutex_);
    if (type == "DELETED") {
      s_.index_.remove_policy(p->namespace_name, p->name);
    } else {
      s_.index_.upsert_policy(
          policy_record{p->namespace_name, p->name, p->coverage, p->created, p->opens});
    }
    dirty_ = true;
  }
  void batch_end() override {
    if (dirty_) s_.publish();
    dirty_ = false;
  }

 private:
  live_state_source& s_;
  std::vector<policy_record> staging_;
  bool dirty_ = false;
};

class live_state_source::namespace_sink final : public reflector_sink {
 public:
  explicit namespace_sink(live_state_source& s) : s_(s) {}
  void replace_begin() override { staging_.clear(); }
  void replace_add(const json& object) override {
    auto n = summarize_namespace(object);
    if (!n) return;
    staging_.push_back({n->name, n->terminating, n->settings});
  }
  void replace_end() override {
    std::unordered_set<std::string> previous;
    {
      std::lock_guard lock(s_.mutex_);
      for (const auto& [ns, e] : s_.index_.entries()) {
        if (e.known_namespace) previous.insert(ns);
      }
      for (const auto& n : staging_) {
        log_new_settings(n.name, settings_in(s_.index_, n.name), n.settings);
      }
      s_.index_.replace_namespaces(staging_);
      s_.publish_locked();
    }
    for (const auto& n : staging_) {
      if (!listed_once_) {
        s_.appeared(n.name, n.terminating, namespace_appearance::first_list);
      } else if (!previous.count(n.name)) {
        s_.appeared(n.name, n.terminating, namespace_appearance::new_in_relist);
      }
    }
    listed_once_ = true;
    staging_ = {};
  }
  void apply(const std::string& type, const json& object) override {
    auto summary = summarize_namespace(object);
    if (!summary) return;
    const std::string& name = summary->name;
    const bool terminating = summary->terminating;
    {
      std::lock_guard lock(s_.mutex_);
      if (type == "DELETED") {
        s_.index_.remove_namespace(name);
      } else {
        log_new_settings(name, settings_in(s_.index_, name), summary->settings);
        s_.index_.upsert_namespace(namespace_record{name, terminating, summary->settings});
      }
    }
    dirty_ = true;
    if (type == "ADDED") s_.appeared(name, terminating, namespace_appearance::watch_added);
  }
  void batch_end() override {
    if (dirty_) s_.publish();
    dirty_ = false;
  }

 private:
  live_state_source& s_;
  std::vector<namespace_record> staging_;
  bool listed_once_ = false;
  bool dirty_ = false;
};

live_state_source::live_state_source(list_watch_source& policies, list_watch_source& namespaces,
                                     live_state_options options, kube_stats& m,
                                     live_state_listener* listener)
    : options_(std::move(options)), listener_(listener) {
  policy_sink_ = std::make_unique<policy_sink>(*this);
  namespace_sink_ = std::make_unique<namespace_sink>(*this);
  policy_reflector_ =
      std::make_unique<reflector>("networkpolicies", policies, *policy_sink_, m, options_.reflect);
  namespace_reflector_ =
      std::make_unique<reflector>("namespaces", namespaces, *namespace_sink_, m, options_.reflect);
}

live_state_source::~live_state_source() = default;

void live_state_source::start(net::any_io_executor ex) {
  net::co_spawn(ex, policy_reflector_->run(), net::detached);
  net::co_spawn(ex, namespace_reflector_->run(), net::detached);
}

void live_state_source::stop() {
  policy_reflector_->stop();
  namespace_reflector_->stop();
}

void live_state_source::publish() {
  std::lock_guard lock(mutex_);
  publish_locked();
}

void live_state_source::publish_locked() {
  auto next = index_.freeze("cluster");
  for (const auto& d : drift_between(*cell_.load(), *next, options_.exempt_namespaces)) {
    log::warn(
        "namespace lost its default deny (CIS 5.3.2 drift)",
        {{"namespace", d.name}, {"lost", missing_directions({!d.lost.ingress, !d.lost.egress})}});
  }
  if (listener_ != nullptr) listener_->published(*next);
  cell_.publish(std::move(next));
}

void live_state_source::appeared(const std::string& name, bool terminating,
                                 namespace_appearance how) {
  if (listener_ == nullptr) return;
  appeared_namespace n;
  n.name = name;
  n.how = how;
  n.terminating = terminating;
  {
    std::lock_guard lock(mutex_);
    n.has_template = index_.has_policy(name, rules::template_policy_name);
    if (auto e = index_.entries().find(name); n.has_template && e != index_.entries().end()) {
      n.template_taken = e->second.template_name_taken;
      for (const auto& b : e->second.baselines) {
        if (b.name == rules::template_policy_name) n.template_coverage = b.coverage;
      }
    }
  }
  listener_->namespace_appeared(n);
}

bool live_state_source::synced() const {
  return policy_reflector_->synced() && namespace_reflector_->synced();
}

state_readiness live_state_source::readiness() const {
  state_readiness r;
  r.age_seconds =
      std::max(policy_reflector_->state_age_seconds(), namespace_reflector_->state_age_seconds());
  if (!policy_reflector_->synced() || !namespace_reflector_->synced()) {
    r.reason = "waiting for the first full list of NetworkPolicies and Namespaces";
    if (!policy_reflector_->last_error().empty())
      r.reason += ": " + policy_reflector_->last_error();
    return r;
  }
  const double max_age = static_cast<double>(options_.max_state_age.count()) / 1000.0;
  if (r.age_seconds > max_age) {
    r.reason = "cluster watch down for " + std::to_string(static_cast<long>(r.age_seconds)) +
               "s (more than --max-state-age)";
    return r;
  }
  r.ready = true;
  return r;
}

}  // namespace netpol_guard::kube
