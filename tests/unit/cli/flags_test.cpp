#include "netpol_guard/cli/flags.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "netpol_guard/server/server_config.hpp"

using namespace netpol_guard::cli;
using Catch::Matchers::Contains;
using std::chrono::milliseconds;

namespace {

using strings = std::vector<std::string>;

// A flag set shaped like `serve`'s, with its defaults.
struct serve_flags {
  std::string listen = "0.0.0.0:8443";
  std::vector<std::string> exempt{"kube-system", "kube-public", "kube-node-lease"};
  bool audit_only = false;
  bool check_workloads = true;
  std::size_t max_bytes = 8388608;
  milliseconds timeout{10'000};
  flag_set set{"serve"};

  serve_flags() {
    set.add_string("listen", &listen, "address to listen on");
    set.add_list("exempt-namespaces", &exempt, "namespaces always allowed");
    set.add_bool("audit-only", &audit_only, "never deny");
    set.add_bool("check-workloads", &check_workloads, "check workloads");
    set.add_size("max-request-bytes", &max_bytes, "largest body");
    set.add_duration("request-timeout", &timeout, "deadline per request");
  }

  strings parse_ok(const strings& args) {
    auto parsed = set.parse(args);
    INFO("error: " << (parsed ? "" : parsed.error()));
    REQUIRE(parsed.has_value());
    return *parsed;
  }

  std::string parse_fails(const strings& args) {
    auto parsed = set.parse(args);
    REQUIRE_FALSE(parsed.has_value());
    const std::string error = parsed.error();
    CHECK_FALSE(error.empty());
    CHECK(error.find('\n') == std::string::npos);
    return error;
  }
};

}  // namespace

TEST_CASE("defaults stay when no flag is given", "[cli]") {
  serve_flags f;
  CHECK(f.parse_ok({}).empty());
  CHECK(f.listen == "0.0.0.0:8443");
  CHECK(f.exempt == strings{"kube-system", "kube-public", "kube-node-lease"});
  CHECK_FALSE(f.audit_only);
  CHECK(f.check_workloads);
  CHECK_FALSE(f.set.was_set("listen"));
}

TEST_CASE("flags as name=value and as name value", "[cli]") {
  serve_flags f;
  SECTION("with =") {
    f.parse_ok({"--listen=127.0.0.1:9443"});
    CHECK(f.listen == "127.0.0.1:9443");
    CHECK(f.set.was_set("listen"));
  }
  SECTION("as the next argument") {
    f.parse_ok({"--listen", "127.0.0.1:9443"});
    CHECK(f.listen == "127.0.0.1:9443");
  }
  SECTION("a single dash works too") {
    f.parse_ok({"-listen=[::1]:9443"});
    CHECK(f.listen == "[::1]:9443");
  }
  SECTION("a value that itself contains =") {
    f.parse_ok({"--listen=a=b"});
    CHECK(f.listen == "a=b");
  }
  SECTION("an empty value with =") {
    f.parse_ok({"--listen="});
    CHECK(f.listen.empty());
  }
  SECTION("the last use wins") {
    f.parse_ok({"--listen=a:1", "--listen", "b:2"});
    CHECK(f.listen == "b:2");
  }
  SECTION("a flag with no value at the end is an error") {
    auto err = f.parse_fails({"--listen"});
    CHECK_THAT(err, Contains("--listen") && Contains("value"));
  }
}

TEST_CASE("booleans", "[cli]") {
  serve_flags f;
  SECTION("bare flag sets true") {
    f.parse_ok({"--audit-only"});
    CHECK(f.audit_only);
  }
  SECTION("=false turns a default-true flag off") {
    f.parse_ok({"--check-workloads=false"});
    CHECK_FALSE(f.check_workloads);
    CHECK(f.set.was_set("check-workloads"));
  }
  SECTION("=true, =1, =0") {
    f.parse_ok({"--audit-only=true", "--check-workloads=0"});
    CHECK(f.audit_only);
    CHECK_FALSE(f.check_workloads);
    f.parse_ok({"--check-workloads=1"});
    CHECK(f.check_workloads);
  }
  SECTION("a bare boolean does not swallow the next argument") {
    auto positional = f.parse_ok({"--audit-only", "false"});
    CHECK(f.audit_only);
    CHECK(positional == strings{"false"});
  }
  SECTION("anything else is an error") {
    auto err = f.parse_fails({"--audit-only=maybe"});
    CHECK_THAT(err, Contains("--audit-only") && Contains("maybe"));
  }
}

TEST_CASE("lists replace the default, then append", "[cli]") {
  serve_flags f;
  SECTION("one use replaces the default") {
    f.parse_ok({"--exempt-namespaces=ops"});
    CHECK(f.exempt == strings{"ops"});
  }
  SECTION("comma lists, spaces and empty items dropped") {
    f.parse_ok({"--exempt-namespaces", "ops, monitoring,,kube-system"});
    CHECK(f.exempt == strings{"ops", "monitoring", "kube-system"});
  }
  SECTION("later uses append") {
    f.parse_ok({"--exempt-namespaces=ops", "--exempt-namespaces", "monitoring,logging"});
    CHECK(f.exempt == strings{"ops", "monitoring", "logging"});
  }
  SECTION("an empty value empties the list") {
    f.parse_ok({"--exempt-namespaces="});
    CHECK(f.exempt.empty());
  }
}

TEST_CASE("split_list", "[cli]") {
  CHECK(split_list("") == strings{});
  CHECK(split_list("a") == strings{"a"});
  CHECK(split_list("a,b") == strings{"a", "b"});
  CHECK(split_list(" a , b ,") == strings{"a", "b"});
  CHECK(split_list(",,") == strings{});
}

TEST_CASE("sizes", "[cli]") {
  serve_flags f;
  f.parse_ok({"--max-request-bytes=1048576"});
  CHECK(f.max_bytes == 1048576);
  CHECK_THAT(f.parse_fails({"--max-request-bytes=1MB"}), Contains("--max-request-bytes"));
  f.parse_fails({"--max-request-bytes="});
  f.parse_fails({"--max-request-bytes=12abc"});
  CHECK(f.max_bytes == 1048576);
}

TEST_CASE("a negative size is refused, not wrapped around to a huge limit", "[cli]") {
  serve_flags f;
  auto err = f.parse_fails({"--max-request-bytes=-1"});
  CHECK_THAT(err, Contains("--max-request-bytes"));
  CHECK(f.max_bytes == 8388608);
}

TEST_CASE("durations", "[cli]") {
  CHECK(parse_duration("500ms") == milliseconds(500));
  CHECK(parse_duration("10s") == milliseconds(10'000));
  CHECK(parse_duration("2m") == milliseconds(120'000));
  CHECK(parse_duration("1h") == milliseconds(3'600'000));
  CHECK(parse_duration("1m30s") == milliseconds(90'000));
  CHECK(parse_duration("1h2m3s4ms") == milliseconds(3'723'004));
  CHECK(parse_duration("1.5s") == milliseconds(1'500));
  CHECK(parse_duration("0") == milliseconds(0));
  CHECK(parse_duration("0s") == milliseconds(0));

  for (const char* bad : {"", "bad", "10", "s", "ms", "10x", "10 s", " 10s", "1m30", "-1s"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(parse_duration(bad));
  }

  serve_flags f;
  f.parse_ok({"--request-timeout=1m30s"});
  CHECK(f.timeout == milliseconds(90'000));
  f.parse_ok({"--request-timeout", "500ms"});
  CHECK(f.timeout == milliseconds(500));
  auto err = f.parse_fails({"--request-timeout=soon"});
  CHECK_THAT(err, Contains("--request-timeout") && Contains("soon"));
  CHECK(f.timeout == milliseconds(500));
}

TEST_CASE("durations with malformed numbers are refused", "[cli]") {
  // As Go's time.ParseDuration: a number has at most one '.', and some digit.
  for (const char* bad : {"1.2.3s", "1..5s", ".s", "..ms"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(parse_duration(bad));
  }
}

TEST_CASE("unknown flags are errors that name the flag and the command", "[cli]") {
  serve_flags f;
  auto err = f.parse_fails({"--listen=:1", "--no-such-flag=1"});
  CHECK_THAT(err, Contains("--no-such-flag") && Contains("serve"));
  CHECK_THAT(f.parse_fails({"--audit"}), Contains("--audit"));
}

TEST_CASE("positional arguments and --", "[cli]") {
  serve_flags f;
  auto positional = f.parse_ok({"a.yaml", "--audit-only", "dir/", "-", "--", "--listen=x", "b"});
  CHECK(positional == strings{"a.yaml", "dir/", "-", "--listen=x", "b"});
  CHECK(f.audit_only);
  CHECK(f.listen == "0.0.0.0:8443");
}

TEST_CASE("usage lists every flag with its default", "[cli]") {
  serve_flags f;
  const auto u = f.set.usage();
  CHECK_THAT(u, Contains("netpol-guard serve"));
  CHECK_THAT(u, Contains("--listen value") && Contains("0.0.0.0:8443"));
  CHECK_THAT(
      u, Contains("--exempt-namespaces") && Contains("kube-system,kube-public,kube-node-lease"));
  CHECK_THAT(u, Contains("--audit-only") && Contains("--check-workloads"));
  // The printed default is a duration the flag itself accepts.
  const std::string key = "deadline per request (default ";
  auto at = u.find(key);
  REQUIRE(at != std::string::npos);
  at += key.size();
  const std::string shown = u.substr(at, u.find(')', at) - at);
  INFO("shown default: " << shown);
  CHECK(parse_duration(shown) == milliseconds(10'000));
}

namespace {

// The resource-limit flags of `serve`, on a server_config as serve declares them.
struct limit_flags {
  netpol_guard::server_config config;
  flag_set set{"serve"};
  limit_flags() {
    set.add_size("max-request-bytes", &config.max_request_bytes, "largest body");
    set.add_size("max-connections", &config.max_connections, "open connections");
    set.add_size("max-connections-per-source", &config.max_connections_per_source, "per source");
    set.add_size("max-buffered-request-bytes", &config.max_buffered_request_bytes, "budget");
    set.add_size("max-buffered-request-bytes-per-source",
                 &config.max_buffered_request_bytes_per_source, "per source");
    set.add_duration("first-request-timeout", &config.first_request_timeout, "first request");
  }
  std::string parse(const strings& args) {
    if (auto parsed = set.parse(args); !parsed) return "parse: " + parsed.error();
    auto limits = netpol_guard::check_limits(config);
    return limits ? std::string{} : limits.error();
  }
};

}  // namespace

TEST_CASE("resource limit defaults fit the shipped 256Mi pod and the apiserver's requests",
          "[cli]") {
  limit_flags f;
  CHECK(f.parse({}).empty());
  CHECK(f.config.max_buffered_request_bytes == 64u * 1024 * 1024);
  CHECK(f.config.max_buffered_request_bytes_per_source == 16u * 1024 * 1024);
  // The largest single request always fits one source's share.
  CHECK(f.config.max_buffered_request_bytes_per_source >= f.config.max_request_bytes);
  CHECK(f.config.max_buffered_request_bytes < 256u * 1024 * 1024 / 2);
  CHECK(f.config.max_connections_per_source == 128);
  CHECK(f.config.first_request_timeout == milliseconds(5'000));
  CHECK(f.config.health_max_connections == 64);
  CHECK(f.config.health_max_connections_per_source == 16);
  CHECK(f.config.health_first_request_timeout == milliseconds(2'000));
}

TEST_CASE("resource limit flags parse and contradictions are refused with the flag's name",
          "[cli]") {
  limit_flags f;
  SECTION("values are taken") {
    CHECK(f.parse({"--max-connections-per-source=16", "--max-buffered-request-bytes=33554432",
                   "--max-buffered-request-bytes-per-source=8388608", "--first-request-timeout=2s"})
              .empty());
    CHECK(f.config.max_connections_per_source == 16);
    CHECK(f.config.max_buffered_request_bytes == 33554432);
    CHECK(f.config.max_buffered_request_bytes_per_source == 8388608);
    CHECK(f.config.first_request_timeout == milliseconds(2'000));
  }
  SECTION("a per-source share below the largest request") {
    CHECK_THAT(
        f.parse({"--max-buffered-request-bytes-per-source=1048576"}),
        Contains("--max-buffered-request-bytes-per-source") && Contains("--max-request-bytes"));
  }
  SECTION("a total below the per-source share") {
    CHECK_THAT(f.parse({"--max-buffered-request-bytes=8388608"}),
               Contains("--max-buffered-request-bytes must be at least"));
  }
  SECTION("zero connections per source, or a zero first-request timeout") {
    CHECK_THAT(f.parse({"--max-connections-per-source=0"}),
               Contains("--max-connections-per-source"));
    CHECK_THAT(f.parse({"--max-connections-per-source=1", "--first-request-timeout=0"}),
               Contains("--first-request-timeout"));
  }
  SECTION("a per-source limit above the total is allowed: the total bounds it") {
    CHECK(f.parse({"--max-connections=3"}).empty());
  }
  SECTION("a negative budget is a parse error, not a huge number") {
    CHECK_THAT(f.parse({"--max-buffered-request-bytes=-1"}),
               Contains("parse: ") && Contains("--max-buffered-request-bytes"));
  }
}

TEST_CASE("a duration's default is printed in its largest whole unit", "[cli]") {
  struct printed {
    milliseconds value;
    std::string shown;
  };
  for (const auto& [value, shown] :
       {printed{std::chrono::hours(2160), "2160h"}, printed{std::chrono::minutes(90), "90m"},
        printed{milliseconds(120'000), "2m"}, printed{milliseconds(90'000), "90s"},
        printed{milliseconds(1'500), "1500ms"}}) {
    milliseconds target = value;
    flag_set set{"serve"};
    set.add_duration("d", &target, "a duration");
    INFO(shown);
    CHECK_THAT(set.usage(), Contains("a duration (default " + shown + ")"));
    CHECK(parse_duration(shown) == value);
  }
}
