#include "netpol_guard/cli/report_flags.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

using namespace netpol_guard;
using namespace netpol_guard::cli;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

env_fn env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// A namespace file as the service account token's volume holds it.
struct namespace_file {
  std::string path = "/tmp/netpol-guard-report-flags-" + std::to_string(::getpid());
  explicit namespace_file(const std::string& text) { std::ofstream(path) << text; }
  ~namespace_file() { std::remove(path.c_str()); }
};

struct parsed {
  report_flags flags;
  flag_set set{"serve"};
  std::string error;
  std::optional<kube::compliance_reporting_options> options;
  parsed(const std::vector<std::string>& args, const env_fn& env, const std::string& ns_file) {
    add_report_flags(set, flags);
    if (auto p = set.parse(args); !p) {
      error = "parse: " + p.error();
      return;
    }
    auto r = resolve_report_flags(flags, env, ns_file);
    if (!r) {
      error = r.error();
      return;
    }
    options = *r;
  }
};

}  // namespace

TEST_CASE("the reports are off unless --reports names an API", "[report-flags]") {
  parsed p({}, env_of({}), "/nonexistent");
  REQUIRE(p.error.empty());
  CHECK_FALSE(p.options);
  parsed wrong({"--reports=yes"}, env_of({}), "/nonexistent");
  CHECK(wrong.error == "--reports must be openreports, policyreport or off");
}

TEST_CASE("kube components' leader election defaults, and the pod's namespace", "[report-flags]") {
  namespace_file sa("team-platform\n");
  SECTION("POD_NAMESPACE first") {
    parsed p({"--reports=openreports"}, env_of({{"POD_NAMESPACE", "netpol-guard"}}), sa.path);
    REQUIRE(p.error.empty());
    REQUIRE(p.options);
    CHECK(p.options->writer.api == kube::report_api::openreports);
    CHECK(p.options->writer.interval == 10s);
    REQUIRE(p.options->election);
    CHECK(p.options->election->lease_namespace == "netpol-guard");
    CHECK(p.options->election->lease_name == "netpol-guard");
    CHECK(p.options->election->lease_duration == 15s);
    CHECK(p.options->election->renew_deadline == 10s);
    CHECK(p.options->election->retry_period == 2s);
    CHECK_FALSE(p.options->identity.empty());
    CHECK(p.options->election->identity == p.options->identity);
    // Writes land before another replica may lead: lease duration - renew deadline.
    CHECK(p.options->writer.request_timeout == 5s);
  }
  SECTION("then the service account's namespace, then default") {
    parsed p({"--reports=policyreport"}, env_of({}), sa.path);
    REQUIRE(p.options);
    CHECK(p.options->writer.api == kube::report_api::policyreport);
    CHECK(p.options->election->lease_namespace == "team-platform");
    parsed q({"--reports=policyreport"}, env_of({{"POD_NAMESPACE", ""}}), "/nonexistent");
    REQUIRE(q.options);
    CHECK(q.options->election->lease_namespace == "default");
  }
  SECTION("the flags override") {
    parsed p({"--reports=openreports", "--report-interval=30s", "--leader-elect-lease-duration=30s",
              "--leader-elect-renew-deadline=20s", "--leader-elect-retry-period=4s",
              "--leader-elect-resource-name=guard", "--leader-elect-resource-namespace=ops"},
             env_of({{"POD_NAMESPACE", "netpol-guard"}}), sa.path);
    REQUIRE(p.error.empty());
    CHECK(p.options->writer.interval == 30s);
    CHECK(p.options->election->lease_duration == 30s);
    CHECK(p.options->election->renew_deadline == 20s);
    CHECK(p.options->election->retry_period == 4s);
    CHECK(p.options->election->lease_name == "guard");
    CHECK(p.options->election->lease_namespace == "ops");
    CHECK(p.options->writer.request_timeout == 10s);
  }
  SECTION("--leader-elect=false leads alone") {
    parsed p({"--reports=openreports", "--leader-elect=false"}, env_of({}), sa.path);
    REQUIRE(p.options);
    CHECK_FALSE(p.options->election);
    CHECK(p.options->writer.request_timeout == 10s);
  }
}

TEST_CASE("wrong report and election values are refused with the flag's name", "[report-flags]") {
  parsed p({"--reports=openreports", "--report-interval=10ms"}, env_of({}), "/nonexistent");
  CHECK(p.error == "--report-interval must be at least 100ms");
  parsed q({"--reports=openreports", "--leader-elect-renew-deadline=20s"}, env_of({}),
           "/nonexistent");
  CHECK_THAT(q.error, Contains("--leader-elect-renew-deadline"));
  // Without reports, election flags are not checked: they have no effect.
  parsed r({"--leader-elect-renew-deadline=20s"}, env_of({}), "/nonexistent");
  CHECK(r.error.empty());
}
