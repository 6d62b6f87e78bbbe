#include "netpol_guard/kube/reflector.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <deque>
#include <map>

using namespace netpol_guard::kube;
namespace net = boost::asio;
using nlohmann::json;

namespace {

// A list/watch source that plays a script, then stops the reflector.
class scripted_source final : public list_watch_source {
 public:
  struct watch_step {
    unsigned status = 200;
    std::vector<std::string> chunks;
    std::string transport_error;
  };
  std::deque<api_reply> lists;
  std::deque<watch_step> watches;
  std::vector<std::string> list_calls;   // continue tokens asked for
  std::vector<std::string> watch_calls;  // resourceVersions asked for
  reflector* target = nullptr;

  net::awaitable<api_reply> list(std::string continue_token) override {
    list_calls.push_back(continue_token);
    if (lists.empty()) {
      target->stop();
      co_return api_reply{0, "", "script over"};
    }
    auto r = lists.front();
    lists.pop_front();
    co_return r;
  }

  net::awaitable<watch_outcome> watch(std::string rv, std::chrono::seconds timeout,
                                      std::function<bool(std::string_view)> on_bytes) override {
    watch_calls.push_back(rv);
    CHECK(timeout >= std::chrono::seconds(300));
    CHECK(timeout <= std::chrono::seconds(600));
    if (watches.empty()) {
      target->stop();
      co_return watch_outcome{0, "script over", ""};
    }
    auto w = watches.front();
    watches.pop_front();
    if (w.status == 200) {
      on_bytes({});
      for (const auto& c : w.chunks) {
        if (!on_bytes(c)) break;
      }
    }
    co_return watch_outcome{w.status, w.transport_error, ""};
  }
};

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
    if (type == "DELETED") state.erase(name);
    else state[name] = o["metadata"].value("resourceVersion", "");
  }
  void batch_end() override { ++batches; }
};

std::string page(std::vector<std::pair<std::string, std::string>> items, std::string rv,
                 std::string cont = "") {
  json doc{{"kind", "NetworkPolicyList"}, {"metadata", {{"resourceVersion", rv}}}, {"items", json::array()}};
  if (!cont.empty()) doc["metadata"]["continue"] = cont;
  for (auto& [name, irv] : items) {
    doc["items"].push_back({{"metadata", {{"name", name}, {"resourceVersion", irv}}}});
  }
  return doc.dump();
}

std::string event(const std::string& type, const std::string& name, const std::string& rv) {
  return json{{"type", type}, {"object", {{"metadata", {{"name", name}, {"resourceVersion", rv}}}}}}.dump() + "\n";
}

std::string expired() {
  return json{{"type", "ERROR"},
              {"object", {{"kind", "Status"}, {"code", 410}, {"reason", "Expired"}, {"message", "too old"}}}}
             .dump() + "\n";
}

reflector_options fast() {
  reflector_options o;
  o.min_backoff = std::chrono::milliseconds(1);
  o.max_backoff = std::chrono::milliseconds(4);
  return o;
}

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
  reflector r("networkpolicies", src, sink, fast());
  src.target = &r;
  src.lists.push_back({200, page({{"a", "1"}, {"b", "2"}}, "", "tok-1"), ""});
  src.lists.push_back({200, page({{"c", "3"}}, "10"), ""});
  const std::string two = event("ADDED", "d", "11") + event("MODIFIED", "a", "12");
  // Several events in one chunk, one event split over two chunks, a bookmark.
  src.watches.push_back({200, {two + event("DELETED", "b", "13").substr(0, 30),
                               event("DELETED", "b", "13").substr(30),
                               event("BOOKMARK", "", "20")}, ""});
  run(r);
  CHECK(src.list_calls == std::vector<std::string>{"", "tok-1"});
  CHECK(sink.replaces == 1);
  CHECK(r.relists() == 1);
  CHECK(r.synced());
  REQUIRE(src.watch_calls.size() >= 2);
  CHECK(src.watch_calls[0] == "10");
  CHECK(src.watch_calls[1] == "20");  // resumed from the bookmark
  CHECK(sink.applied == std::vector<std::string>{"ADDED d", "MODIFIED a", "DELETED b"});
  CHECK(sink.state == std::map<std::string, std::string>{{"a", "12"}, {"c", "3"}, {"d", "11"}});
}

TEST_CASE("an ERROR 410 relists and replaces the whole state", "[kube][reflector]") {
  scripted_source src;
  recording_sink sink;
  reflector r("networkpolicies", src, sink, fast());
  src.target = &r;
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
  reflector r("networkpolicies", src, sink, fast());
  src.target = &r;
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
  reflector r("networkpolicies", src, sink, fast());
  src.target = &r;
  src.lists.push_back({200, page({}, "1"), ""});
  src.watches.push_back({200, {event("ADDED", "a", "2") + event("ADDED", "b", "3").substr(0, 25)}, ""});
  src.watches.push_back({200, {event("ADDED", "b", "3")}, ""});
  run(r);
  CHECK(sink.applied == std::vector<std::string>{"ADDED a", "ADDED b"});
  CHECK(src.watch_calls.at(1) == "2");  // from the last complete event
  CHECK(r.failures() >= 1);
  CHECK(r.relists() == 1);
}

TEST_CASE("errors back off and retry; state age grows while down", "[kube][reflector]") {
  scripted_source src;
  recording_sink sink;
  reflector r("networkpolicies", src, sink, fast());
  src.target = &r;
  src.lists.push_back({0, "", "connection refused"});
  src.lists.push_back({401, R"({"kind":"Status","code":401})", ""});
  src.lists.push_back({200, page({{"a", "1"}}, "3"), ""});
  src.watches.push_back({500, {}, ""});
  src.watches.push_back({200, {}, ""});  // ends at once with no events: a failure too
  run(r);
  CHECK(r.synced());
  CHECK(sink.state.size() == 1);
  CHECK(r.failures() >= 4);
  CHECK(src.list_calls.size() == 3);
  CHECK_FALSE(r.watching());
  CHECK(r.state_age_seconds() >= 0);
}

TEST_CASE("a malformed watch stream is a failure, not a crash", "[kube][reflector]") {
  scripted_source src;
  recording_sink sink;
  reflector r("networkpolicies", src, sink, fast());
  src.target = &r;
  src.lists.push_back({200, page({}, "1"), ""});
  src.watches.push_back({200, {"garbage{"}, ""});
  src.watches.push_back({200, {event("ADDED", "ok", "2")}, ""});
  run(r);
  CHECK(sink.applied == std::vector<std::string>{"ADDED ok"});
  CHECK(r.failures() >= 1);
}
