#include "netpol_guard/kube/reflector.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "netpol_guard/telemetry/log.hpp"

namespace netpol_guard::kube {

namespace net = boost::asio;
using json = nlohmann::json;

namespace {

std::string url_escape(const std::string& s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

// A Status object's code, or 0.
long status_code(const json& status) {
  auto c = status.find("code");
  return c != status.end() && c->is_number_integer() ? c->get<long>() : 0;
}

std::string resource_version_of(const json& object) {
  auto md = object.find("metadata");
  if (md == object.end() || !md->is_object()) return "";
  auto rv = md->find("resourceVersion");
  return rv != md->end() && rv->is_string() ? rv->get<std::string>() : "";
}

}  // namespace

net::awaitable<api_reply> api_list_watch::list(std::string continue_token) {
  std::string target = path_ + "?limit=" + std::to_string(page_size_);
  if (!continue_token.empty()) target += "&continue=" + url_escape(continue_token);
  co_return co_await client_.request(boost::beast::http::verb::get, target, {}, list_timeout_);
}

net::awaitable<watch_outcome> api_list_watch::watch(
    std::string resource_version, std::chrono::seconds timeout,
    std::function<bool(std::string_view)> on_bytes) {
  std::string target =
      path_ + "?watch=1&allowWatchBookmarks=true&resourceVersion=" + url_escape(resource_version) +
      "&timeoutSeconds=" + std::to_string(timeout.count());
  // The apiserver ends the watch at timeoutSeconds; bookmarks arrive about every
  // minute, so a read that waits longer than the timeout plus a margin is dead.
  co_return co_await client_.stream(target, timeout + std::chrono::seconds(30),
                                    std::move(on_bytes));
}

reflector::reflector(std::string name, list_watch_source& source, reflector_sink& sink,
                     kube_stats& m, reflector_options options)
    : name_(std::move(name)),
      source_(source),
      sink_(sink),
      stats_(m),
      options_(std::move(options)) {
  if (!options_.now) options_.now = real_steady_clock();
  stale_since_ns_ = now_ns();
}

std::int64_t reflector::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(options_.now().time_since_epoch())
      .count();
}

double reflector::state_age_seconds() const {
  auto since = stale_since_ns_.load();
  if (since == current) return 0;
  return static_cast<double>(now_ns() - since) / 1e9;
}

void reflector::mark_current() { stale_since_ns_ = current; }

void reflector::mark_stale() {
  std::int64_t expected = current;
  stale_since_ns_.compare_exchange_strong(expected, now_ns());
}

void reflector::fail(std::string error) {
  stats_.count_error(kube_error::watch_failed);
  last_error_ = std::move(error);
  log::warn("watch of " + name_ + " failed; retrying with backoff", {{"error", last_error_}});
}

std::chrono::milliseconds reflector::next_backoff() {
  backoff_ =
      backoff_.count() == 0 ? options_.min_backoff : std::min(backoff_ * 2, options_.max_backoff);
  // Jitter: up to +100%, as client-go's wait.Jitter(1.0), capped at the maximum.
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  auto d = std::chrono::milliseconds(
      static_cast<long long>(static_cast<double>(backoff_.count()) * (1.0 + jitter(rng_))));
  return std::min(d, options_.max_backoff);
}

net::awaitable<void> reflector::sleep(std::chrono::milliseconds d) {
  net::steady_timer t(co_await net::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(net::as_tuple(net::use_awaitable));
}

net::awaitable<list_outcome> list_pages(list_watch_source& source, const std::string& name,
                                        std::size_t max_pages, const std::function<bool()>& stopped,
                                        const std::function<void()>& begin,
                                        const std::function<void(const json&)>& item) {
  using result = list_outcome::result;
  list_outcome out;
  std::string continue_token;
  bool begun = false;
  for (std::size_t page = 0; page < max_pages; ++page) {
    if (stopped()) {
      out.how = result::stopped;
      co_return out;
    }
    api_reply reply = co_await source.list(continue_token);
    if (reply.status == 410 && !continue_token.empty()) {
      // The continue token expired: list again from the start.
      log::info("list continuation expired; listing " + name + " again");
      continue_token.clear();
      begun = false;
      continue;
    }
    if (reply.status != 200) {
      out.how = result::failed;
      out.reply = std::move(reply);
      co_return out;
    }
    json doc = json::parse(reply.body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      out.how = result::malformed;
      co_return out;
    }
    if (!begun) {
      begin();
      begun = true;
    }
    auto items = doc.find("items");
    if (items != doc.end() && items->is_array()) {
      for (const auto& i : *items) {
        if (i.is_object()) item(i);
      }
    }
    std::string next;
    auto md = doc.find("metadata");
    if (md != doc.end() && md->is_object()) {
      if (auto c = md->find("continue"); c != md->end() && c->is_string())
        next = c->get<std::string>();
      if (next.empty()) {
        if (auto rv = md->find("resourceVersion"); rv != md->end() && rv->is_string()) {
          out.resource_version = rv->get<std::string>();
        }
      }
    }
    if (next.empty()) {
      out.how = result::complete;
      co_return out;
    }
    continue_token = std::move(next);
  }
  out.how = result::too_many_pages;
  co_return out;
}

net::awaitable<bool> reflector::list_all(std::string& resource_version) {
  using result = list_outcome::result;
  auto out = co_await list_pages(
      source_, name_, options_.max_list_pages, [this] { return stopped_.load(); },
      [this] { sink_.replace_begin(); }, [this](const json& item) { sink_.replace_add(item); });
  switch (out.how) {
    case result::complete:
      resource_version = std::move(out.resource_version);
      sink_.replace_end();
      co_return true;
    case result::failed:
      fail(out.reply.status == 0 ? out.reply.error
                                 : "list " + name_ + ": HTTP " + std::to_string(out.reply.status) +
                                       " " + out.reply.body.substr(0, 200));
      break;
    case result::malformed:
      fail("list " + name_ + ": malformed response");
      break;
    case result::too_many_pages:
      fail("list " + name_ + ": more pages than the limit");
      break;
    case result::stopped:
      break;
  }
  co_return false;
}

net::awaitable<reflector::watch_end> reflector::watch_once(std::string& resource_version,
                                                           bool& saw_events) {
  std::uniform_int_distribution<long> pick(options_.min_watch_timeout.count(),
                                           options_.max_watch_timeout.count());
  std::chrono::seconds timeout(pick(rng_));
  watch_stream_parser parser;
  watch_end end = watch_end::normal;
  bool connected = false;
  std::string error;
  auto on_bytes = [&](std::string_view bytes) -> bool {
    if (!connected) {
      connected = true;
      mark_current();
    }
    auto fed = parser.feed(bytes, [&](watch_event&& e) -> bool {
      saw_events = true;
      if (e.type == "ERROR") {
        long code = status_code(e.object);
        end = code == 410 ? watch_end::expired : watch_end::failed;
        error = "watch " + name_ + ": ERROR event " + e.object.dump().substr(0, 200);
        return false;
      }
      std::string rv = resource_version_of(e.object);
      if (!rv.empty()) resource_version = rv;
      if (e.type != "BOOKMARK") sink_.apply(e.type, e.object);
      return true;
    });
    sink_.batch_end();
    if (!fed) {
      end = watch_end::failed;
      error = fed.error();
      return false;
    }
    return end == watch_end::normal && !stopped_;
  };
  watch_outcome out = co_await source_.watch(resource_version, timeout, on_bytes);
  if (stopped_) co_return watch_end::stopped;
  if (out.status == 200 && !connected) mark_current();  // an empty but healthy watch
  if (out.status == 410) co_return watch_end::expired;
  if (out.status != 200) {
    fail(out.status == 0 ? out.error
                         : "watch " + name_ + ": HTTP " + std::to_string(out.status) + " " +
                               out.body.substr(0, 200));
    co_return watch_end::failed;
  }
  if (end == watch_end::expired) co_return end;
  if (end == watch_end::failed) {
    fail(error);
    co_return end;
  }
  if (!out.error.empty()) {
    fail(out.error);
    co_return watch_end::failed;
  }
  if (parser.mid_event()) {
    fail("watch " + name_ + ": stream ended inside an event");
    co_return watch_end::failed;
  }
  co_return watch_end::normal;
}

net::awaitable<void> reflector::run() {
  while (!stopped_) {
    std::string rv;
    if (!(co_await list_all(rv))) {
      mark_stale();
      if (stopped_) break;
      co_await sleep(next_backoff());
      continue;
    }
    relists_++;
    stats_.count_relist();
    synced_ = true;
    mark_current();
    backoff_ = std::chrono::milliseconds(0);
    log::info("listed " + name_, {{"resourceVersion", rv}});

    while (!stopped_) {
      const auto started = options_.now();
      bool saw_events = false;
      watch_end end = co_await watch_once(rv, saw_events);
      if (end == watch_end::stopped) break;
      if (end == watch_end::expired) {
        log::info("watch of " + name_ + " expired (410); listing again");
        break;
      }
      const bool quick_empty = !saw_events && options_.now() - started < std::chrono::seconds(1);
      if (end == watch_end::failed || quick_empty) {
        if (end != watch_end::failed) fail("watch " + name_ + " ended at once with no events");
        mark_stale();
        co_await sleep(next_backoff());
        continue;
      }
      backoff_ = std::chrono::milliseconds(0);
    }
    if (!stopped_) mark_stale();
  }
}

}  // namespace netpol_guard::kube
