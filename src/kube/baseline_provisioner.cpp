#include "netpol_guard/kube/baseline_provisioner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <iterator>

#include "netpol_guard/kube/api_paths.hpp"
#include "netpol_guard/netpol/object.hpp"
#include "netpol_guard/netpol/rules.hpp"
#include "netpol_guard/telemetry/log.hpp"

namespace netpol_guard::kube {

namespace net = boost::asio;
namespace http = boost::beast::http;
using json = nlohmann::json;

baseline_provisioner::baseline_provisioner(api_transport& api, provisioner_options options,
                                           kube_stats& m, steady_clock_fn now)
    : api_(api), options_(std::move(options)), stats_(m), now_(std::move(now)) {
  if (!now_) now_ = real_steady_clock();
}

bool baseline_provisioner::wanted(const std::string& ns) const {
  return options_.enabled && !options_.exempt_namespaces.contains(ns) && is_dns_label(ns);
}

bool baseline_provisioner::provisioning(const std::string& ns) const {
  std::lock_guard lock(mutex_);
  auto it = pending_.find(ns);
  return it != pending_.end() && now_() - it->second < options_.pending_window;
}

void baseline_provisioner::namespace_admitted(const std::string& ns) {
  if (!wanted(ns)) return;
  std::lock_guard lock(mutex_);
  pending_[ns] = now_();
}

void baseline_provisioner::namespace_appeared(const appeared_namespace& n) {
  if (!wanted(n.name) || n.terminating) return;
  {
    std::lock_guard lock(mutex_);
    const bool admitted_here = pending_.count(n.name) > 0;
    if (n.how == namespace_appearance::first_list && !admitted_here) return;
    if (!n.has_template) pending_[n.name] = now_();
  }
  if (n.has_template) {
    // The policy's event came before the namespace's: the index already says
    // whether it is the template or a user's policy under its name.
    if (n.template_taken) report_conflict(n.name, n.template_coverage);
    return;
  }
  net::co_spawn(executor_, provision(n.name), net::detached);
}

void baseline_provisioner::published(const namespace_snapshot& next) {
  std::lock_guard lock(mutex_);
  for (auto it = pending_.begin(); it != pending_.end();) {
    const auto* e = next.find(it->first);
    it = e != nullptr && e->coverage().full() ? pending_.erase(it) : std::next(it);
  }
}

net::awaitable<void> baseline_provisioner::check_existing_template(const std::string& ns,
                                                                   const std::string& collection) {
  // Another replica's copy is a deny-all; a user's policy under the template's
  // name may not be, and then pods stay denied (fail closed) for a reason the
  // owner must be told: here, in the pod's denial and in `audit`.
  auto reply = co_await api_.request(http::verb::get,
                                     collection + "/" + std::string(rules::template_policy_name),
                                     {}, options_.request_timeout);
  if (reply.status != 200) {
    log::info("default-deny-all already exists", {{"namespace", ns}});
    co_return;
  }
  json doc = json::parse(reply.body, nullptr, false);
  // An unparseable reply reads as null, which has no name: not a deny-all.
  static const json no_document;
  auto p = summarize_policy(doc.is_discarded() ? no_document : doc);
  if (p && p->coverage.full()) {
    log::info("default-deny-all already exists", {{"namespace", ns}});
    co_return;
  }
  report_conflict(ns, p ? p->coverage : deny_all_coverage{});
}

void baseline_provisioner::report_conflict(const std::string& ns, const deny_all_coverage& c) {
  stats_.count_provision_conflict();
  log::warn(
      "a NetworkPolicy named default-deny-all that is not a deny-all already exists; "
      "pods in the namespace stay denied until it is replaced by the template",
      {{"namespace", ns}, {"missing", missing_directions(c)}});
}

net::awaitable<void> baseline_provisioner::provision(std::string ns) {
  const std::string body = rules::default_deny_all_policy(ns).dump();
  const std::string target = namespace_policies_path(ns);
  std::chrono::milliseconds backoff = options_.first_backoff;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    auto reply = co_await api_.request(http::verb::post, target, body, options_.request_timeout);
    if (reply.status == 201 || reply.status == 200) {
      stats_.count_provisioned(true);
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
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  stats_.count_provisioned(false);
  stats_.count_error(kube_error::provision_failed);
  log::error("could not provision default-deny-all", {{"namespace", ns}});
  std::lock_guard lock(mutex_);
  pending_.erase(ns);
}

}  // namespace netpol_guard::kube
