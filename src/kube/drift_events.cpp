#include "netpol_guard/kube/drift_events.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "netpol_guard/kube/drift_event_record.hpp"
#include "netpol_guard/telemetry/log.hpp"

namespace netpol_guard::kube {

namespace net = boost::asio;
namespace http = boost::beast::http;
using std::chrono::steady_clock;

namespace {

// An Event waiting for its namespace's new state to hold for the window.
struct pending_event {
  drift_transition transition;
  steady_clock::time_point due;
  std::uint64_t term = 0;  // the leadership term it was found in
};

bool retryable(unsigned status) { return status == 0 || status == 429 || status >= 500; }

std::string describe(const api_reply& r) {
  return r.status ? "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 200) : r.error;
}

}  // namespace

struct drift_events::impl : std::enable_shared_from_this<impl> {
  impl(api_transport& a, drift_events_options o, const leadership& l, kube_stats& s,
       wall_clock_fn w)
      : api(a),
        options(std::move(o)),
        leader(l),
        m(s),
        wall(std::move(w)),
        tracker(options.exempt_namespaces, options.audit_only) {
    if (!wall) wall = real_wall_clock();
  }

  api_transport& api;
  const drift_events_options options;
  const leadership& leader;
  kube_stats& m;
  wall_clock_fn wall;
  std::chrono::milliseconds window{drift_events::default_coalesce_window};
  std::chrono::milliseconds retry_backoff{std::chrono::seconds(1)};
  std::size_t max_pending = drift_events::default_max_pending;
  std::function<bool()> synced;

  // Guards everything below: published() runs on reflector threads, the
  // sender on the strand. Held only for map updates, never across I/O.
  std::mutex mutex;
  compliance_tracker tracker;
  bool seen_both_kinds = false;  // the fallback sync test (no probe set)
  std::uint64_t term = 0;        // the term whose Events are being made
  std::map<std::string, pending_event, std::less<>> pending;
  std::unordered_map<std::string, drift_reason> last_queued;
  std::uint64_t drops_unlogged = 0;
  std::optional<steady_clock::time_point> last_drop_log;
  bool started = false;
  bool stopping = false;

  // Touched only on the strand.
  std::optional<net::strand<net::any_io_executor>> strand;
  std::optional<net::steady_timer> wake_timer;

  bool lists_in(const namespace_snapshot& next);
  void published(const namespace_snapshot& next);
  void queue(drift_transition t, steady_clock::time_point now);
  void drop(const drift_transition& t, steady_clock::time_point now);
  void wake();
  net::awaitable<void> run();
  net::awaitable<void> send(pending_event e);
};

bool drift_events::impl::lists_in(const namespace_snapshot& next) {
  if (synced) return synced();
  // Without the source's word, both lists are taken to be in once a snapshot
  // holds a Namespace object and a policy; that snapshot is still a baseline,
  // since either list may have just arrived.
  if (seen_both_kinds) return true;
  bool ns = false, policy = false;
  for (const auto& [name, e] : next.entries()) {
    ns = ns || e.known_namespace;
    policy = policy || e.policy_count > 0;
  }
  seen_both_kinds = ns && policy;
  return false;
}

void drift_events::impl::published(const namespace_snapshot& next) {
  std::lock_guard lock(mutex);
  const bool ready = lists_in(next);
  const bool leading = leader.leading();
  if (!ready || !leading) {
    // The state seen now is the baseline of a later term: track it, send nothing.
    tracker.rebase(next);
    pending.clear();
    return;
  }
  if (leader.term() != term) {
    // A new term: the state tracked up to now (as a follower, or at start) is
    // the baseline; another replica made the Events of the gap, if any.
    term = leader.term();
    last_queued.clear();
  }
  const auto now = steady_clock::now();
  auto transitions = tracker.observe(next, std::chrono::floor<std::chrono::seconds>(wall()));
  for (auto& t : transitions) queue(std::move(t), now);
  // Namespaces gone from the state forget their last Event.
  std::erase_if(last_queued, [&](const auto& kv) { return !tracker.tracked(kv.first); });
  std::erase_if(pending, [&](const auto& kv) { return !tracker.tracked(kv.first); });
  if (!transitions.empty()) wake();
}

void drift_events::impl::queue(drift_transition t, steady_clock::time_point now) {
  if (auto it = pending.find(t.name); it != pending.end()) {
    // The namespace flapped back within the window: its state is the one of
    // its last Event again, so neither is sent.
    if (it->second.transition.reason != t.reason) pending.erase(it);
    return;
  }
  if (auto last = last_queued.find(t.name); last != last_queued.end() && last->second == t.reason) {
    return;  // never two Events of one reason in a row
  }
  if (pending.size() >= max_pending) {
    drop(t, now);
    return;
  }
  const std::string name = t.name;
  pending.emplace(name, pending_event{std::move(t), now + window, term});
}

void drift_events::impl::drop(const drift_transition& t, steady_clock::time_point now) {
  m.count_error(kube_error::event_failed);
  ++drops_unlogged;
  if (last_drop_log && now - *last_drop_log < std::chrono::minutes(1)) return;
  log::warn("drift Event queue full; dropping Events", {{"namespace", t.name},
                                                        {"reason", reason_name(t.reason)},
                                                        {"dropped", std::to_string(drops_unlogged)},
                                                        {"limit", std::to_string(max_pending)}});
  drops_unlogged = 0;
  last_drop_log = now;
}

void drift_events::impl::wake() {
  if (!started || stopping) return;
  net::post(*strand, [self = shared_from_this()] {
    if (self->wake_timer) self->wake_timer->cancel();
  });
}

net::awaitable<void> drift_events::impl::run() {
  auto self = shared_from_this();  // outlives the owner until the loop ends
  for (;;) {
    std::optional<pending_event> next;
    steady_clock::time_point due = steady_clock::time_point::max();
    {
      std::lock_guard lock(mutex);
      if (stopping) break;
      auto first = pending.end();
      for (auto it = pending.begin(); it != pending.end(); ++it) {
        if (first == pending.end() || it->second.due < first->second.due) first = it;
      }
      if (first != pending.end()) {
        due = first->second.due;
        if (due <= steady_clock::now()) {
          next = std::move(first->second);
          last_queued[first->first] = next->transition.reason;
          pending.erase(first);
        }
      }
    }
    if (next) {
      co_await send(std::move(*next));
      continue;
    }
    wake_timer->expires_at(due);
    co_await wake_timer->async_wait(net::as_tuple(net::use_awaitable));
  }
}

net::awaitable<void> drift_events::impl::send(pending_event e) {
  const auto& t = e.transition;
  const auto at = wall();
  const std::string body = drift_event_json(t, options.reporting_instance, at).dump();
  api_reply reply;
  for (int attempt = 1; attempt <= 2; ++attempt) {
    // Only the leader of the term that saw the transition writes it.
    if (!leader.leading() || leader.term() != e.term) {
      log::info("drift Event not sent: leadership changed",
                {{"namespace", t.name}, {"reason", reason_name(t.reason)}});
      co_return;
    }
    reply = co_await api.request(http::verb::post, events_path(), body, options.request_timeout);
    // 409 on the retry: the first attempt was created after all (same name).
    if (reply.status == 201 || reply.status == 200 || (attempt == 2 && reply.status == 409)) {
      m.count_event(true);
      log::info("drift Event created", {{"namespace", t.name}, {"reason", reason_name(t.reason)}});
      co_return;
    }
    if (attempt == 2 || !retryable(reply.status)) break;
    net::steady_timer backoff(*strand, retry_backoff);
    co_await backoff.async_wait(net::as_tuple(net::use_awaitable));
  }
  m.count_event(false);
  m.count_error(kube_error::event_failed);
  log::warn("could not create the drift Event",
            {{"namespace", t.name}, {"reason", reason_name(t.reason)}, {"error", describe(reply)}});
}

drift_events::drift_events(api_transport& api, drift_events_options options,
                           const leadership& leader, kube_stats& m, wall_clock_fn wall)
    : impl_(std::make_shared<impl>(api, std::move(options), leader, m, std::move(wall))) {}

drift_events::~drift_events() { stop(); }

void drift_events::set_coalesce_window(std::chrono::milliseconds window) {
  std::lock_guard lock(impl_->mutex);
  impl_->window = window;
}

void drift_events::set_retry_backoff(std::chrono::milliseconds backoff) {
  std::lock_guard lock(impl_->mutex);
  impl_->retry_backoff = backoff;
}

void drift_events::set_max_pending(std::size_t n) {
  std::lock_guard lock(impl_->mutex);
  impl_->max_pending = n;
}

void drift_events::set_sync_probe(std::function<bool()> lists_in) {
  std::lock_guard lock(impl_->mutex);
  impl_->synced = std::move(lists_in);
}

std::size_t drift_events::pending() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->pending.size();
}

void drift_events::start(net::any_io_executor ex) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->started) return;
  impl_->strand.emplace(net::make_strand(ex));
  impl_->wake_timer.emplace(*impl_->strand);
  impl_->started = true;
  net::co_spawn(*impl_->strand, impl_->run(), net::detached);
}

void drift_events::stop() {
  std::lock_guard lock(impl_->mutex);
  if (!impl_->started || impl_->stopping) return;
  impl_->stopping = true;
  impl_->pending.clear();
  net::post(*impl_->strand, [self = impl_] { self->wake_timer->cancel(); });
}

void drift_events::published(const namespace_snapshot& next) { impl_->published(next); }

}  // namespace netpol_guard::kube
