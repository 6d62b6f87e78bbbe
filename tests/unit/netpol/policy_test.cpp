#include "netpol_guard/policy.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace netpol_guard;
using nlohmann::json;

namespace {

deny_all_coverage of(const char* spec_json) {
  std::string err;
  auto facts = facts_from_spec(json::parse(spec_json), err);
  REQUIRE(facts);
  return coverage_of(*facts);
}

}  // namespace

TEST_CASE("the template's default-deny-all denies both directions", "[netpol]") {
  CHECK(of(R"({"podSelector":{},"policyTypes":["Ingress","Egress"]})") == deny_all_coverage{true, true});
}
