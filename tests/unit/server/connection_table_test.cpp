// The connection table's eviction choice: which connection a new client
// displaces.
#include "netpol_guard/server/connection_table.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace netpol_guard;
using boost::asio::ip::make_address;

namespace {

// A table whose entries record their own eviction.
struct table_fixture {
  connection_table table;
  std::vector<std::string> evicted;

  table_fixture(std::size_t total, std::size_t per_source) : table(total, per_source) {}

  std::shared_ptr<connection_table::entry> add(const std::string& name, const std::string& source,
                                               connection_table::admission want) {
    auto e = std::make_shared<connection_table::entry>();
    e->source = make_address(source);
    e->close = [this, name](bool) { evicted.push_back(name); };
    INFO("adding " << name);
    CHECK(table.admit(e) == want);
    return e;
  }
};

using admission = connection_table::admission;

}  // namespace

TEST_CASE("a full table evicts a connection that never sent a request before an idle one",
          "[server]") {
  table_fixture t(3, 3);
  auto pooled = t.add("pooled", "10.0.0.1", admission::admitted);
  pooled->served = true;
  pooled->set_phase(connection_phase::waiting);
  auto idle1 = t.add("idle-1", "10.0.0.9", admission::admitted);
  idle1->set_phase(connection_phase::waiting);
  auto idle2 = t.add("idle-2", "10.0.0.9", admission::admitted);
  idle2->set_phase(connection_phase::waiting);
  t.add("new", "10.0.0.1", admission::admitted_after_eviction);
  REQUIRE(t.evicted == std::vector<std::string>{"idle-1"});  // never served, oldest
  CHECK(t.table.size() == 3);
  CHECK(t.table.count(make_address("10.0.0.9")) == 1);
}

TEST_CASE("among equals, the source holding the most connections loses one", "[server]") {
  table_fixture t(4, 4);
  t.add("a-1", "10.0.0.1", admission::admitted);
  t.add("b-1", "10.0.0.2", admission::admitted);
  t.add("b-2", "10.0.0.2", admission::admitted);
  t.add("b-3", "10.0.0.2", admission::admitted);
  t.add("c-1", "10.0.0.3", admission::admitted_after_eviction);
  CHECK(t.evicted == std::vector<std::string>{"b-1"});
}

TEST_CASE("a connection answering a request is never evicted and all busy refuses", "[server]") {
  table_fixture t(2, 2);
  auto a = t.add("a", "10.0.0.1", admission::admitted);
  auto b = t.add("b", "10.0.0.2", admission::admitted);
  a->set_phase(connection_phase::busy);
  b->served = true;
  b->set_phase(connection_phase::reading);
  t.add("c", "10.0.0.3", admission::admitted_after_eviction);
  CHECK(t.evicted == std::vector<std::string>{"b"});  // a request arriving, not busy
  t.table.for_each([](connection_table::entry& e) { e.set_phase(connection_phase::busy); });
  t.add("d", "10.0.0.4", admission::refused_full);
  CHECK(t.evicted.size() == 1);
}

TEST_CASE("the per-source limit refuses a source's extra connection, not others'", "[server]") {
  table_fixture t(10, 2);
  auto a1 = t.add("a-1", "10.0.0.1", admission::admitted);
  t.add("a-2", "10.0.0.1", admission::admitted);
  t.add("a-3", "10.0.0.1", admission::refused_per_source);
  t.add("b-1", "::ffff:10.0.0.2", admission::admitted);
  CHECK(t.table.count(make_address("10.0.0.1")) == 2);
  t.table.remove(a1);
  t.table.remove(a1);  // removing twice is harmless
  t.add("a-4", "10.0.0.1", admission::admitted);
  CHECK(t.evicted.empty());
  CHECK(t.table.size() == 3);
}

TEST_CASE("source_of counts IPv4-mapped IPv6 as IPv4", "[server]") {
  CHECK(source_of(make_address("::ffff:10.1.2.3")) == make_address("10.1.2.3"));
  CHECK(source_of(make_address("fd00::1")) == make_address("fd00::1"));
}

TEST_CASE("a per-source limit as large as the table still lets a lone source evict", "[server]") {
  table_fixture t(2, 5);
  t.add("a-1", "10.0.0.1", admission::admitted);
  t.add("a-2", "10.0.0.1", admission::admitted);
  t.add("a-3", "10.0.0.1", admission::admitted_after_eviction);
  CHECK(t.evicted == std::vector<std::string>{"a-1"});
}
