// The body budget: which request bodies fit, in total and per source.
#include "netpol_guard/server/body_budget.hpp"

#include <catch2/catch.hpp>

using namespace netpol_guard;
using boost::asio::ip::make_address;

TEST_CASE("the body budget keeps a total and a share per source", "[server]") {
  body_budget b(100, 60);
  const auto x = make_address("10.0.0.1"), y = make_address("10.0.0.2"),
             z = make_address("10.0.0.3");
  CHECK(b.reserve(x, 60) == body_budget::result::reserved);
  CHECK(b.reserve(x, 1) == body_budget::result::over_per_source);
  CHECK(b.reserve(y, 40) == body_budget::result::reserved);
  CHECK(b.reserve(z, 1) == body_budget::result::over_total);
  CHECK(b.in_use() == 100);
  b.release(x, 60);
  CHECK(b.in_use() == 40);
  CHECK(b.in_use(x) == 0);
  CHECK(b.reserve(z, 60) == body_budget::result::reserved);
  CHECK(b.reserve(y, 20) == body_budget::result::over_total);
  // A request larger than anything left is refused whole, not partly reserved.
  CHECK(b.in_use(y) == 40);
  CHECK(b.reserve(x, 1000) == body_budget::result::over_total);
  CHECK(b.in_use() == 100);
}
