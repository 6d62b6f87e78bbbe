// The real binary, real TLS, real clients (this test's TLS client and curl).
#include <catch2/catch.hpp>
#include <csignal>
#include <nlohmann/json.hpp>

#include "../support/server_process.hpp"
#include "../support/tls_client.hpp"

using namespace netpol_guard::testing;
using nlohmann::json;

namespace {

std::string examples() { return source_dir() + "/manifests/examples"; }

std::string pod_review(const std::string& ns, const std::string& uid = "uid-1") {
  json r = json::parse(fixture("admission/pod-create.json"));
  r["request"]["namespace"] = ns;
  r["request"]["object"]["metadata"]["namespace"] = ns;
  r["request"]["uid"] = uid;
  return r.dump();
}

json response_of(const http_reply& reply) {
  REQUIRE(reply.status == 200);
  auto doc = json::parse(reply.body);
  REQUIRE(doc.contains("response"));
  return doc;
}

// After any bad input, a valid request on a new connection is still answered.
void still_serving(const server_process& s) {
  auto r = post_once(s.port(), pod_review("team-a", "after-bad-input"));
  REQUIRE(r);
  auto doc = response_of(*r);
  CHECK(doc["response"]["uid"] == "after-bad-input");
  CHECK(doc["response"]["allowed"] == true);
}

}  // namespace

TEST_CASE("serve answers AdmissionReviews over TLS", "[integration]") {
  server_process s({"--policies", examples()});

  SECTION("a compliant namespace is allowed") {
    auto r = post_once(s.port(), pod_review("team-a", "u-allowed"));
    REQUIRE(r);
    auto doc = response_of(*r);
    CHECK(doc["apiVersion"] == "admission.k8s.io/v1");
    CHECK(doc["kind"] == "AdmissionReview");
    CHECK(doc["response"]["uid"] == "u-allowed");
    CHECK(doc["response"]["allowed"] == true);
    CHECK_FALSE(doc["response"].contains("status"));
  }

  SECTION("a namespace without a baseline is denied with a CIS 5.3.2 message") {
    auto r = post_once(s.port(), pod_review("team-c", "u-denied"));
    REQUIRE(r);
    auto doc = response_of(*r);
    CHECK(doc["response"]["allowed"] == false);
    CHECK(doc["response"]["status"]["code"] == 403);
    CHECK(doc["response"]["status"]["reason"] == "Forbidden");
    std::string msg = doc["response"]["status"]["message"];
    CHECK(msg.rfind("CIS 5.3.2", 0) == 0);
    CHECK(msg.find("team-c") != std::string::npos);
    CHECK(msg.find("ingress and egress") != std::string::npos);
    CHECK(msg.find("default-deny-all") != std::string::npos);
    CHECK(msg.find("T1046") != std::string::npos);
    CHECK(s.logs().find("\"msg\":\"denied\"") != std::string::npos);
  }

  SECTION("a half baseline is denied naming the missing direction") {
    auto r = post_once(s.port(), pod_review("team-b"));
    REQUIRE(r);
    std::string msg = response_of(*r)["response"]["status"]["message"];
    CHECK(msg.find("no default-deny egress") != std::string::npos);
  }

  SECTION("v1beta1 is answered in v1beta1") {
    json r = json::parse(pod_review("team-a", "beta"));
    r["apiVersion"] = "admission.k8s.io/v1beta1";
    auto reply = post_once(s.port(), r.dump());
    REQUIRE(reply);
    auto doc = response_of(*reply);
    CHECK(doc["apiVersion"] == "admission.k8s.io/v1beta1");
    CHECK(doc["response"]["uid"] == "beta");
  }

  SECTION("keep-alive: many requests on one connection") {
    tls_client c(s.port());
    std::string error;
    REQUIRE(c.connect(error));
    for (int i = 0; i < 20; ++i) {
      auto r = c.post(pod_review(i % 2 ? "team-a" : "team-c", "ka-" + std::to_string(i)));
      REQUIRE(r);
      CHECK(r->keep_alive);
      auto doc = response_of(*r);
      CHECK(doc["response"]["uid"] == "ka-" + std::to_string(i));
      CHECK(doc["response"]["allowed"] == (i % 2 == 1));
    }
  }

  SECTION("bad input gets its own answer, and the server keeps serving") {
    struct bad_case {
      const char* name;
      std::string body, path, content_type;
      unsigned status;
      const char* reason;
    };
    json no_uid = json::parse(pod_review("team-a"));
    no_uid["request"].erase("uid");
    json no_request = json::parse(pod_review("team-a"));
    no_request.erase("request");
    const bad_case cases[] = {
        {"malformed JSON", "{\"apiVersion\":", "/validate", "application/json", 400,
         "malformed_json"},
        {"not an AdmissionReview", R"({"kind":"Pod"})", "/validate", "application/json", 400,
         "not_admission_review"},
        {"request.uid missing", no_uid.dump(), "/validate", "application/json", 400, "missing_uid"},
        {"request missing", no_request.dump(), "/validate", "application/json", 400,
         "missing_request"},
        {"unknown path", pod_review("team-a"), "/mutate", "application/json", 404, "not_found"},
        {"wrong content type", pod_review("team-a"), "/validate", "text/plain", 415,
         "unsupported_media_type"},
    };
    for (const auto& c : cases) {
      INFO(c.name);
      auto r = post_once(s.port(), c.body, c.path, c.content_type);
      REQUIRE(r);
      CHECK(r->status == c.status);
      CHECK(r->content_type == "application/json");
      auto err = json::parse(r->body);
      CHECK(err["reason"] == c.reason);
      CHECK_FALSE(err["error"].get<std::string>().empty());
      still_serving(s);
    }
  }

  SECTION("wrong method gets 405") {
    tls_client c(s.port());
    std::string error;
    REQUIRE(c.connect(error));
    REQUIRE(c.send("GET /validate HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    auto r = c.read_reply();
    REQUIRE(r);
    CHECK(r->status == 405);
    still_serving(s);
  }

  SECTION("health, readiness and metrics") {
    auto h = http_get(s.health_port(), "/healthz");
    REQUIRE(h);
    CHECK(h->status == 200);
    auto ready = http_get(s.health_port(), "/readyz");
    REQUIRE(ready);
    CHECK(ready->status == 200);
    REQUIRE(post_once(s.port(), pod_review("team-c")));
    REQUIRE(post_once(s.port(), "{bad"));
    auto m = http_get(s.health_port(), "/metrics");
    REQUIRE(m);
    CHECK(m->status == 200);
    CHECK(
        m->body.find(
            R"(netpol_guard_admission_requests_total{decision="denied",kind="Pod",operation="CREATE"} 1)") !=
        std::string::npos);
    CHECK(m->body.find(R"(netpol_guard_errors_total{reason="malformed_json"} 1)") !=
          std::string::npos);
    CHECK(m->body.find("netpol_guard_admission_duration_seconds_bucket{le=\"+Inf\"} 1") !=
          std::string::npos);
    CHECK(m->body.find("netpol_guard_namespaces 3") != std::string::npos);
    CHECK(m->body.find(R"(netpol_guard_noncompliant_namespaces{direction="any"} 2)") !=
          std::string::npos);
  }
}

TEST_CASE("oversize bodies get 413 with the limit stated", "[integration]") {
  server_process s({"--policies", examples(), "--max-request-bytes", "65536"});
  std::string big(70000, ' ');
  auto r = post_once(s.port(), "{" + big + "}");
  REQUIRE(r);
  CHECK(r->status == 413);
  CHECK(r->body.find("65536") != std::string::npos);
  still_serving(s);
}

TEST_CASE("an error answered before the body was read reaches a client that sends it all first",
          "[integration]") {
  // The client writes the whole request before it reads, as the apiserver may:
  // a server that closes with the body unread resets the connection (RST), and
  // the client loses the answer, or cannot even finish sending.
  constexpr std::size_t limit = 65536;
  server_process s({"--policies", examples(), "--max-request-bytes", std::to_string(limit)});
  const std::string body = "{" + std::string(16 * limit, ' ') + "}";
  const std::string post_head =
      "POST /validate HTTP/1.1\r\nHost: localhost\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n";
  struct error_case {
    const char* name;
    std::string request;
    unsigned status;
    const char* reason;
  };
  const error_case cases[] = {
      {"a body just over the limit", "", 413, "body_too_large"},
      {"a body 16 times the limit", post_head + "\r\n" + body, 413, "body_too_large"},
      {"a malformed header before a large body", post_head + "Bad Field: x\r\n\r\n" + body, 400,
       "bad_http"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    for (int i = 0; i < 10; ++i) {
      INFO("attempt " << i);
      std::optional<http_reply> r;
      if (c.request.empty()) {
        r = post_once(s.port(), "{" + std::string(limit + 4000, ' ') + "}");
      } else {
        tls_client client(s.port());
        std::string error;
        REQUIRE(client.connect(error));
        REQUIRE(client.send(c.request));
        r = client.read_reply();
      }
      REQUIRE(r);
      CHECK(r->status == c.status);
      CHECK_FALSE(r->keep_alive);
      CHECK(json::parse(r->body)["reason"] == c.reason);
      if (c.status == 413) CHECK(r->body.find(std::to_string(limit)) != std::string::npos);
    }
  }
  still_serving(s);
}

TEST_CASE("audit-only never denies: warning, audit annotation, log line, metric", "[integration]") {
  server_process s({"--policies", examples(), "--audit-only"});
  auto r = post_once(s.port(), pod_review("team-c", "audit-1"));
  REQUIRE(r);
  auto doc = response_of(*r);
  CHECK(doc["response"]["allowed"] == true);
  REQUIRE(doc["response"]["warnings"].size() == 1);
  std::string w = doc["response"]["warnings"][0];
  CHECK(w.rfind("CIS 5.3.2", 0) == 0);
  CHECK(w.size() <= 256);
  CHECK(doc["response"]["auditAnnotations"].contains("cis-5.3.2-violation"));
  CHECK(s.logs().find("audit: would deny") != std::string::npos);
  auto m = http_get(s.health_port(), "/metrics");
  REQUIRE(m);
  CHECK(m->body.find(R"(decision="audit",kind="Pod",operation="CREATE"} 1)") != std::string::npos);
}

TEST_CASE("curl, a real client, sees the denial", "[integration]") {
  server_process s({"--policies", examples()});
  std::string dir = temp_dir("netpol-guard-curl");
  {
    std::FILE* f = std::fopen((dir + "/review.json").c_str(), "w");
    auto body = pod_review("team-c", "curl-1");
    std::fwrite(body.data(), 1, body.size(), f);
    std::fclose(f);
  }
  auto r = run("curl -sS --max-time 5 --cacert " + certs().ca +
               " -H 'Content-Type: application/json' --data-binary @" + dir +
               "/review.json https://localhost:" + std::to_string(s.port()) + "/validate");
  REQUIRE(r.exit_code == 0);
  auto doc = json::parse(r.out);
  CHECK(doc["response"]["uid"] == "curl-1");
  CHECK(doc["response"]["allowed"] == false);
}

TEST_CASE("startup misconfiguration exits non-zero with one clear line", "[integration]") {
  auto r = run(std::string(NETPOL_GUARD_BINARY) + " serve --policies /nonexistent 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("--tls-cert-file") != std::string::npos);
  r = run(std::string(NETPOL_GUARD_BINARY) + " serve --tls-cert-file " + certs().cert +
          " --tls-private-key-file " + certs().key + " --policies /nonexistent 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("/nonexistent") != std::string::npos);
  r = run(std::string(NETPOL_GUARD_BINARY) + " serve --tls-cert-file " + certs().cert +
          " --tls-private-key-file " + certs().key + " --policies " + examples() +
          " --provision-default-deny 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("needs a cluster connection") != std::string::npos);
}

namespace {

// A --policies directory of Namespace objects carrying the rollout's keys: the
// offline state reads them as the live one reads the cluster's.
std::string rollout_policies() {
  const std::string dir = temp_dir("netpol-guard-rollout");
  std::FILE* f = std::fopen((dir + "/namespaces.yaml").c_str(), "w");
  REQUIRE(f != nullptr);
  const std::string text = R"(apiVersion: v1
kind: Namespace
metadata:
  name: team-warn
  labels:
    netpol-guard.k8s-security-pro.io/mode: warn
---
apiVersion: v1
kind: Namespace
metadata:
  name: team-enforce
  labels:
    netpol-guard.k8s-security-pro.io/mode: enforce
---
apiVersion: v1
kind: Namespace
metadata:
  name: team-exempt
  annotations:
    netpol-guard.k8s-security-pro.io/exempt: all
    netpol-guard.k8s-security-pro.io/exempt-reason: vendor chart under review
    netpol-guard.k8s-security-pro.io/exempt-until: "2999-01-01T00:00:00Z"
)";
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  return dir;
}

}  // namespace

TEST_CASE("serve --policies: a Namespace's mode label and exemption decide its pods",
          "[integration]") {
  const std::string dir = rollout_policies();
  SECTION("enforcing: mode=warn is only warned, as --audit-only would") {
    server_process s({"--policies", dir});
    auto r = post_once(s.port(), pod_review("team-warn", "warn-1"));
    REQUIRE(r);
    auto doc = response_of(*r);
    CHECK(doc["response"]["allowed"] == true);
    REQUIRE(doc["response"]["warnings"].size() == 1);
    const std::string warning = doc["response"]["warnings"][0];
    CHECK(warning.rfind("CIS 5.3.2: namespace \"team-warn\"", 0) == 0);
    CHECK(doc["response"]["auditAnnotations"].contains("cis-5.3.2-violation"));
    auto m = http_get(s.health_port(), "/metrics");
    REQUIRE(m);
    CHECK(m->body.find(R"(decision="audit",kind="Pod",operation="CREATE"} 1)") !=
          std::string::npos);
  }
  SECTION("--audit-only: mode=enforce denies") {
    server_process s({"--policies", dir, "--audit-only"});
    auto r = post_once(s.port(), pod_review("team-enforce", "enforce-1"));
    REQUIRE(r);
    auto doc = response_of(*r);
    CHECK(doc["response"]["allowed"] == false);
    CHECK(doc["response"]["status"]["code"] == 403);
  }
  SECTION("an active exemption admits, with its audit annotations, counted") {
    server_process s({"--policies", dir});
    auto r = post_once(s.port(), pod_review("team-exempt", "exempt-1"));
    REQUIRE(r);
    auto doc = response_of(*r);
    CHECK(doc["response"]["allowed"] == true);
    const auto& a = doc["response"]["auditAnnotations"];
    CHECK(a.value("cis-5.3.2-exempt", "") == "ingress,egress");
    CHECK(a.value("cis-5.3.2-exempt-reason", "") == "vendor chart under review");
    CHECK(a.value("cis-5.3.2-exempt-until", "") == "2999-01-01T00:00:00Z");
    auto m = http_get(s.health_port(), "/metrics");
    REQUIRE(m);
    CHECK(m->body.find("\nnetpol_guard_admitted_by_exemption_total 1\n") != std::string::npos);
    CHECK(m->body.find("\nnetpol_guard_exemptions{state=\"active\"} 1\n") != std::string::npos);
    // 2999-01-01T00:00:00Z, whole.
    const std::string earliest =
        "\nnetpol_guard_exemption_earliest_expiry_timestamp_seconds 32472144000\n";
    CHECK(m->body.find(earliest) != std::string::npos);
  }
}

TEST_CASE("serve refuses a --max-exemption-duration under a second", "[integration]") {
  auto r = run(std::string(NETPOL_GUARD_BINARY) + " serve --tls-cert-file " + certs().cert +
               " --tls-private-key-file " + certs().key + " --policies " + examples() +
               " --max-exemption-duration=0 2>&1");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("--max-exemption-duration must be at least 1s") != std::string::npos);
}
