#include "netpol_guard/offline_state.hpp"

#include <catch2/catch.hpp>

TEST_CASE("placeholder offline", "[netpol]") { CHECK(true); }
