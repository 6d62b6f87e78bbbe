#include "netpol_guard/cli/rollout_flags.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <string>
#include <vector>

using namespace netpol_guard;
using namespace netpol_guard::cli;
using Catch::Matchers::Contains;

namespace {

using names = std::set<std::string, std::less<>>;

// Parses `args` as serve's governance flags into a decision_config.
struct parsed_governance {
  governance_flags flags;
  flag_set set{"serve"};
  decision_config config;
  std::string error;
  explicit parsed_governance(const std::vector<std::string>& args) {
    add_governance_flags(set, flags);
    // A config that is not the default, to show apply_governance sets every field.
    config.exemption_groups = {"stale"};
    config.exemption_users = {"stale"};
    config.max_exemption_duration = std::chrono::seconds(1);
    if (auto p = set.parse(args); !p) {
      error = "parse: " + p.error();
    } else if (auto a = apply_governance(flags, config); !a) {
      error = a.error();
    }
  }
};

}  // namespace

TEST_CASE("governance flags: the defaults are system:masters, no user, 2160h", "[cli]") {
  parsed_governance g({});
  REQUIRE(g.error.empty());
  CHECK(g.config.exemption_groups == names{"system:masters"});
  CHECK(g.config.exemption_users.empty());
  CHECK(g.config.max_exemption_duration == std::chrono::hours(2160));
  const std::string usage = g.set.usage();
  CHECK_THAT(usage, Contains("--exemption-groups value"));
  CHECK_THAT(usage, Contains("in addition to system:masters"));
  CHECK_THAT(usage, Contains("--exemption-users value"));
  CHECK_THAT(usage, Contains("--max-exemption-duration value") && Contains("(default 2160h)"));
}

TEST_CASE("governance flags: groups and users add to system:masters, never replace it", "[cli]") {
  parsed_governance g({"--exemption-groups=platform-admins, sre", "--exemption-groups=secops",
                       "--exemption-users", "system:serviceaccount:argocd:argocd-server,alice"});
  REQUIRE(g.error.empty());
  CHECK(g.config.exemption_groups == names{"platform-admins", "secops", "sre", "system:masters"});
  CHECK(g.config.exemption_users == names{"alice", "system:serviceaccount:argocd:argocd-server"});
  SECTION("an empty value leaves the default") {
    parsed_governance empty({"--exemption-groups="});
    REQUIRE(empty.error.empty());
    CHECK(empty.config.exemption_groups == names{"system:masters"});
  }
}

TEST_CASE("governance flags: --max-exemption-duration", "[cli]") {
  SECTION("in whole seconds") {
    parsed_governance g({"--max-exemption-duration=720h"});
    REQUIRE(g.error.empty());
    CHECK(g.config.max_exemption_duration == std::chrono::hours(720));
    parsed_governance odd({"--max-exemption-duration=1m1500ms"});
    REQUIRE(odd.error.empty());
    CHECK(odd.config.max_exemption_duration == std::chrono::seconds(61));
  }
  SECTION("under a second is refused with the flag's name") {
    CHECK_THAT(parsed_governance({"--max-exemption-duration=0"}).error,
               Contains("--max-exemption-duration"));
    CHECK_THAT(parsed_governance({"--max-exemption-duration=999ms"}).error,
               Contains("at least 1s"));
  }
  SECTION("a value that is not a duration") {
    CHECK_THAT(parsed_governance({"--max-exemption-duration=90d"}).error,
               Contains("--max-exemption-duration") && Contains("90d"));
  }
}
