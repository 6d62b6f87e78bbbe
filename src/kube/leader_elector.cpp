#include "netpol_guard/kube/leader_elector.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <mutex>
#include <optional>
#include <random>

#include "netpol_guard/kube/lease_record.hpp"
#include "netpol_guard/telemetry/log.hpp"

namespace netpol_guard::kube {

namespace net = boost::asio;
namespace http = boost::beast::http;
using std::chrono::milliseconds;
using steady_time = std::chrono::steady_clock::time_point;

namespace {

constexpr int release_attempts = 3;  // a release retries a conflict with a late renewal

// client-go writes int(LeaseDuration / time.Second), dropping a fraction; it
// is rounded up here, so another replica never waits less than this one
// believes it holds the Lease, and never 0, which the apiserver refuses.
std::int64_t whole_seconds(milliseconds d) {
  return std::max<std::int64_t>(1, (d.count() + 999) / 1000);
}

std::string reply_error(const api_reply& r) {
  return r.status ? "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 200) : r.error;
}

enum class attempt { held, not_held, failed };

constexpr std::string_view shutting_down = "shutting down";

}  // namespace

struct leader_elector::impl {
  impl(api_transport& a, leader_election_options opts, leadership& s, kube_stats& stats,
       steady_clock_fn st, wall_clock_fn w)
      : api(a),
        o(std::move(opts)),
        state(s),
        m(stats),
        steady(st ? std::move(st) : real_steady_clock()),
        wall(w ? std::move(w) : real_wall_clock()),
        lease_name(o.lease_namespace + "/" + o.lease_name),
        path(lease_path(o.lease_namespace, o.lease_name)),
        collection(leases_path(o.lease_namespace)) {}

  api_transport& api;
  const leader_election_options o;
  leadership& state;
  kube_stats& m;
  const steady_clock_fn steady;
  const wall_clock_fn wall;
  const std::string lease_name;  // namespace/name, for logs
  const std::string path;
  const std::string collection;

  // Guards the strand's presence and orders stop() against a gain on the strand.
  std::mutex mutex;
  std::optional<net::strand<net::any_io_executor>> strand;  // while the loop runs
  bool started = false;
  std::atomic<bool> stopped{false};
  std::atomic<bool> leading{false};  // this elector's view; `state` mirrors it

  // The rest is touched only by the loop on its strand (or by a test's single
  // thread before start()).
  net::steady_timer* timer = nullptr;  // the loop's wait, for stop() to cancel
  std::optional<lease_object> cached;  // the Lease last read or written: an update's base
  std::optional<lease_record> observed;
  steady_time observed_time{};  // when `observed` last changed, on the local clock
  steady_time renewed_at{};     // start of the latest attempt that held the Lease
  bool failing = false;
  std::string reported_holder;
  std::minstd_rand rng{std::random_device{}()};

  bool holds_by_observation() const { return observed && observed->holder_identity == o.identity; }

  // client-go's isLeaseValid: a record stands for its leaseDurationSeconds
  // after it was last seen to change, on this replica's steady clock. The
  // holder's renewTime is never compared with our wall clock (they may skew).
  bool observed_valid() const {
    return observed &&
           observed_time + std::chrono::seconds(observed->lease_duration_seconds) > steady();
  }

  void observe(const lease_record& r) {
    if (observed && *observed == r) return;
    observed = r;
    observed_time = steady();
    if (r.holder_identity == reported_holder) return;
    reported_holder = r.holder_identity;
    if (!r.holder_identity.empty() && r.holder_identity != o.identity) {
      log::info("leader election: another replica leads",
                {{"lease", lease_name}, {"holder", r.holder_identity}});
    }
  }

  void record_own(const lease_record& r, const api_reply& reply) {
    observed = r;
    observed_time = steady();
    reported_holder = r.holder_identity;
    // A reply that cannot be read leaves no base for the fast path: the next
    // attempt reads the Lease first.
    cached = parse_lease(reply.body);
  }

  // Each request gets the time left until the renew deadline: a leader's
  // renewal, however many requests it makes, ends by the moment it must step
  // down, so it never goes on leading on a request that had not succeeded by
  // then. A candidate has nothing to lose and gets the same span from now.
  steady_time attempt_deadline() const {
    return leading ? renewed_at + o.renew_deadline : steady() + o.renew_deadline;
  }
  milliseconds time_left(steady_time deadline) const {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - steady());
    return std::max(left, milliseconds(1));
  }

  // client-go's tryAcquireOrRenew.
  net::awaitable<attempt> try_once(std::string& error) {
    const steady_time deadline = attempt_deadline();
    const std::string now = format_micro_time(wall());
    lease_record ours{.holder_identity = o.identity,
                      .lease_duration_seconds = whole_seconds(o.lease_duration),
                      .acquire_time = now,
                      .renew_time = now,
                      .lease_transitions = 0};
    // 1. The holder's fast path: update the Lease as last written, assuming
    // nobody else wrote since; a conflict or failure falls back to a read.
    if (holds_by_observation() && observed_valid() && cached) {
      ours.acquire_time = observed->acquire_time;
      ours.lease_transitions = observed->lease_transitions;
      auto r = co_await api.request(http::verb::put, path, lease_update_body(*cached, ours),
                                    time_left(deadline));
      if (r.status == 200) {
        record_own(ours, r);
        co_return attempt::held;
      }
    }
    // 2. Read the Lease, or create it.
    auto got = co_await api.request(http::verb::get, path, {}, time_left(deadline));
    if (got.status == 404) {
      ours.acquire_time = now;
      ours.lease_transitions = 0;
      auto r = co_await api.request(http::verb::post, collection,
                                    lease_create_body(o.lease_namespace, o.lease_name, ours),
                                    time_left(deadline));
      if (r.status == 201 || r.status == 200) {
        record_own(ours, r);
        co_return attempt::held;
      }
      if (r.status == 409) co_return attempt::not_held;  // another replica created it first
      error = "creating the Lease: " + reply_error(r);
      co_return attempt::failed;
    }
    if (got.status != 200) {
      error = "reading the Lease: " + reply_error(got);
      co_return attempt::failed;
    }
    auto lease = parse_lease(got.body);
    if (!lease) {
      error = "the Lease in the reply could not be read";
      co_return attempt::failed;
    }
    observe(lease->record);
    cached = *lease;
    // 3. Another holder's Lease stands while it keeps changing; a released one
    // (holder "") may be taken at once.
    const std::string& holder = lease->record.holder_identity;
    if (!holder.empty() && holder != o.identity && observed_valid()) co_return attempt::not_held;
    // 4. Renew it (keeping when and how often it changed hands) or take it.
    if (holder == o.identity) {
      ours.acquire_time = lease->record.acquire_time;
      ours.lease_transitions = lease->record.lease_transitions;
    } else {
      ours.acquire_time = now;
      ours.lease_transitions = lease->record.lease_transitions + 1;
    }
    auto r = co_await api.request(http::verb::put, path, lease_update_body(*lease, ours),
                                  time_left(deadline));
    if (r.status == 200) {
      record_own(ours, r);
      co_return attempt::held;
    }
    if (r.status == 409) co_return attempt::not_held;  // someone wrote since the read
    error = "updating the Lease: " + reply_error(r);
    co_return attempt::failed;
  }

  // Every failure is counted; only the first of a streak and the recovery are
  // logged, so an apiserver outage costs two lines, not one per retry period.
  void note(attempt a, const std::string& error) {
    if (a == attempt::failed) {
      m.count_error(kube_error::lease_failed);
      if (!failing) {
        log::warn("leader election: a Lease request failed; retrying every retry period",
                  {{"lease", lease_name}, {"error", error}});
      }
      failing = true;
      return;
    }
    if (failing)
      log::info("leader election: Lease requests succeed again", {{"lease", lease_name}});
    failing = false;
  }

  void gain() {
    std::lock_guard lock(mutex);
    if (stopped || leading) return;
    leading = true;
    state.acquired();
    m.set_leader(true);
    m.count_leader_transition();
    log::info(
        "leader election: this replica leads and writes reports and Events",
        {{"identity", o.identity}, {"lease", lease_name}, {"term", std::to_string(state.term())}});
  }

  // `holder` is passed in: stop() calls this from any thread, and `observed`
  // belongs to the strand.
  void lose_locked(std::string_view reason, std::string_view holder = {}) {
    if (!leading) return;
    leading = false;
    state.lost();
    m.set_leader(false);
    m.count_leader_transition();
    // Shutting down is planned (info); any other loss is worth a look (warn).
    log::write(
        reason == shutting_down ? log::level::info : log::level::warn,
        "leader election: this replica stopped leading and stopped writing",
        {{"identity", o.identity}, {"lease", lease_name}, {"reason", reason}, {"holder", holder}});
  }
  void lose(std::string_view reason) {  // on the strand
    std::lock_guard lock(mutex);
    lose_locked(reason, observed ? std::string_view(observed->holder_identity) : "");
  }

  milliseconds jittered(milliseconds d) {
    std::uniform_real_distribution<double> spread(0.0, leader_election_jitter);
    return d + milliseconds(
                   static_cast<milliseconds::rep>(spread(rng) * static_cast<double>(d.count())));
  }

  // client-go's acquire and renew loops as one state machine, since a replica
  // that loses the Lease becomes a candidate again instead of exiting.
  net::awaitable<milliseconds> step() {
    if (stopped) co_return o.retry_period;
    static constexpr std::string_view past_deadline =
        "no renewal succeeded within --leader-elect-renew-deadline";
    if (leading && steady() >= renewed_at + o.renew_deadline) lose(past_deadline);
    const steady_time began = steady();
    std::string error;
    const attempt a = co_await try_once(error);
    note(a, error);
    if (a == attempt::held) {
      renewed_at = began;
      gain();
      // A slow renewal must not sleep past its own deadline.
      co_return std::min(o.retry_period, time_left(renewed_at + o.renew_deadline));
    }
    if (leading) {
      if (a == attempt::not_held && !holds_by_observation()) {
        lose("another replica holds the Lease");
      } else if (steady() >= renewed_at + o.renew_deadline) {
        lose(past_deadline);
      } else {
        // Retry within the deadline, and wake at the deadline to step down.
        co_return std::min(o.retry_period, time_left(renewed_at + o.renew_deadline));
      }
    }
    co_return jittered(o.retry_period);
  }

  // client-go's release (ReleaseOnCancel), bounded by the renew deadline as there.
  net::awaitable<bool> give_up() {
    if (!holds_by_observation()) co_return false;  // never held it, or saw it taken
    const steady_time deadline = steady() + o.renew_deadline;
    std::string error = "a conflict on every attempt";
    for (int n = 1; n <= release_attempts && steady() < deadline; ++n) {
      auto got = co_await api.request(http::verb::get, path, {}, time_left(deadline));
      if (got.status == 404) {
        log::info("leader election: the Lease is gone; nothing to release",
                  {{"lease", lease_name}});
        co_return false;
      }
      auto lease = got.status == 200 ? parse_lease(got.body) : std::nullopt;
      if (!lease) {
        error = got.status == 200 ? "the Lease in the reply could not be read"
                                  : "reading the Lease: " + reply_error(got);
        break;
      }
      observe(lease->record);
      if (lease->record.holder_identity != o.identity) {
        log::info("leader election: another replica holds the Lease; nothing to release",
                  {{"lease", lease_name}, {"holder", lease->record.holder_identity}});
        co_return false;
      }
      const std::string now = format_micro_time(wall());
      lease_record released{.holder_identity = "",
                            .lease_duration_seconds = 1,
                            .acquire_time = now,
                            .renew_time = now,
                            .lease_transitions = lease->record.lease_transitions};
      auto r = co_await api.request(http::verb::put, path, lease_update_body(*lease, released),
                                    time_left(deadline));
      if (r.status == 200) {
        record_own(released, r);
        log::info("leader election: released the Lease for another replica to take",
                  {{"identity", o.identity}, {"lease", lease_name}});
        co_return true;
      }
      error = "releasing the Lease: " + reply_error(r);
      if (r.status != 409) break;  // a conflict: a renewal in flight landed after the read
    }
    m.count_error(kube_error::lease_failed);
    log::warn(
        "leader election: could not release the Lease; another replica takes it once it "
        "expires",
        {{"lease", lease_name}, {"error", error}});
    co_return false;
  }

  net::awaitable<bool> try_and_note() {
    std::string error;
    const attempt a = co_await try_once(error);
    note(a, error);
    co_return a == attempt::held;
  }

  // Runs `work` (a member coroutine of `self`, which this frame keeps alive)
  // on the loop's strand while the loop runs, so it never interleaves with the
  // loop on another thread; else where it is awaited.
  template <class T>
  static net::awaitable<T> on_strand(std::shared_ptr<impl> self, net::awaitable<T> work) {
    std::optional<net::strand<net::any_io_executor>> s;
    {
      std::lock_guard lock(self->mutex);
      s = self->strand;
    }
    if (!s) co_return co_await std::move(work);
    co_return co_await net::co_spawn(*s, std::move(work), net::use_awaitable);
  }

  // Clears the loop's strand and timer when its frame ends, also when the
  // io_context is destroyed with the loop suspended: a strand must not outlive
  // its context, and this impl may outlive both.
  struct loop_exit {
    std::shared_ptr<impl> self;
    ~loop_exit() {
      self->timer = nullptr;
      std::lock_guard lock(self->mutex);
      self->strand.reset();
    }
  };

  static net::awaitable<void> run(std::shared_ptr<impl> self) {
    loop_exit on_exit{self};
    net::steady_timer wait(co_await net::this_coro::executor);
    self->timer = &wait;
    log::info("leader election: a candidate for the Lease",
              {{"identity", self->o.identity}, {"lease", self->lease_name}});
    while (!self->stopped) {
      const milliseconds next = co_await self->step();
      if (self->stopped) break;
      wait.expires_after(next);
      co_await wait.async_wait(net::as_tuple(net::use_awaitable));
    }
  }
};

leader_elector::leader_elector(api_transport& api, leader_election_options options,
                               leadership& state, kube_stats& m, steady_clock_fn steady,
                               wall_clock_fn wall)
    : impl_(std::make_shared<impl>(api, std::move(options), state, m, std::move(steady),
                                   std::move(wall))) {}

// The loop holds its own reference to impl; stopping it here keeps it from
// acting for an owner that is gone (it ends at its next wake-up). It posts
// nothing, since the context may be gone already.
leader_elector::~leader_elector() {
  std::lock_guard lock(impl_->mutex);
  impl_->stopped = true;
  impl_->lose_locked(shutting_down);
}

void leader_elector::start(net::any_io_executor ex) {
  auto self = impl_;
  auto strand = net::make_strand(ex);
  {
    std::lock_guard lock(self->mutex);
    if (self->started || self->stopped) return;
    self->started = true;
    self->strand.emplace(strand);
  }
  net::co_spawn(strand, impl::run(self), [self](std::exception_ptr e) {
    if (!e) return;  // only an allocation failure gets here: the loop handles every reply
    self->lose("the election loop failed");
    log::error("leader election: the loop failed; this replica is no longer a candidate",
               {{"lease", self->lease_name}});
  });
}

void leader_elector::stop() {
  auto self = impl_;
  std::optional<net::strand<net::any_io_executor>> s;
  {
    std::lock_guard lock(self->mutex);
    if (self->stopped) return;
    self->stopped = true;
    self->lose_locked(shutting_down);
    s = self->strand;
  }
  // The timer belongs to the strand; cancel it there so the loop ends now, not
  // after its wait.
  if (s) {
    net::post(*s, [self] {
      if (self->timer != nullptr) self->timer->cancel();
    });
  }
}

net::awaitable<void> leader_elector::release() {
  stop();
  co_await impl::on_strand(impl_, impl_->give_up());
}

net::awaitable<bool> leader_elector::try_acquire_or_renew() {
  co_return co_await impl::on_strand(impl_, impl_->try_and_note());
}

net::awaitable<milliseconds> leader_elector::step() {
  co_return co_await impl::on_strand(impl_, impl_->step());
}

}  // namespace netpol_guard::kube
