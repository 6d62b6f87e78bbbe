#include "netpol_guard/cli/process_stats.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
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

// The state-derived gauges both the sample checks and the golden use.
state_gauges example_gauges() {
  state_gauges g;
  g.namespaces = 7;
  g.non_compliant = 3;
  g.missing_ingress = 2;
  g.missing_egress = 3;
  g.exemptions_active = 2;
  g.exemptions_expired = 1;
  g.earliest_exemption_expiry_seconds = 1793836800;
  g.state_age_seconds = 1.5;
  g.ready = true;
  return g;
}

// Six requests over four decisions, five kinds (one not watched) and four operations.
void count_example_requests(admission_stats& a) {
  a.count_request(verdict::denied, "Pod", "CREATE");
  a.count_request(verdict::denied, "Pod", "CREATE");
  a.count_request(verdict::allowed, "Deployment", "UPDATE");
  a.count_request(verdict::audited, "NetworkPolicy", "DELETE");
  a.count_request(verdict::warned, "Namespace", "CREATE");
  a.count_request(verdict::allowed, "ConfigMap", "PATCH");
}

}  // namespace

TEST_CASE("requests are counted by decision, kind and operation", "[stats]") {
  process_stats m;
  CHECK(m.admission.requests_total() == 0);
  count_example_requests(m.admission);
  CHECK(m.admission.requests_total() == 6);

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

TEST_CASE("every workload kind has its own label", "[stats]") {
  process_stats m;
  for (const char* kind :
       {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob"}) {
    m.admission.count_request(verdict::denied, kind, "CREATE");
  }
  auto s = samples(m.render({}));
  for (const char* kind :
       {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob"}) {
    INFO(kind);
    CHECK(sample(s, requests + R"({decision="denied",kind=")" + kind +
                        R"(",operation="CREATE"})") == 1);
  }
}

TEST_CASE("the latency histogram is cumulative", "[stats]") {
  process_stats m;
  m.admission.observe_latency(0.00003);  // first bucket
  m.admission.observe_latency(0.0003);   // le 0.0005
  m.admission.observe_latency(0.001);    // exactly a bound: le 0.001
  m.admission.observe_latency(0.3);      // le 0.5
  m.admission.observe_latency(5.0);      // +Inf only

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
  REQUIRE(counts.size() == admission_stats::latency_buckets.size() + 1);
  for (std::size_t i = 1; i < counts.size(); ++i) CHECK(counts[i] >= counts[i - 1]);
}

TEST_CASE("an empty histogram is all zeros", "[stats]") {
  process_stats m;
  auto s = samples(m.render({}));
  CHECK(sample(s, bucket + R"({le="+Inf"})") == 0);
  CHECK(sample(s, "netpol_guard_admission_duration_seconds_count") == 0);
  CHECK(sample(s, "netpol_guard_admission_duration_seconds_sum") == 0);
}

TEST_CASE("errors are counted by reason", "[stats]") {
  process_stats m;
  m.admission.count_error(admission_error::malformed_json);
  m.admission.count_error(admission_error::malformed_json);
  m.server.count_error(server_error::body_too_large);
  CHECK(m.admission.errors(admission_error::malformed_json) == 2);
  CHECK(m.server.errors(server_error::body_too_large) == 1);
  CHECK(m.admission.errors(admission_error::missing_uid) == 0);

  const auto text = m.render({});
  CHECK_THAT(text, Contains("# TYPE netpol_guard_errors_total counter"));
  auto s = samples(text);
  CHECK(sample(s, R"(netpol_guard_errors_total{reason="malformed_json"})") == 2);
  CHECK(sample(s, R"(netpol_guard_errors_total{reason="body_too_large"})") == 1);
  // Every reason is exported, zero or not, so rate() works from the start.
  CHECK(sample(s, R"(netpol_guard_errors_total{reason="missing_uid"})") == 0);
  CHECK(sample(s, R"(netpol_guard_errors_total{reason="tls_handshake"})") == 0);
}

TEST_CASE("codec error reasons map to their metric reasons", "[stats]") {
  for (const char* reason :
       {"malformed_json", "not_admission_review", "wrong_type", "duplicate_key", "too_deep",
        "missing_request", "missing_uid", "missing_operation", "unsupported_version"}) {
    INFO(reason);
    auto r = admission_stats::error_from(reason);
    CHECK(r != admission_error::internal);
    CHECK(std::string(to_string(r)) == reason);
  }
  CHECK(admission_stats::error_from("no_such_reason") == admission_error::internal);
  CHECK(admission_stats::error_from("") == admission_error::internal);
}

TEST_CASE("state gauges and other counters are rendered", "[stats]") {
  process_stats m;
  m.admission.count_confirmation(confirmation::overturned);
  m.admission.count_confirmation(confirmation::confirmed);
  m.admission.count_confirmation(confirmation::confirmed);
  m.kube.count_relist();
  m.tls.count_cert_reload(true);
  m.tls.count_cert_reload(false);
  m.kube.count_provisioned(true);
  m.server.connection_opened();
  m.server.connection_opened();
  m.server.connection_closed();

  const state_gauges g = example_gauges();
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
  CHECK(sample(s, R"(netpol_guard_exemptions{state="active"})") == 2);
  CHECK(sample(s, R"(netpol_guard_exemptions{state="expired"})") == 1);
  CHECK(sample(s, "netpol_guard_exemption_earliest_expiry_timestamp_seconds") == 1793836800);
  CHECK(sample(s, "netpol_guard_admitted_by_exemption_total") == 0);
  m.admission.count_admitted_by_exemption();
  m.admission.count_admitted_by_exemption();
  CHECK(sample(samples(m.render(g)), "netpol_guard_admitted_by_exemption_total") == 2);

  auto not_ready = samples(process_stats{}.render(state_gauges{}));
  CHECK(sample(not_ready, "netpol_guard_ready") == 0);
  CHECK(sample(not_ready, "netpol_guard_namespaces") == 0);
  // No active exemption: the timestamp is 0, which alerts read as "none".
  CHECK(sample(not_ready, "netpol_guard_exemption_earliest_expiry_timestamp_seconds") == 0);
}

TEST_CASE("the earliest exemption expiry keeps all ten digits", "[stats]") {
  state_gauges g;
  g.earliest_exemption_expiry_seconds = 1893456001;
  CHECK_THAT(process_stats{}.render(g),
             Contains("\nnetpol_guard_exemption_earliest_expiry_timestamp_seconds 1893456001\n"));
}

TEST_CASE("the certificate expiry is the last notAfter set, in whole seconds", "[stats]") {
  process_stats m;
  CHECK(sample(samples(m.render({})), "netpol_guard_certificate_expiry_timestamp_seconds") == 0);
  // 10 digits: a rounding format would print 1.79e+09 and lose minutes.
  m.tls.set_certificate_expiry(1793836800);
  auto text = m.render({});
  CHECK_THAT(text, Contains("\nnetpol_guard_certificate_expiry_timestamp_seconds 1793836800\n"));
  CHECK_THAT(text, Contains("# TYPE netpol_guard_certificate_expiry_timestamp_seconds gauge\n"));
  m.tls.set_certificate_expiry(1893456000);
  CHECK(sample(samples(m.render({})), "netpol_guard_certificate_expiry_timestamp_seconds") ==
        1893456000);
}

TEST_CASE("each metric family has one HELP and one TYPE line", "[stats]") {
  process_stats m;
  m.admission.count_request(verdict::allowed, "Pod", "CREATE");
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

TEST_CASE("connection evictions, refusals, over-budget requests and the budget gauge", "[stats]") {
  process_stats m;
  m.server.count_eviction(listener::webhook);
  m.server.count_eviction(listener::webhook);
  m.server.count_eviction(listener::health);
  m.server.count_refused_connection(listener::webhook, refusal::per_source_limit);
  m.server.count_refused_connection(listener::health, refusal::connection_limit);
  m.server.count_over_budget(budget_scope::per_source);
  m.server.add_buffered_bytes(3000);
  m.server.add_buffered_bytes(-1000);
  CHECK(m.server.evictions(listener::webhook) == 2);
  CHECK(m.server.refused_connections(listener::webhook, refusal::per_source_limit) == 1);
  CHECK(m.server.over_budget(budget_scope::total) == 0);

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

namespace {

std::string fixture_text(const std::string& name) {
  std::ifstream in(std::string(NETPOL_GUARD_FIXTURES) + "/telemetry/" + name, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Counts every error reason i%4 times, in the order of netpol_guard_errors_total's samples.
void count_errors(process_stats& m) {
  int i = 0;
  auto times = [&i](auto&& bump) {
    for (int k = 0; k < i % 4; ++k) bump();
    ++i;
  };
  for (int e = 0; e < static_cast<int>(admission_error::internal); ++e) {
    times([&] { m.admission.count_error(static_cast<admission_error>(e)); });
  }
  for (int e = 0; e < static_cast<int>(server_error::count_); ++e) {
    times([&] { m.server.count_error(static_cast<server_error>(e)); });
  }
  times([&] { m.admission.count_error(admission_error::internal); });
  times([&] { m.tls.count_error(tls_error::cert_reload); });
  times([&] { m.admission.count_error(admission_error::confirm_failed); });
  times([&] { m.kube.count_error(kube::kube_error::watch_failed); });
  times([&] { m.kube.count_error(kube::kube_error::provision_failed); });
  times([&] { m.kube.count_error(kube::kube_error::lease_failed); });
  times([&] { m.kube.count_error(kube::kube_error::report_failed); });
  times([&] { m.kube.count_error(kube::kube_error::reports_not_served); });
  times([&] { m.kube.count_error(kube::kube_error::event_failed); });
  times([&] { m.offline.count_error(offline_state_error::policy_reload); });
}

}  // namespace

// The goldens were rendered by the single metrics class before the stats were
// split by component, with these counts: the exposition must not change. The
// rollout's families (exemptions, admitted by exemption) were appended at the end, then
// the reports' (leader, report writes, drift Events), and the error reasons of the Lease,
// the reports and the Events after the other kube reasons.
TEST_CASE("the exposition is byte for byte the one before the split", "[stats]") {
  SECTION("nothing counted") {
    CHECK(process_stats{}.render(state_gauges{}) == fixture_text("exposition_zero.txt"));
  }
  SECTION("every family counted") {
    process_stats m;
    count_example_requests(m.admission);
    m.admission.count_request(verdict::allowed, "CronJob", "CONNECT");
    for (double s : {0.00003, 0.0003, 0.001, 0.3, 5.0}) m.admission.observe_latency(s);
    count_errors(m);
    m.admission.count_confirmation(confirmation::overturned);
    m.admission.count_confirmation(confirmation::confirmed);
    m.admission.count_confirmation(confirmation::confirmed);
    m.admission.count_confirmation(confirmation::unavailable);
    for (int i = 0; i < 3; ++i) m.kube.count_relist();
    m.tls.count_cert_reload(true);
    m.tls.count_cert_reload(true);
    m.tls.count_cert_reload(false);
    m.kube.count_provisioned(true);
    m.kube.count_provisioned(true);
    m.kube.count_provisioned(false);
    m.kube.count_provision_conflict();
    for (int i = 0; i < 3; ++i) m.server.connection_opened();
    m.server.connection_closed();
    m.tls.set_certificate_expiry(1793836800);
    m.server.count_eviction(listener::webhook);
    m.server.count_eviction(listener::webhook);
    m.server.count_eviction(listener::health);
    m.server.count_refused_connection(listener::webhook, refusal::per_source_limit);
    m.server.count_refused_connection(listener::webhook, refusal::connection_limit);
    m.server.count_refused_connection(listener::webhook, refusal::connection_limit);
    m.server.count_refused_connection(listener::health, refusal::connection_limit);
    m.server.count_over_budget(budget_scope::per_source);
    m.server.count_over_budget(budget_scope::total);
    m.server.count_over_budget(budget_scope::total);
    m.server.add_buffered_bytes(3000);
    m.server.add_buffered_bytes(-1000);
    for (int i = 0; i < 4; ++i) m.admission.count_admitted_by_exemption();
    m.kube.set_leader(true);
    m.kube.count_leader_transition();
    m.kube.count_report_write(kube::report_write::written);
    m.kube.count_report_write(kube::report_write::written);
    m.kube.count_report_write(kube::report_write::unchanged);
    m.kube.count_report_write(kube::report_write::failure);
    m.kube.count_event(true);
    m.kube.count_event(false);
    const state_gauges g = example_gauges();
    CHECK(m.render(g) == fixture_text("exposition_counted.txt"));
  }
}
