#include "netpol_guard/kube/reflector.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <deque>
#include <map>

#include "scripted_source.hpp"

using namespace netpol_guard;
using namespace netpol_guard::kube;
using netpol_guard::kube::testing::fake_api;
using netpol_guard::kube::testing::fake_clock;
using netpol_guard::kube::testing::scripted_source;
namespace net = boost::asio;
using nlohmann::json;

namespace {

// Keeps the state the way an index would: name -> resourceVersion.
class recording_sink final : public reflector_sink {
 public:
  std::map<std::string, std::string> state;
  std::map<std::string, std::string> staging;
  int replaces = 0, batches = 0;
  std::vector<std::string> applied;

  void replace_begin() override { staging.clear(); }
  void replace_add(const json& o) override {
    staging[o["metadata"]["name"]] = o["metadata"].value("resourceVersion", "");
  }
  void replace_end() override {
    state = staging;
    ++replaces;
  }
  void apply(const std::string& type, const json& o) override {
    std::string name = o["metadata"]["name"];
    applied.push_back(type + " " + name);
    if (type == "DELETED")
      state.erase(name);
    else
      state[name] = o["metadata"].value("resourceVersion", "");
  }
  void batch_end() override { ++batches; }
};

std::string page(std::vector<std::pair<std::string, std::string>> items, std::string rv,
                 std::string cont = "") {
  json doc{{"kind", "NetworkPolicyList"},
           {"metadata", {{"resourceVersion", rv}}},
           {"items", json::array()}};
  if (!cont.empty()) doc["metadata"]["continue"] = cont;
  for (auto& [name, irv] : items) {
    doc["items"].push_back({{"metadata", {{"name", name}, {"resourceVersion", irv}}}});
  }
  return doc.dump();
}

std::string event(const std::string& type, const std::string& name, const std::string& rv) {
  return json{{"type", type}, {"object", {{"metadata", {{"name", name}, {"resourceVersion", rv}}}}}}
             .dump() +
         "\n";
}

std::string expired() {
  return json{{"type", "ERROR"},
              {"object",
               {{"kind", "Status"}, {"code", 410}, {"reason", "Expired"}, {"message", "too old"}}}}
             .dump() +
         "\n";
}

reflector_options fast() {
  reflector_options o;
  o.min_backoff = std::chrono::milliseconds(1);
  o.max_backoff = std::chrono::milliseconds(4);
  return o;
}

// The script's end stops the reflector.
std::function<net::awaitable<void>()> stops(reflector& r) {
  return [&r]() -> net::awaitable<void> {
    r.stop();
    co_return;
  };
}

std::uint64_t watch_failures(const kube_stats& m) { return m.errors(kube_error::watch_failed); }

void run(reflector& r) {
  net::io_context ioc;
  net::co_spawn(ioc, r.run(), net::detached);
  ioc.run_for(std::chrono::seconds(10));
  REQUIRE(ioc.stopped());
}

}  // namespace

TEST_CASE("paginated list, then watch from its resourceVersion", "[kube][reflector]") {
  scripted_source src;
  recording_sink sink;
  kube_stats m;
  reflector r("networkpolicies", src, sink, m, fast());
  src.on_over = stops(r);
  src.lists.push_back({200, page({{"a", "1"}, {"b", "2"}}, "", "tok-1"), ""});
  src.lists.push_back({200, page({{"c", "3"}}, "10"), ""});
  const std::string two = event("ADDED", "d", "11") + event("MODIFIED", "a", "12");
  // Several events in one chunk, one event split over two chunks, a bookmark.
  src.watches.push_back({200,
                         {two + event("DELETED", "b", "13").substr(0, 30),
                          event("DELETED", "b", "13").substr(30), event("BOOKMARK", "", "20")},
                         ""});
  run(r);
  CHECK(src.list_calls == std::vector<std::string>{"", "tok-1"});
  CHECK(sink.replaces == 1);
  CHECK(r.relists() == 1);
  CHECK(r.synced());
  CHECK(watch_failures(m) == 0);
  REQUIRE(src.watch_calls.size() >= 2);
  CHECK(src.watch_calls[0] == "10");
  CHECK(src.watch_calls[1] == "20");  // resumed from the bookmark
  CHECK(sink.applied == std::vector<std::string>{"ADDED d", "MODIFIED a", "DELETED b"});
  CHECK(sink.state == std::map<std::string, std::string>{{"a", "12"}, {"c", "3"}, {"d", "11"}});
}

TEST_CASE("an ERROR 410 relists and replaces the whole state", "[kube][reflector]") {
  scripted_source src;
  recording_sink sink;
  kube_stats m;
  reflector r("networkpolicies", src, sink, m, fast());
  src.on_over = stops(r);
  src.lists.push_back({200, page({{"a", "1"}, {"gone", "2"}}, "5"), ""});
  src.watches.push_back({200, {event("ADDED", "x", "6") + expired()}, ""});
  src.lists.push_back({200, page({{"a", "1"}, {"new", "7"}}, "8"), ""});
  run(r);
  CHECK(r.relists() == 2);
  CHECK(sink.replaces == 2);
  CHECK(sink.state == std::map<std::string, std::string>{{"a", "1"}, {"new", "7"}});
  CHECK(src.watch_calls.at(1) == "8");
}

TEST_CASE("an expired continue token lists again from the start", "[kube][reflector]") {
  scripted_source src;
  recording_sink sink;
  kube_stats m;
  reflector r("networkpolicies", src, sink, m, fast());
  src.on_over = stops(r);
  src.lists.push_back({200, page({{"a", "1"}}, "", "tok"), ""});
  src.lists.push_back({410, R"({"kind":"Status","code":410})", ""});
  src.lists.push_back({200, page({{"a", "1"}, {"b", "2"}}, "9"), ""});
  run(r);
  CHECK(src.list_calls == std::vector<std::string>{"", "tok", ""});
  CHECK(sink.state.size() == 2);
  CHECK(src.watch_calls.at(0) == "9");
}

TEST_CASE("a disconnect mid-event drops the partial event and resumes", "[kube][reflector]") {
  scripted_source src;
  recording_sink sink;
  kube_stats m;
  reflector r("networkpolicies", src, sink, m, fast());
  src.on_over = stops(r);
  src.lists.push_back({200, page({}, "1"), ""});
  src.watches.push_back(
      {200, {event("ADDED", "a", "2") + event("ADDED", "b", "3").substr(0, 25)}, ""});
  src.watches.push_back({200, {event("ADDED", "b", "3")}, ""});
  run(r);
  CHECK(sink.applied == std::vector<std::string>{"ADDED a", "ADDED b"});
  CHECK(src.watch_calls.at(1) == "2");  // from the last complete event
  CHECK(watch_failures(m) == 1);
  CHECK(r.relists() == 1);
}

TEST_CASE("errors back off and retry; state age grows while down", "[kube][reflector]") {
  scripted_source src;
  recording_sink sink;
  kube_stats m;
  fake_clock clock;
  auto options = fast();
  options.now = clock.fn();
  reflector r("networkpolicies", src, sink, m, options);
  src.on_over = stops(r);
  // Not yet listed: the state is as old as the reflector.
  clock.advance(std::chrono::seconds(5));
  CHECK(r.state_age_seconds() == Approx(5.0));
  src.lists.push_back({0, "", "connection refused"});
  src.lists.push_back({401, R"({"kind":"Status","code":401})", ""});
  src.lists.push_back({200, page({{"a", "1"}}, "3"), ""});
  double age_after_list = -1;
  src.watches.push_back({500, {}, ""});
  src.before_watch[0] = [&] {
    age_after_list = r.state_age_seconds();
    clock.advance(std::chrono::seconds(10));
  };
  src.watches.push_back({200, {}, ""});  // ends at once with no events: a failure too
  run(r);
  CHECK(r.synced());
  CHECK(sink.state.size() == 1);
  CHECK(watch_failures(m) == 4);
  CHECK(src.list_calls.size() == 3);
  CHECK(age_after_list == 0.0);  // current once listed
  // Down since the empty watch failed; the age grows with the clock.
  CHECK(r.state_age_seconds() == 0.0);
  clock.advance(std::chrono::seconds(42));
  CHECK(r.state_age_seconds() == Approx(42.0));
}

TEST_CASE("a malformed watch stream is a failure, not a crash", "[kube][reflector]") {
  scripted_source src;
  recording_sink sink;
  kube_stats m;
  reflector r("networkpolicies", src, sink, m, fast());
  src.on_over = stops(r);
  src.lists.push_back({200, page({}, "1"), ""});
  src.watches.push_back({200, {"garbage{"}, ""});
  src.watches.push_back({200, {event("ADDED", "ok", "2")}, ""});
  run(r);
  CHECK(sink.applied == std::vector<std::string>{"ADDED ok"});
  CHECK(watch_failures(m) == 1);
}

TEST_CASE("the continue token and resourceVersion are URL-escaped", "[kube][reflector]") {
  fake_api api;
  api_list_watch source(api, "/apis/networking.k8s.io/v1/networkpolicies", 500);
  api.replies.push_back({200, page({}, "1"), ""});
  net::io_context ioc;
  net::co_spawn(
      ioc,
      [&]() -> net::awaitable<void> {
        co_await source.list("");
        co_await source.list("eyJ2Ijoi+/=&x y");
        co_await source.watch("12&watch=0", std::chrono::seconds(300),
                              [](std::string_view) { return true; });
      },
      net::detached);
  ioc.run();
  REQUIRE(api.calls.size() == 3);
  CHECK(api.calls[0].target == "/apis/networking.k8s.io/v1/networkpolicies?limit=500");
  CHECK(api.calls[1].target ==
        "/apis/networking.k8s.io/v1/networkpolicies?limit=500&continue=eyJ2Ijoi%2B%2F%3D%26x%20y");
  CHECK(api.calls[2].target ==
        "/apis/networking.k8s.io/v1/networkpolicies?watch=1&allowWatchBookmarks=true"
        "&resourceVersion=12%26watch%3D0&timeoutSeconds=300");
}

TEST_CASE("list_pages hands every item of every page, once per attempt", "[kube][reflector]") {
  scripted_source src;
  src.lists.push_back({200, page({{"a", "1"}}, "", "tok-1"), ""});
  src.lists.push_back({410, R"({"kind":"Status","code":410})", ""});  // continuation expired
  src.lists.push_back({200, page({{"a", "1"}}, "", "tok-2"), ""});
  src.lists.push_back({200, page({{"b", "2"}}, "7"), ""});
  std::vector<std::string> items;
  int begins = 0;
  list_outcome out;
  net::io_context ioc;
  net::co_spawn(
      ioc,
      [&]() -> net::awaitable<void> {
        out = co_await list_pages(
            src, "networkpolicies", 10, [] { return false; },
            [&] {
              ++begins;
              items.clear();
            },
            [&](const json& o) { items.push_back(o["metadata"]["name"].get<std::string>()); });
      },
      net::detached);
  ioc.run();
  CHECK(out.how == list_outcome::result::complete);
  CHECK(out.resource_version == "7");
  CHECK(begins == 2);
  CHECK(items == std::vector<std::string>{"a", "b"});
  CHECK(src.list_calls == std::vector<std::string>{"", "tok-1", "", "tok-2"});
}

TEST_CASE("list_pages stops at the page limit and reports a refused page", "[kube][reflector]") {
  scripted_source src;
  src.lists.push_back({200, page({{"a", "1"}}, "", "tok-1"), ""});
  src.lists.push_back({200, page({{"b", "2"}}, "", "tok-2"), ""});
  src.lists.push_back({403, "forbidden", ""});
  list_outcome limited, refused;
  net::io_context ioc;
  net::co_spawn(
      ioc,
      [&]() -> net::awaitable<void> {
        auto none = [] { return false; };
        auto ignore = [](const json&) {};
        limited = co_await list_pages(
            src, "x", 2, none, [] {}, ignore);
        refused = co_await list_pages(
            src, "x", 2, none, [] {}, ignore);
      },
      net::detached);
  ioc.run();
  CHECK(limited.how == list_outcome::result::too_many_pages);
  CHECK(refused.how == list_outcome::result::failed);
  CHECK(refused.reply.status == 403);
  CHECK(refused.reply.body == "forbidden");
}
