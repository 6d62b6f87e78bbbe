#include "netpol_guard/telemetry/metrics.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace netpol_guard;
using Catch::Matchers::Contains;

namespace {

// Samples of the exposition text: "name{labels}" -> value. Checks the format
// on the way: every sample line is "<series> <number>".
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.rfind(' ');
    REQUIRE(space != std::string::npos);
    const std::string series = line.substr(0, space);
    const std::string value = line.substr(space + 1);
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    INFO(line);
    REQUIRE(end != value.c_str());
    REQUIRE(*end == '\0');
    CHECK(out.count(series) == 0);
    out[series] = v;
  }
  return out;
}

double sample(const std::map<std::string, double>& s, const std::string& series) {
  auto it = s.find(series);
  INFO("series " << series);
  REQUIRE(it != s.end());
  return it->second;
}

const std::string requests = "netpol_guard_admission_requests_total";
const std::string bucket = "netpol_guard_admission_duration_seconds_bucket";

}  // namespace

TEST_CASE("requests are counted by decision, kind and operation", "[metrics]") {
  metrics m;
  CHECK(m.requests_total() == 0);
  m.count_request(verdict::denied, "Pod", "CREATE");
  m.count_request(verdict::denied, "Pod", "CREATE");
  m.count_request(verdict::allowed, "Deployment", "UPDATE");
  m.count_request(verdict::audited, "NetworkPolicy", "DELETE");
  m.count_request(verdict::warned, "Namespace", "CREATE");
  m.count_request(verdict::allowed, "ConfigMap", "PATCH");
  CHECK(m.requests_total() == 6);

  const auto text = m.render({});
  CHECK_THAT(text, Contains("# TYPE " + requests + " counter"));
  auto s = samples(text);
  CHECK(sample(s, requests + R"({decision="denied",kind="Pod",operation="CREATE"})") == 2);
  CHECK(sample(s, requests + R"({decision="allowed",kind="Deployment",operation="UPDATE"})") == 1);
  CHECK(sample(s, requests + R"({decision="audit",kind="NetworkPolicy",operation="DELETE"})") == 1);
  CHECK(sample(s, requests + R"({decision="warned",kind="Namespace",operation="CREATE"})") == 1);
  // Unknown kinds and operations fold into "other": the label set stays bounded.
  CHECK(sample(s, requests + R"({decision="allowed",kind="other",operation="other"})") == 1);
  CHECK(s.count(requests + R"({decision="allowed",kind="Pod",operation="CREATE"})") == 0);
}

TEST_CASE("every workload kind has its own label", "[metrics]") {
  metrics m;
  for (const char* kind :
       {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob"}) {
    m.count_request(verdict::denied, kind, "CREATE");
  }
  auto s = samples(m.render({}));
  for (const char* kind :
       {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob"}) {
    INFO(kind);
    CHECK(sample(s, requests + R"({decision="denied",kind=")" + kind +
                        R"(",operation="CREATE"})") == 1);
  }
}

TEST_CASE("the latency histogram is cumulative", "[metrics]") {
  metrics m;
  m.observe_latency(0.00003);  // first bucket
  m.observe_latency(0.0003);   // le 0.0005
  m.observe_latency(0.001);    // exactly a bound: le 0.001
  m.observe_latency(0.3);      // le 0.5
  m.observe_latency(5.0);      // +Inf only

  const auto text = m.render({});
  CHECK_THAT(text, Contains("# TYPE netpol_guard_admission_duration_seconds histogram"));
  auto s = samples(text);
  CHECK(sample(s, bucket + R"({le="5e-05"})") == 1);
  CHECK(sample(s, bucket + R"({le="0.0001"})") == 1);
  CHECK(sample(s, bucket + R"({le="0.0005"})") == 2);
  CHECK(sample(s, bucket + R"({le="0.001"})") == 3);
  CHECK(sample(s, bucket + R"({le="0.25"})") == 3);
  CHECK(sample(s, bucket + R"({le="0.5"})") == 4);
  CHECK(sample(s, bucket + R"({le="1"})") == 4);
  CHECK(sample(s, bucket + R"({le="+Inf"})") == 5);
  CHECK(sample(s, "netpol_guard_admission_duration_seconds_count") == 5);
  CHECK(sample(s, "netpol_guard_admission_duration_seconds_sum") ==
        Approx(0.00003 + 0.0003 + 0.001 + 0.3 + 5.0).epsilon(1e-6));

  // One bucket per bound plus +Inf, in order, never decreasing.
  std::vector<double> counts;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(bucket + "{", 0) == 0) {
      counts.push_back(std::strtod(line.substr(line.rfind(' ')).c_str(), nullptr));
    }
  }
  REQUIRE(counts.size() == metrics::latency_buckets.size() + 1);
  for (std::size_t i = 1; i < counts.size(); ++i) CHECK(counts[i] >= counts[i - 1]);
}

TEST_CASE("an empty histogram is all zeros", "[metrics]") {
  metrics m;
  auto s = samples(m.render({}));
  CHECK(sample(s, bucket + R"({le="+Inf"})") == 0);
  CHECK(sample(s, "netpol_guard_admission_duration_seconds_count") == 0);
  CHECK(sample(s, "netpol_guard_admission_duration_seconds_sum") == 0);
}

TEST_CASE("errors are counted by reason", "[metrics]") {
  metrics m;
  m.count_error(error_reason::malformed_json);
  m.count_error(error_reason::malformed_json);
  m.count_error(error_reason::body_too_large);
  CHECK(m.errors(error_reason::malformed_json) == 2);
  CHECK(m.errors(error_reason::body_too_large) == 1);
  CHECK(m.errors(error_reason::missing_uid) == 0);

  const auto text = m.render({});
  CHECK_THAT(text, Contains("# TYPE netpol_guard_errors_total counter"));
  auto s = samples(text);
  CHECK(sample(s, R"(netpol_guard_errors_total{reason="malformed_json"})") == 2);
  CHECK(sample(s, R"(netpol_guard_errors_total{reason="body_too_large"})") == 1);
  // Every reason is exported, zero or not, so rate() works from the start.
  CHECK(sample(s, R"(netpol_guard_errors_total{reason="missing_uid"})") == 0);
  CHECK(sample(s, R"(netpol_guard_errors_total{reason="tls_handshake"})") == 0);
}

TEST_CASE("codec error reasons map to their metric reasons", "[metrics]") {
  for (const char* reason :
       {"malformed_json", "not_admission_review", "wrong_type", "duplicate_key", "too_deep",
        "missing_request", "missing_uid", "missing_operation", "unsupported_version"}) {
    INFO(reason);
    auto r = error_reason_from(reason);
    CHECK(r != error_reason::internal);
    CHECK(std::string(to_string(r)) == reason);
  }
  CHECK(error_reason_from("no_such_reason") == error_reason::internal);
  CHECK(error_reason_from("") == error_reason::internal);
}

TEST_CASE("state gauges and other counters are rendered", "[metrics]") {
  metrics m;
  m.count_confirmation("overturned");
  m.count_confirmation("confirmed");
  m.count_confirmation("confirmed");
  m.count_relist();
  m.count_cert_reload(true);
  m.count_cert_reload(false);
  m.count_provisioned(true);
  m.connection_opened();
  m.connection_opened();
  m.connection_closed();

  state_gauges g;
  g.namespaces = 7;
  g.non_compliant = 3;
  g.missing_ingress = 2;
  g.missing_egress = 3;
  g.state_age_seconds = 1.5;
  g.ready = true;
  auto s = samples(m.render(g));
  CHECK(sample(s, "netpol_guard_namespaces") == 7);
  CHECK(sample(s, R"(netpol_guard_noncompliant_namespaces{direction="any"})") == 3);
  CHECK(sample(s, R"(netpol_guard_noncompliant_namespaces{direction="ingress"})") == 2);
  CHECK(sample(s, R"(netpol_guard_noncompliant_namespaces{direction="egress"})") == 3);
  CHECK(sample(s, "netpol_guard_state_age_seconds") == Approx(1.5));
  CHECK(sample(s, "netpol_guard_ready") == 1);
  CHECK(sample(s, R"(netpol_guard_confirmations_total{result="overturned"})") == 1);
  CHECK(sample(s, R"(netpol_guard_confirmations_total{result="confirmed"})") == 2);
  CHECK(sample(s, R"(netpol_guard_confirmations_total{result="unavailable"})") == 0);
  CHECK(sample(s, "netpol_guard_relists_total") == 1);
  CHECK(sample(s, R"(netpol_guard_cert_reloads_total{result="success"})") == 1);
  CHECK(sample(s, R"(netpol_guard_cert_reloads_total{result="failure"})") == 1);
  CHECK(sample(s, R"(netpol_guard_provisioned_policies_total{result="success"})") == 1);
  CHECK(sample(s, "netpol_guard_open_connections") == 1);

  auto not_ready = samples(metrics{}.render(state_gauges{}));
  CHECK(sample(not_ready, "netpol_guard_ready") == 0);
  CHECK(sample(not_ready, "netpol_guard_namespaces") == 0);
}

TEST_CASE("the certificate expiry is the last notAfter set, in whole seconds", "[metrics]") {
  metrics m;
  CHECK(sample(samples(m.render({})), "netpol_guard_certificate_expiry_timestamp_seconds") == 0);
  // 10 digits: a rounding format would print 1.79e+09 and lose minutes.
  m.set_certificate_expiry(1793836800);
  auto text = m.render({});
  CHECK_THAT(text, Contains("\nnetpol_guard_certificate_expiry_timestamp_seconds 1793836800\n"));
  CHECK_THAT(text, Contains("# TYPE netpol_guard_certificate_expiry_timestamp_seconds gauge\n"));
  m.set_certificate_expiry(1893456000);
  CHECK(sample(samples(m.render({})), "netpol_guard_certificate_expiry_timestamp_seconds") ==
        1893456000);
}

TEST_CASE("each metric family has one HELP and one TYPE line", "[metrics]") {
  metrics m;
  m.count_request(verdict::allowed, "Pod", "CREATE");
  const auto text = m.render({});
  std::map<std::string, int> types;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      auto name = line.substr(7, line.find(' ', 7) - 7);
      ++types[name];
    }
  }
  REQUIRE_FALSE(types.empty());
  for (const auto& [name, n] : types) {
    INFO(name);
    CHECK(n == 1);
    CHECK_THAT(text, Contains("# HELP " + name + " "));
  }
}

TEST_CASE("connection evictions, refusals, over-budget requests and the budget gauge",
          "[metrics]") {
  metrics m;
  m.count_eviction(listener::webhook);
  m.count_eviction(listener::webhook);
  m.count_eviction(listener::health);
  m.count_refused_connection(listener::webhook, refusal::per_source_limit);
  m.count_refused_connection(listener::health, refusal::connection_limit);
  m.count_over_budget(budget_scope::per_source);
  m.add_buffered_bytes(3000);
  m.add_buffered_bytes(-1000);
  CHECK(m.evictions(listener::webhook) == 2);
  CHECK(m.refused_connections(listener::webhook, refusal::per_source_limit) == 1);
  CHECK(m.over_budget(budget_scope::total) == 0);

  auto s = samples(m.render({}));
  const std::string evicted = "netpol_guard_connections_evicted_total";
  const std::string refused = "netpol_guard_connections_refused_total";
  const std::string over = "netpol_guard_requests_over_budget_total";
  CHECK(sample(s, evicted + R"({listener="webhook"})") == 2);
  CHECK(sample(s, evicted + R"({listener="health"})") == 1);
  CHECK(sample(s, refused + R"({listener="webhook",reason="per_source_limit"})") == 1);
  CHECK(sample(s, refused + R"({listener="webhook",reason="connection_limit"})") == 0);
  CHECK(sample(s, refused + R"({listener="health",reason="connection_limit"})") == 1);
  CHECK(sample(s, refused + R"({listener="health",reason="per_source_limit"})") == 0);
  CHECK(sample(s, over + R"({budget="per_source"})") == 1);
  CHECK(sample(s, over + R"({budget="total"})") == 0);
  CHECK(sample(s, "netpol_guard_buffered_request_bytes") == 2000);
}
