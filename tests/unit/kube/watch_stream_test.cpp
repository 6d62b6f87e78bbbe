#include "netpol_guard/kube/watch_stream.hpp"

#include <catch2/catch.hpp>
#include <vector>

using namespace netpol_guard::kube;

namespace {

struct collected {
  std::vector<std::string> types;
  std::vector<std::string> names;
  std::function<bool(watch_event&&)> sink() {
    return [this](watch_event&& e) {
      types.push_back(e.type);
      names.push_back(e.object["metadata"].value("name", ""));
      return true;
    };
  }
};

const std::string ev1 =
    R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}})";
const std::string ev2 =
    R"({"type":"MODIFIED","object":{"metadata":{"name":"b {\"}[","resourceVersion":"2"}}})";
const std::string bookmark = R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}})";

}  // namespace

TEST_CASE("several events in one chunk", "[kube][watch]") {
  watch_stream_parser p;
  collected c;
  REQUIRE(p.feed(ev1 + "\n" + ev2 + "\n" + bookmark + "\n", c.sink()));
  CHECK(c.types == std::vector<std::string>{"ADDED", "MODIFIED", "BOOKMARK"});
  CHECK(c.names[1] == "b {\"}[");  // braces inside strings do not end the event
  CHECK_FALSE(p.mid_event());
}

TEST_CASE("one event split across chunks at every byte", "[kube][watch]") {
  const std::string stream = ev1 + "\n" + ev2 + "\n";
  for (std::size_t cut = 1; cut < stream.size(); ++cut) {
    watch_stream_parser p;
    collected c;
    REQUIRE(p.feed(stream.substr(0, cut), c.sink()));
    REQUIRE(p.feed(stream.substr(cut), c.sink()));
    CHECK(c.types.size() == 2);
  }
}

TEST_CASE("byte-at-a-time feeding", "[kube][watch]") {
  watch_stream_parser p;
  collected c;
  for (char ch : ev2 + ev1) REQUIRE(p.feed(std::string_view(&ch, 1), c.sink()));
  CHECK(c.types == std::vector<std::string>{"MODIFIED", "ADDED"});
}

TEST_CASE("a disconnect mid-event leaves it unfinished", "[kube][watch]") {
  watch_stream_parser p;
  collected c;
  REQUIRE(p.feed(ev1 + ev2.substr(0, 20), c.sink()));
  CHECK(c.types.size() == 1);
  CHECK(p.mid_event());
}

TEST_CASE("garbage and oversize events are errors", "[kube][watch]") {
  collected c;
  watch_stream_parser p;
  CHECK_FALSE(p.feed("not json", c.sink()));
  CHECK_FALSE(p.error().empty());

  watch_stream_parser small(64);
  CHECK_FALSE(small.feed(
      R"({"type":"ADDED","object":{"metadata":{"name":")" + std::string(100, 'x'), c.sink()));
  CHECK(small.error().find("larger than") != std::string::npos);

  watch_stream_parser p2;
  CHECK_FALSE(p2.feed(R"({"type":"ADDED"})", c.sink()));  // no object
}

TEST_CASE("the consumer can stop early", "[kube][watch]") {
  watch_stream_parser p;
  int n = 0;
  REQUIRE(p.feed(ev1 + ev2, [&](watch_event&&) { return ++n < 1; }));
  CHECK(n == 1);
}
