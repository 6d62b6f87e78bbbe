#include "netpol_guard/kube/report_writer.hpp"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <unordered_map>

#include "netpol_guard/kube/api_paths.hpp"
#include "netpol_guard/kube/pod_counts.hpp"
#include "netpol_guard/kube/report_pacer.hpp"
#include "netpol_guard/netpol/policy_report.hpp"
#include "netpol_guard/telemetry/log.hpp"

namespace netpol_guard::kube {

namespace net = boost::asio;
namespace http = boost::beast::http;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

// How often a replica that does not lead looks at the flag, and the longest a
// leader sleeps, so a lost Lease or a new term is noticed within this.
constexpr std::chrono::milliseconds leader_poll = 500ms;
// Recomputing every namespace's report is CPU only, but a storm of publishes
// must not turn into a storm of recomputations.
constexpr std::chrono::milliseconds plan_spacing = 100ms;
// Failed attempts (429, 5xx, no answer) of one namespace's write before it
// counts as failed; it is tried again when its content changes or at resync.
constexpr int max_attempts = 5;

report_type type_of(report_api api) {
  return api == report_api::openreports ? openreports_report : wgpolicy_report;
}

std::string collection_path(report_api api) {
  return api == report_api::openreports ? "/apis/openreports.io/v1alpha1/reports"
                                        : "/apis/wgpolicyk8s.io/v1alpha2/policyreports";
}

std::string object_path(report_api api, std::string_view ns) {
  const std::string group = api == report_api::openreports ? "/apis/openreports.io/v1alpha1"
                                                           : "/apis/wgpolicyk8s.io/v1alpha2";
  const char* resource = api == report_api::openreports ? "/reports/" : "/policyreports/";
  // force=true: the report is ours by name and label; another manager's field in
  // it (an edit by hand) must not stop the leader from writing the truth.
  return group + "/namespaces/" + std::string(ns) + resource +
         std::string(report_fields::report_name) + "?fieldManager=netpol-guard&force=true";
}

// The string at `key` of an apiserver object, "" when absent or not a string
// (an answer is untrusted input: it never throws).
std::string string_field(const json& o, const char* key) {
  if (!o.is_object()) return {};
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A 404 whose body is a Status NotFound names a missing object (the namespace);
// any other 404 (the apiserver's "404 page not found") means the resource type
// is not served.
bool object_not_found(const std::string& body) {
  json doc = json::parse(body, nullptr, false);
  return doc.is_object() && string_field(doc, "kind") == "Status" &&
         string_field(doc, "reason") == "NotFound";
}

std::string describe(const api_reply& r) {
  return r.status ? "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 200) : r.error;
}

bool retryable(unsigned status) { return status == 0 || status == 429 || status >= 500; }

template <class V>
using ns_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

enum class sync_result { ok, failed, not_served };

}  // namespace

struct report_writer::impl : std::enable_shared_from_this<impl> {
  using time_point = std::chrono::steady_clock::time_point;

  impl(api_transport& a, const namespace_state& s, report_writer_options o, const leadership& l,
       kube_stats& m, steady_clock_fn st, wall_clock_fn w)
      : api(a),
        state(s),
        options(std::move(o)),
        leader(l),
        stats(m),
        steady(st ? std::move(st) : real_steady_clock()),
        wall(w ? std::move(w) : real_wall_clock()),
        pacer(report_pace{.interval = options.interval,
                          .rate_per_second = 10,
                          .burst = 20,
                          .first_backoff = 1s,
                          .max_backoff = 60s},
              steady) {}

  api_transport& api;
  const namespace_state& state;
  const report_writer_options options;
  const leadership& leader;
  kube_stats& stats;
  steady_clock_fn steady;
  wall_clock_fn wall;

  // Touched from any thread.
  std::atomic<bool> dirty{true};
  std::atomic<bool> stopping{false};
  std::atomic<bool> started{false};
  std::function<bool()> lists_in;  // set before start(); empty: always in
  // The snapshot last announced by published(), which runs just before the
  // source publishes it: a plan that still reads an older one plans again.
  std::atomic<const namespace_snapshot*> announced{nullptr};
  std::optional<net::strand<net::any_io_executor>> strand;
  std::unique_ptr<net::steady_timer> timer;

  // The loop's own, on the strand. Per namespace: 8-byte digests and counts.
  report_pacer pacer;
  ns_map<std::uint64_t> stored;    // what the cluster holds (valid reports only)
  ns_map<std::uint64_t> rejected;  // content the apiserver refused; not retried
  ns_map<int> attempts;            // consecutive retryable failures
  pod_count_map pods;
  ns_map<time_point> counted_at;  // a per-namespace recount since the resync
  time_point resync_counted_at{};
  std::set<std::string, std::less<>> pending;  // desired != stored
  bool synced = false;
  std::uint64_t synced_term = 0;
  time_point next_resync{};
  bool crd_missing = false;
  bool warned_missing = false;
  time_point crd_retry_at{};
  time_point last_plan{};
  std::optional<time_point> expiry_wake;

  evaluation_context context() const {
    return evaluation_context{
        .exempt_namespaces = options.exempt_namespaces,
        .audit_only = options.audit_only,
        .deny_allow_all = options.deny_allow_all,
        .now = std::chrono::floor<std::chrono::seconds>(wall()),
    };
  }

  std::uint64_t pod_count(std::string_view ns) const {
    auto it = pods.find(ns);
    return it == pods.end() ? 0 : it->second;
  }

  static bool reported(std::string_view ns, const namespace_entry& e) {
    return e.known_namespace && !e.terminating && is_dns_label(ns);
  }

  // wake(): nothing is posted once stopping (the io_context may be on its way out).
  void wake() { stopping.load() ? void() : post_cancel(); }
  void post_cancel() {
    if (!started.load(std::memory_order_acquire)) return;
    std::weak_ptr<impl> weak = weak_from_this();
    net::post(*strand, [weak] {
      if (auto self = weak.lock()) self->timer->cancel();
    });
  }

  net::awaitable<void> sleep_until(time_point t) {
    const auto now = steady();
    timer->expires_after(t > now ? t - now : std::chrono::steady_clock::duration::zero());
    co_await timer->async_wait(net::as_tuple(net::use_awaitable));
  }

  void not_served(const api_reply& r) {
    stats.count_error(kube_error::reports_not_served);
    if (!warned_missing) {
      log::warn("the report CRD is not served; no reports are written until it is",
                {{"resource", collection_path(options.api)},
                 {"retry_seconds",
                  std::to_string(
                      std::chrono::duration_cast<std::chrono::seconds>(options.crd_retry).count())},
                 {"error", describe(r)}});
      warned_missing = true;
    }
    crd_missing = true;
    crd_retry_at = steady() + options.crd_retry;
    synced = false;
    pending.clear();
  }

  // Reads what the cluster holds: every report of ours, and the pod counts.
  net::awaitable<sync_result> resync() {
    ns_map<std::uint64_t> found;
    const std::string base = collection_path(options.api) +
                             "?labelSelector=" + std::string(report_fields::managed_by_label) +
                             "%3D" + std::string(report_fields::managed_by) + "&limit=500";
    std::string token;
    do {
      // Arguments of a co_await call are built first: GCC mishandles conditional
      // temporaries inside the awaited expression.
      std::string target = token.empty() ? base : base + "&continue=" + query_escape(token);
      auto reply =
          co_await api.request(http::verb::get, std::move(target), {}, options.request_timeout);
      // A 404 on a collection is always a resource type the apiserver does not know.
      if (reply.status == 404) {
        not_served(reply);
        co_return sync_result::not_served;
      }
      json doc = reply.status == 200 ? json::parse(reply.body, nullptr, false) : json();
      if (!doc.is_object() || !doc.contains("items") || !doc["items"].is_array()) {
        log::warn("listing reports failed; retrying", {{"error", describe(reply)}});
        co_return sync_result::failed;
      }
      for (const auto& item : doc["items"]) {
        // One that is not in our shape stays absent here, so it is rewritten.
        if (auto c = read_policy_report(item)) found[c->namespace_name] = content_digest(*c);
      }
      token = doc.contains("metadata") ? string_field(doc["metadata"], "continue") : "";
    } while (!token.empty() && !stopping);
    auto counted = co_await count_pods(api, "", options.request_timeout);
    if (!counted.ok) {
      log::warn("counting pods failed; retrying", {{"error", counted.error}});
      co_return sync_result::failed;
    }
    stored = std::move(found);
    pods = std::move(counted.counts);
    counted_at.clear();
    rejected.clear();
    attempts.clear();
    resync_counted_at = steady();
    if (crd_missing) log::info("the report CRD is served; writing reports");
    crd_missing = false;
    warned_missing = false;
    co_return sync_result::ok;
  }

  // Which namespaces' reports differ from what the cluster holds, and when the
  // next exemption expires (its result then flips from skip to fail).
  void plan(bool count_unchanged) {
    last_plan = steady();
    const auto snapshot = state.snapshot();
    if (const auto* a = announced.load(); a != nullptr && a != snapshot.get()) dirty = true;
    const auto ctx = context();
    const auto& entries = snapshot->entries();
    pacer.retain(entries);
    std::erase_if(stored, [&](const auto& kv) { return !entries.contains(kv.first); });
    std::erase_if(rejected, [&](const auto& kv) { return !entries.contains(kv.first); });
    std::erase_if(pods, [&](const auto& kv) { return !entries.contains(kv.first); });
    std::erase_if(counted_at, [&](const auto& kv) { return !entries.contains(kv.first); });
    pending.clear();
    for (const auto& [ns, entry] : entries) {
      if (!reported(ns, entry)) continue;
      const auto d = content_digest(build_policy_report(ns, &entry, ctx, pod_count(ns)));
      auto s = stored.find(ns);
      auto r = rejected.find(ns);
      if (s != stored.end() && s->second == d) {
        if (count_unchanged) stats.count_report_write(report_write::unchanged);
      } else if (r == rejected.end() || r->second != d) {
        pending.insert(ns);
      }
    }
    expiry_wake.reset();
    if (auto e = count_exemptions(*snapshot, ctx).earliest_active_expiry) {
      // One second late, so the evaluation then sees it expired.
      expiry_wake = steady() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(*e - wall()) +
                    1s;
    }
  }

  bool count_fresh(std::string_view ns) const {
    auto t = resync_counted_at;
    if (auto it = counted_at.find(ns); it != counted_at.end()) t = std::max(t, it->second);
    return steady() < t + options.interval;
  }

  // Writes one pending namespace. False when the loop must stop writing now.
  net::awaitable<bool> write(const std::string& ns) {
    auto snapshot = state.snapshot();
    const auto* entry = snapshot->find(ns);
    if (entry == nullptr || !reported(ns, *entry)) co_return true;
    auto content = build_policy_report(ns, entry, context(), pod_count(ns));
    if (content.counts_pods() && !count_fresh(ns)) {
      // The count of a namespace that changed between resyncs; on failure the
      // last count stands.
      auto counted = co_await count_pods(api, ns, options.request_timeout);
      if (counted.ok) {
        pods[ns] = counted.counts[ns];
        counted_at[ns] = steady();
        content = build_policy_report(ns, entry, context(), pod_count(ns));
      }
    }
    const auto d = content_digest(content);
    if (auto s = stored.find(ns); s != stored.end() && s->second == d) {
      stats.count_report_write(report_write::unchanged);
      co_return true;
    }
    // A leader that lost its Lease stops writing at once.
    if (!leader.leading() || leader.term() != synced_term || stopping || !pacer.try_write(ns)) {
      pending.insert(ns);
      co_return false;
    }
    const auto now = std::chrono::floor<std::chrono::seconds>(wall());
    std::string target = object_path(options.api, ns);
    std::string body = report_object(content, type_of(options.api), now).dump();
    auto reply = co_await api.request(http::verb::patch, std::move(target), std::move(body),
                                      options.request_timeout);
    if (reply.status == 200 || reply.status == 201) {
      stored[ns] = d;
      attempts.erase(ns);
      pacer.succeeded();
      stats.count_report_write(report_write::written);
      log::debug("report written", {{"namespace", ns}});
      co_return true;
    }
    if (reply.status == 404 && object_not_found(reply.body)) co_return true;  // namespace gone
    if (reply.status == 404) {
      not_served(reply);
      co_return false;
    }
    stats.count_report_write(report_write::failure);
    if (retryable(reply.status) && ++attempts[ns] < max_attempts) {
      pacer.failed(ns);
      pending.insert(ns);
      log::warn("writing a report failed; backing off",
                {{"namespace", ns},
                 {"backoff_ms", std::to_string(pacer.backoff().count())},
                 {"error", describe(reply)}});
      co_return false;
    }
    if (retryable(reply.status)) pacer.failed(ns);
    attempts.erase(ns);
    rejected[ns] = d;
    stats.count_error(kube_error::report_failed);
    log::error("could not write a report", {{"namespace", ns}, {"error", describe(reply)}});
    co_return true;
  }

  net::awaitable<void> write_ready() {
    for (auto it = pending.begin(); it != pending.end() && !stopping;) {
      if (!pacer.namespace_ready(*it)) {
        ++it;
        continue;
      }
      if (!pacer.write_ready()) co_return;
      const std::string ns = *it;
      it = pending.erase(it);
      if (!co_await write(ns)) co_return;
      // write() may have put it back (a retry); restart from where it was.
      it = pending.upper_bound(ns);
    }
  }

  time_point next_wake() const {
    auto t = steady() + leader_poll;
    auto earlier = [&t](time_point c) { t = std::min(t, c); };
    earlier(next_resync);
    if (expiry_wake) earlier(*expiry_wake);
    if (dirty.load()) earlier(last_plan + plan_spacing);
    if (!pending.empty()) {
      auto w = pacer.write_ready_at();
      for (const auto& ns : pending) earlier(std::max(w, pacer.namespace_ready_at(ns)));
    }
    return t;
  }

  net::awaitable<void> run() {
    while (!stopping) {
      const auto now = steady();
      if (!leader.leading() || (lists_in && !lists_in())) {
        // Another replica writes (on leading again this one reads the cluster
        // first), or the state is not whole yet.
        synced = false;
        pending.clear();
        co_await sleep_until(now + leader_poll);
        continue;
      }
      if (crd_missing && now < crd_retry_at) {
        co_await sleep_until(std::min(crd_retry_at, now + leader_poll));
        continue;
      }
      if (!synced || leader.term() != synced_term || now >= next_resync) {
        const auto term = leader.term();
        auto r = co_await resync();
        if (r == sync_result::not_served) continue;
        if (r == sync_result::failed) {
          pacer.failed("");
          co_await sleep_until(pacer.write_ready_at());
          continue;
        }
        pacer.succeeded();
        synced = true;
        synced_term = term;
        next_resync = steady() + options.resync;
        dirty = false;
        plan(true);
      } else if ((dirty.load() && steady() >= last_plan + plan_spacing) ||
                 (expiry_wake && steady() >= *expiry_wake)) {
        dirty = false;
        plan(false);
      }
      co_await write_ready();
      if (stopping) break;
      co_await sleep_until(next_wake());
    }
  }
};

report_writer::report_writer(api_transport& api, const namespace_state& state,
                             report_writer_options options, const leadership& leader, kube_stats& m,
                             steady_clock_fn steady, wall_clock_fn wall)
    : impl_(std::make_shared<impl>(api, state, std::move(options), leader, m, std::move(steady),
                                   std::move(wall))) {}

report_writer::~report_writer() { stop(); }

void report_writer::start(net::any_io_executor ex) {
  if (impl_->started.load()) return;
  impl_->strand.emplace(net::make_strand(ex));
  impl_->timer = std::make_unique<net::steady_timer>(*impl_->strand);
  impl_->started.store(true, std::memory_order_release);
  net::co_spawn(
      *impl_->strand, [self = impl_]() { return self->run(); }, net::detached);
}

void report_writer::set_sync_probe(std::function<bool()> lists_in) {
  impl_->lists_in = std::move(lists_in);
}

void report_writer::stop() {
  if (impl_->stopping.exchange(true)) return;
  impl_->post_cancel();
}

void report_writer::published(const namespace_snapshot& next) {
  // Under the live source's lock: record and wake, nothing more. The loop reads
  // the published snapshot from the state when it plans.
  impl_->announced.store(&next);
  impl_->dirty.store(true, std::memory_order_release);
  impl_->wake();
}

}  // namespace netpol_guard::kube
