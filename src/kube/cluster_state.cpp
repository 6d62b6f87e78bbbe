#include "netpol_guard/kube/cluster_state.hpp"

#include "netpol_guard/telemetry/log.hpp"
#include "netpol_guard/netpol/manifest_loader.hpp"
#include "netpol_guard/netpol/rules.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>


namespace netpol_guard::kube {

namespace net = boost::asio;
namespace http = boost::beast::http;
using json = nlohmann::json;

namespace {

constexpr std::chrono::seconds pending_window{30};

// Namespace names go into URL paths: accept only RFC 1123 labels.
bool is_dns_label(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return s.front() != '-' && s.back() != '-';
}

}  // namespace

std::optional<namespace_entry> entry_from_policy_list(const std::string& body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  namespace_index index;
  std::string ns;
  auto items = doc.find("items");
  if (items != doc.end() && items->is_array()) {
    for (const auto& item : *items) {
      std::string error;
      auto p = summarize_policy(item, error);
      if (!p) continue;
      ns = p->namespace_name;
      index.upsert_policy(p->namespace_name, p->name, p->coverage, p->created);
    }
  }
  if (index.entries().empty()) return namespace_entry{};
  return index.entries().begin()->second;
}

class cluster_state::policy_sink final : public reflector_sink {
 public:
  explicit policy_sink(cluster_state& s) : s_(s) {}
  void replace_begin() override { staging_.clear(); }
  void replace_add(const json& object) override {
    std::string error;
    if (auto p = summarize_policy(object, error)) {
      staging_[p->namespace_name][p->name] = {p->coverage, p->created};
    } else {
      log::warn("skipping malformed NetworkPolicy", {{"error", error}});
    }
  }
  void replace_end() override {
    {
      std::lock_guard lock(s_.mutex_);
      s_.policies_ = std::move(staging_);
    }
    staging_ = {};
    s_.publish();
  }
  void apply(const std::string& type, const json& object) override {
    std::string error;
    auto p = summarize_policy(object, error);
    if (!p) return;
    std::lock_guard lock(s_.mutex_);
    if (type == "DELETED") {
      auto it = s_.policies_.find(p->namespace_name);
      if (it != s_.policies_.end()) {
        it->second.erase(p->name);
        if (it->second.empty()) s_.policies_.erase(it);
      }
    } else {
      s_.policies_[p->namespace_name][p->name] = {p->coverage, p->created};
    }
    dirty_ = true;
  }
  void batch_end() override {
    if (dirty_) s_.publish();
    dirty_ = false;
  }

 private:
  cluster_state& s_;
  std::unordered_map<std::string, std::map<std::string, policy_record>> staging_;
  bool dirty_ = false;
};

class cluster_state::namespace_sink final : public reflector_sink {
 public:
  explicit namespace_sink(cluster_state& s) : s_(s) {}
  void replace_begin() override {
    staging_.clear();
    listed_.clear();
  }
  void replace_add(const json& object) override {
    std::string name, error;
    bool terminating = false;
    if (!summarize_namespace(object, name, terminating, error)) return;
    staging_[name] = terminating;
    listed_.push_back(object);
  }
  void replace_end() override {
    std::unordered_map<std::string, bool> previous;
    {
      std::lock_guard lock(s_.mutex_);
      previous = std::move(s_.namespaces_);
      s_.namespaces_ = std::move(staging_);
    }
    staging_ = {};
    s_.publish();
    for (const auto& object : listed_) {
      std::string name, error;
      bool terminating = false;
      if (!summarize_namespace(object, name, terminating, error)) continue;
      if (!listed_once_) {
        s_.namespace_seen(name, object, seen_how::first_list);
      } else if (!previous.count(name)) {
        s_.namespace_seen(name, object, seen_how::new_in_relist);
      }
    }
    listed_once_ = true;
    listed_.clear();
  }
  void apply(const std::string& type, const json& object) override {
    std::string name, error;
    bool terminating = false;
    if (!summarize_namespace(object, name, terminating, error)) return;
    {
      std::lock_guard lock(s_.mutex_);
      if (type == "DELETED") s_.namespaces_.erase(name);
      else s_.namespaces_[name] = terminating;
    }
    dirty_ = true;
    if (type == "ADDED") s_.namespace_seen(name, object, seen_how::watch_added);
  }
  void batch_end() override {
    if (dirty_) s_.publish();
    dirty_ = false;
  }

 private:
  cluster_state& s_;
  std::unordered_map<std::string, bool> staging_;
  std::vector<json> listed_;
  bool listed_once_ = false;
  bool dirty_ = false;
};

cluster_state::cluster_state(std::shared_ptr<api_client> client, cluster_state_options options,
                             metrics& m)
    : client_(std::move(client)), options_(std::move(options)), metrics_(m) {
  policy_sink_ = std::make_unique<policy_sink>(*this);
  namespace_sink_ = std::make_unique<namespace_sink>(*this);
  policy_source_ =
      std::make_unique<api_list_watch>(*client_, "/apis/networking.k8s.io/v1/networkpolicies");
  namespace_source_ = std::make_unique<api_list_watch>(*client_, "/api/v1/namespaces");
  policy_reflector_ = std::make_unique<reflector>("networkpolicies", *policy_source_,
                                                  *policy_sink_, options_.reflect);
  namespace_reflector_ = std::make_unique<reflector>("namespaces", *namespace_source_,
                                                     *namespace_sink_, options_.reflect);
  policy_reflector_->on_relist([this] { metrics_.count_relist(); });
  namespace_reflector_->on_relist([this] { metrics_.count_relist(); });
}

cluster_state::~cluster_state() = default;

void cluster_state::start(net::any_io_executor ex) {
  executor_ = ex;
  net::co_spawn(ex, policy_reflector_->run(), net::detached);
  net::co_spawn(ex, namespace_reflector_->run(), net::detached);
}

void cluster_state::stop() {
  policy_reflector_->stop();
  namespace_reflector_->stop();
}

void cluster_state::publish() {
  // Build and publish under the lock: two reflectors publish from different
  // threads, and an older build must never replace a newer one.
  std::lock_guard lock(mutex_);
  namespace_map entries;
  entries.reserve(namespaces_.size() + policies_.size());
  for (const auto& [ns, terminating] : namespaces_) {
    auto& e = entries[ns];
    e.known_namespace = true;
    e.terminating = terminating;
  }
  for (const auto& [ns, by_name] : policies_) {
    auto& e = entries[ns];
    e.policy_count = static_cast<std::uint32_t>(by_name.size());
    for (const auto& [name, p] : by_name) {
      if (p.coverage.any()) e.baselines.push_back({name, p.coverage, p.created});  // sorted
      if (name == rules::template_policy_name) e.template_name_taken = !p.coverage.full();
    }
    if (e.coverage().full()) pending_.erase(ns);
  }
  auto next = std::make_shared<const namespace_snapshot>(std::move(entries), "cluster");
  log_drift(*cell_.load(), *next);
  cell_.publish(std::move(next));
}

void cluster_state::log_drift(const namespace_snapshot& before, const namespace_snapshot& after) {
  // Only after the first full sync: the initial list is not drift.
  if (before.source().empty()) return;
  for (const auto& [ns, old_entry] : before.entries()) {
    if (options_.exempt_namespaces.contains(ns)) continue;
    auto was = old_entry.coverage();
    if (!was.any()) continue;
    const namespace_entry* now_entry = after.find(ns);
    if (now_entry == nullptr || now_entry->terminating) continue;  // namespace going away
    auto now = now_entry->coverage();
    deny_all_coverage lost{was.ingress && !now.ingress, was.egress && !now.egress};
    if (!lost.any()) continue;
    log::warn("namespace lost its default deny (CIS 5.3.2 drift)",
              {{"namespace", ns}, {"lost", missing_directions({!lost.ingress, !lost.egress})}});
  }
}

state_readiness cluster_state::readiness() const {
  state_readiness r;
  r.age_seconds = std::max(policy_reflector_->state_age_seconds(),
                           namespace_reflector_->state_age_seconds());
  if (!policy_reflector_->synced() || !namespace_reflector_->synced()) {
    r.reason = "waiting for the first full list of NetworkPolicies and Namespaces";
    if (!policy_reflector_->last_error().empty()) r.reason += ": " + policy_reflector_->last_error();
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

net::awaitable<std::optional<namespace_entry>> cluster_state::read_namespace(
    std::string ns, std::chrono::milliseconds timeout) {
  if (!is_dns_label(ns)) co_return std::nullopt;
  auto reply = co_await client_->request(
      http::verb::get, "/apis/networking.k8s.io/v1/namespaces/" + ns + "/networkpolicies", {},
      timeout);
  if (reply.status != 200) co_return std::nullopt;
  auto entry = entry_from_policy_list(reply.body);
  if (!entry) co_return std::nullopt;
  if (const auto* cached = snapshot()->find(ns)) {
    entry->known_namespace = cached->known_namespace;
    entry->terminating = cached->terminating;
  }
  // Whether the namespace is terminating decides policy deletes (the namespace
  // controller's among them): read that live too rather than trust the cache.
  auto ns_reply =
      co_await client_->request(http::verb::get, "/api/v1/namespaces/" + ns, {}, timeout);
  if (ns_reply.status == 200) {
    json doc = json::parse(ns_reply.body, nullptr, false);
    std::string name, error;
    bool terminating = false;
    if (!doc.is_discarded() && doc.is_object() &&
        summarize_namespace(doc, name, terminating, error)) {
      entry->known_namespace = true;
      entry->terminating = terminating;
    }
  }
  co_return entry;
}

bool cluster_state::provisioning(const std::string& ns) const {
  std::lock_guard lock(mutex_);
  auto it = pending_.find(ns);
  return it != pending_.end() && std::chrono::steady_clock::now() - it->second < pending_window;
}

void cluster_state::namespace_admitted(const std::string& ns) {
  if (!options_.provision_default_deny || options_.exempt_namespaces.contains(ns) ||
      !is_dns_label(ns)) {
    return;
  }
  std::lock_guard lock(mutex_);
  pending_[ns] = std::chrono::steady_clock::now();
}

void cluster_state::namespace_seen(const std::string& ns, const json& object, seen_how how) {
  if (!options_.provision_default_deny || options_.exempt_namespaces.contains(ns) ||
      !is_dns_label(ns)) {
    return;
  }
  std::string name, error;
  bool terminating = false;
  if (!summarize_namespace(object, name, terminating, error) || terminating) return;
  {
    std::lock_guard lock(mutex_);
    // Provision only namespaces that are new: a watch ADDED event, one that
    // appeared between two lists, or one whose CREATE this replica admitted.
    // Namespaces that existed before netpol-guard started are never given a
    // deny-all behind their owners' backs (`audit` lists them).
    const bool admitted_here = pending_.count(ns) > 0;
    if (how == seen_how::first_list && !admitted_here) return;
    auto it = policies_.find(ns);
    if (it != policies_.end() && it->second.count("default-deny-all")) return;
    pending_[ns] = std::chrono::steady_clock::now();
  }
  net::co_spawn(executor_, provision(ns), net::detached);
}

net::awaitable<void> cluster_state::check_existing_template(const std::string& ns,
                                                           const std::string& collection) {
  // Another replica's copy is a deny-all; a user's policy under the template's
  // name may not be, and then pods stay denied (fail closed) for a reason the
  // owner must be told: here, in the pod's denial and in `audit`.
  auto reply = co_await client_->request(
      http::verb::get, collection + "/" + std::string(rules::template_policy_name), {},
      std::chrono::seconds(5));
  if (reply.status != 200) {
    log::info("default-deny-all already exists", {{"namespace", ns}});
    co_return;
  }
  json doc = json::parse(reply.body, nullptr, false);
  std::string error;
  auto p = doc.is_discarded() ? std::nullopt : summarize_policy(doc, error);
  if (p && p->coverage.full()) {
    log::info("default-deny-all already exists", {{"namespace", ns}});
    co_return;
  }
  metrics_.count_provision_conflict();
  log::warn("a NetworkPolicy named default-deny-all that is not a deny-all already exists; "
            "pods in the namespace stay denied until it is replaced by the template",
            {{"namespace", ns},
             {"missing", p ? missing_directions(p->coverage) : std::string("ingress and egress")}});
}

net::awaitable<void> cluster_state::provision(std::string ns) {
  const std::string body = rules::default_deny_all_policy(ns).dump();
  const std::string target = "/apis/networking.k8s.io/v1/namespaces/" + ns + "/networkpolicies";
  std::chrono::milliseconds backoff{200};
  for (int attempt = 1; attempt <= 8; ++attempt) {
    auto reply = co_await client_->request(http::verb::post, target, body, std::chrono::seconds(5));
    if (reply.status == 201 || reply.status == 200) {
      metrics_.count_provisioned(true);
      log::info("provisioned default-deny-all", {{"namespace", ns}});
      co_return;
    }
    if (reply.status == 409) {  // AlreadyExists: another replica, or a user, was first
      co_await check_existing_template(ns, target);
      co_return;
    }
    if (reply.status == 404) break;  // the namespace is gone
    log::warn("provisioning default-deny-all failed; retrying",
              {{"namespace", ns},
               {"attempt", std::to_string(attempt)},
               {"error", reply.status ? "HTTP " + std::to_string(reply.status) + " " +
                                            reply.body.substr(0, 200)
                                      : reply.error}});
    net::steady_timer t(co_await net::this_coro::executor);
    t.expires_after(backoff);
    co_await t.async_wait(net::as_tuple(net::use_awaitable));
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  metrics_.count_provisioned(false);
  metrics_.count_error(error_reason::provision_failed);
  log::error("could not provision default-deny-all", {{"namespace", ns}});
  std::lock_guard lock(mutex_);
  pending_.erase(ns);
}

}  // namespace netpol_guard::kube
