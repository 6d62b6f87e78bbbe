#include "netpol_guard/policy_validation.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

TEST_CASE("placeholder validation", "[netpol]") { CHECK(netpol_guard::is_dns1123_label("a")); }
