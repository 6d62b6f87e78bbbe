#include "netpol_guard/telemetry/stats.hpp"

#include <catch2/catch.hpp>

using namespace netpol_guard;

TEST_CASE("a labelled counter exports every value, zero or not, in the owner's order", "[stats]") {
  stats::labelled_counter<3> c{"result", {"success", "failure", "conflict"}};
  c.inc(2);
  c.inc(2);
  c.inc(0, 5);
  CHECK(c.value(0) == 5);
  CHECK(c.value(1) == 0);
  CHECK(c.name(2) == "conflict");
  stats::exposition out;
  c.write(out, "x_total");
  CHECK(out.text() ==
        "x_total{result=\"success\"} 5\nx_total{result=\"failure\"} 0\n"
        "x_total{result=\"conflict\"} 2\n");
  stats::exposition part;
  c.write(part, "x_total", 1, 2);
  CHECK(part.text() == "x_total{result=\"failure\"} 0\n");
}

TEST_CASE("a histogram is cumulative with +Inf, _sum and _count", "[stats]") {
  stats::histogram<2> h{std::array<double, 2>{0.5, 1.0}};
  h.observe(0.5);  // exactly a bound: le 0.5
  h.observe(0.75);
  h.observe(3.0);
  stats::exposition out;
  h.write(out, "d_seconds", "Durations.");
  CHECK(out.text() ==
        "# HELP d_seconds Durations.\n# TYPE d_seconds histogram\n"
        "d_seconds_bucket{le=\"0.5\"} 1\nd_seconds_bucket{le=\"1\"} 2\n"
        "d_seconds_bucket{le=\"+Inf\"} 3\nd_seconds_sum 4.25\nd_seconds_count 3\n");
}

TEST_CASE("samples print with %.9g, whole samples in full", "[stats]") {
  stats::gauge g;
  g.add(3000);
  g.add(-1000);
  stats::double_gauge d;
  d.set(1793836800);
  stats::exposition out;
  out.sample("g", "", static_cast<double>(g.value()));
  out.sample("r", "", 1.0 / 3);
  out.sample_whole("t", d.value());
  out.sample("t_rounded", "", d.value());
  CHECK(out.text() == "g 2000\nr 0.333333333\nt 1793836800\nt_rounded 1.7938368e+09\n");
}
