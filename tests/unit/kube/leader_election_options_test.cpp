#include "netpol_guard/kube/leader_election_options.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <optional>

using namespace netpol_guard::kube;
using Catch::Matchers::Contains;
using std::chrono::milliseconds;

namespace {

leader_election_options usable() {
  leader_election_options o;
  o.lease_namespace = "netpol-guard-system";
  o.identity = "web-0_0123";
  return o;
}

// Sets or clears POD_NAME for one test and puts the old value back.
class pod_name_env {
 public:
  explicit pod_name_env(const char* value) {
    if (const char* old = std::getenv("POD_NAME")) old_ = old;
    if (value) {
      ::setenv("POD_NAME", value, 1);
    } else {
      ::unsetenv("POD_NAME");
    }
  }
  ~pod_name_env() {
    if (old_) {
      ::setenv("POD_NAME", old_->c_str(), 1);
    } else {
      ::unsetenv("POD_NAME");
    }
  }

 private:
  std::optional<std::string> old_;
};

bool is_lower_hex(const std::string& s) {
  return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

TEST_CASE("kube components' defaults are usable once a namespace and identity are set",
          "[kube][leader]") {
  leader_election_options defaults;
  CHECK(defaults.lease_duration == std::chrono::seconds(15));
  CHECK(defaults.renew_deadline == std::chrono::seconds(10));
  CHECK(defaults.retry_period == std::chrono::seconds(2));
  CHECK(defaults.lease_name == "netpol-guard");
  CHECK(validate(usable()).empty());
}

TEST_CASE("validate applies client-go's rules and names the flag", "[kube][leader]") {
  auto o = usable();
  o.lease_duration = std::chrono::seconds(10);
  CHECK(validate(o) ==
        "--leader-elect-lease-duration (10s) must be greater than --leader-elect-renew-deadline "
        "(10s)");

  o = usable();
  o.renew_deadline = milliseconds(2400);  // exactly 1.2 x 2s
  CHECK(validate(o) ==
        "--leader-elect-renew-deadline (2400ms) must be greater than 1.2 x "
        "--leader-elect-retry-period (2s)");
  o.renew_deadline = milliseconds(2401);
  CHECK(validate(o).empty());

  o = usable();
  o.retry_period = milliseconds(0);
  CHECK(validate(o) == "--leader-elect-retry-period must be greater than 0");
  o = usable();
  o.renew_deadline = milliseconds(-1);
  CHECK(validate(o) == "--leader-elect-renew-deadline must be greater than 0");
  o = usable();
  o.lease_duration = milliseconds(0);
  CHECK(validate(o) == "--leader-elect-lease-duration must be greater than 0");
}

TEST_CASE("validate wants a DNS subdomain name, a DNS label namespace and an identity",
          "[kube][leader]") {
  auto o = usable();
  o.lease_name = "netpol-guard.example.com";
  CHECK(validate(o).empty());
  o.lease_name = "Netpol_Guard";
  CHECK_THAT(validate(o), Contains("--leader-elect-resource-name must be a DNS subdomain") &&
                              Contains("\"Netpol_Guard\""));
  o.lease_name = "";
  CHECK_THAT(validate(o), Contains("--leader-elect-resource-name"));

  o = usable();
  o.lease_namespace = "";
  CHECK(validate(o) == "--leader-elect-resource-namespace is required");
  o.lease_namespace = "team.a";
  CHECK_THAT(validate(o), Contains("--leader-elect-resource-namespace must be a DNS label") &&
                              Contains("\"team.a\""));

  o = usable();
  o.identity = "";
  CHECK(validate(o) == "the leader election identity is empty");
}

TEST_CASE("the identity is POD_NAME and 128 random bits, new on every call", "[kube][leader]") {
  pod_name_env env("web-0");
  const std::string a = leader_identity();
  const std::string b = leader_identity();
  CHECK(a != b);
  REQUIRE(a.rfind("web-0_", 0) == 0);
  const std::string suffix = a.substr(6);
  CHECK(suffix.size() == 32);
  CHECK(is_lower_hex(suffix));
}

TEST_CASE("without POD_NAME the identity starts with the hostname", "[kube][leader]") {
  char host[256] = {};
  REQUIRE(gethostname(host, sizeof host - 1) == 0);
  for (const char* value : {static_cast<const char*>(nullptr), ""}) {
    pod_name_env env(value);
    const std::string id = leader_identity();
    CHECK(id.rfind(std::string(host) + "_", 0) == 0);
    CHECK(id.size() == std::string(host).size() + 33);
  }
}
