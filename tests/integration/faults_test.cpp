// Faults under load against the real binary: SIGTERM, certificate rotation,
// the connection limit (eviction when full). Loads are bounded in count and time.
#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "../support/server_process.hpp"
#include "../support/tls_client.hpp"

using namespace netpol_guard::testing;
using nlohmann::json;

namespace {

std::string examples() { return source_dir() + "/manifests/examples"; }

std::string review(const std::string& ns, const std::string& uid) {
  json r = json::parse(fixture("admission/pod-create.json"));
  r["request"]["namespace"] = ns;
  r["request"]["uid"] = uid;
  return r.dump();
}

bool answered_correctly(const std::optional<http_reply>& r, const std::string& uid, bool allowed) {
  if (!r || r->status != 200) return false;
  auto doc = json::parse(r->body, nullptr, false);
  return !doc.is_discarded() && doc["response"]["uid"] == uid &&
         doc["response"]["allowed"] == allowed;
}

// Keep-alive clients sending requests until told to stop, counting outcomes.
struct load {
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, wrong{0}, connect_failed{0};
  std::vector<std::thread> threads;

  load(unsigned short port, int clients, bool new_connection_each_time) {
    for (int t = 0; t < clients; ++t) {
      threads.emplace_back([this, port, t, new_connection_each_time] {
        for (int i = 0; i < 100000 && !stop; ++i) {
          tls_client c(port);
          std::string error;
          if (!c.connect(error)) {
            connect_failed++;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            continue;
          }
          for (int j = 0; j < (new_connection_each_time ? 1 : 50) && !stop; ++j) {
            std::string uid =
                "t" + std::to_string(t) + "-" + std::to_string(i) + "-" + std::to_string(j);
            auto r = c.post(review(j % 2 ? "team-a" : "team-c", uid));
            if (!r) break;  // connection closed by the server (shutdown): reconnect
            if (answered_correctly(r, uid, j % 2 == 1))
              ok++;
            else
              wrong++;
            if (!r->keep_alive) break;
          }
        }
      });
    }
  }
  void finish() {
    stop = true;
    for (auto& t : threads) t.join();
  }
  ~load() {
    if (!threads.empty() && threads.front().joinable()) finish();
  }
};

}  // namespace

TEST_CASE("SIGTERM under load: not ready first, in-flight requests finish, bounded exit",
          "[integration][faults]") {
  server_process s({"--policies", examples(), "--shutdown-delay=1s", "--shutdown-grace-period=5s"});
  load l(s.port(), 4, false);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  REQUIRE(l.ok > 0);
  const auto sent = std::chrono::steady_clock::now();
  ::kill(s.pid(), SIGTERM);
  // Readiness fails at once, while requests are still served.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto ready = http_get(s.health_port(), "/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  int ok_at_term = l.ok;
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK(l.ok > ok_at_term);  // still serving during the shutdown delay
  int status = s.wait_exit(std::chrono::seconds(10));
  const auto took = std::chrono::steady_clock::now() - sent;
  l.finish();
  CHECK(status == 0);
  CHECK(took < std::chrono::seconds(7));  // delay + grace, with margin
  CHECK(l.wrong == 0);                    // no request was answered wrongly
  // After exit, new connections are refused.
  tls_client late(s.port());
  std::string error;
  CHECK_FALSE(late.connect(error, std::chrono::seconds(2)));
  CHECK(s.logs().find("\"msg\":\"stopped\"") != std::string::npos);
}

TEST_CASE("certificate rotated under load: zero failed requests", "[integration][faults]") {
  // A serving certificate of our own, in a directory we rotate.
  std::string dir = temp_dir("netpol-guard-rotate");
  const auto& c = certs();
  auto issue = [&](const std::string& out_prefix, const std::string& cn) {
    std::string cmd = "cd " + dir +
                      " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf && "
                      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
                      out_prefix + ".key -out " + out_prefix + ".csr -subj /CN=" + cn +
                      " 2>/dev/null && "
                      "openssl x509 -req -in " +
                      out_prefix + ".csr -CA " + c.ca + " -CAkey " + c.dir +
                      "/ca.key -CAcreateserial -days 2 -extfile ext.cnf -out " + out_prefix +
                      ".crt 2>/dev/null";
    REQUIRE(run(cmd).exit_code == 0);
  };
  issue("first", "first");
  issue("second", "second");
  REQUIRE(run("cp " + dir + "/first.crt " + dir + "/tls.crt && cp " + dir + "/first.key " + dir +
              "/tls.key")
              .exit_code == 0);
  server_process s({"--policies", examples(), "--tls-cert-file=" + dir + "/tls.crt",
                    "--tls-private-key-file=" + dir + "/tls.key", "--tls-reload-interval=100ms"});
  auto serving_cn = [&] {
    return run("echo | openssl s_client -connect 127.0.0.1:" + std::to_string(s.port()) +
               " -servername localhost 2>/dev/null | openssl x509 -noout -subject")
        .out;
  };
  REQUIRE(serving_cn().find("first") != std::string::npos);
  load keep_alive(s.port(), 2, false);
  load fresh(s.port(), 2, true);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Rotate as a mounted Secret does: new files replace the old ones.
  REQUIRE(run("cp " + dir + "/second.key " + dir + "/tls.key.new && mv " + dir + "/tls.key.new " +
              dir + "/tls.key && cp " + dir + "/second.crt " + dir + "/tls.crt.new && mv " + dir +
              "/tls.crt.new " + dir + "/tls.crt")
              .exit_code == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  keep_alive.finish();
  fresh.finish();
  CHECK(keep_alive.ok > 0);
  CHECK(fresh.ok > 0);
  CHECK(keep_alive.wrong == 0);
  CHECK(fresh.wrong == 0);
  CHECK(fresh.connect_failed == 0);
  CHECK(keep_alive.connect_failed == 0);
  CHECK(serving_cn().find("second") != std::string::npos);
  auto m = http_get(s.health_port(), "/metrics");
  REQUIRE(m);
  CHECK(m->body.find(R"(netpol_guard_cert_reloads_total{result="success"} 1)") !=
        std::string::npos);
}

TEST_CASE(
    "connection limit: when full, a new client evicts the idle connection, requests in "
    "progress finish",
    "[integration][faults]") {
  // Refusing newcomers when full let idle clients lock everyone out (issue 11):
  // a new client now takes the slot of a connection that is not answering a
  // request, idle ones before ones whose request is still arriving.
  server_process s({"--policies", examples(), "--max-connections=3"});
  std::vector<std::unique_ptr<tls_client>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<tls_client>(s.port()));
    std::string error;
    REQUIRE(held.back()->connect(error));
    auto uid = "first-" + std::to_string(i);
    REQUIRE(answered_correctly(held.back()->post(review("team-a", uid)), uid, true));
  }
  // held[1] and held[2] have a request in progress: half of its bytes sent.
  std::vector<std::string> pending;
  for (int i = 1; i < 3; ++i) {
    std::string body = review("team-a", "held-" + std::to_string(i));
    pending.push_back(
        "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
        "application/json\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body);
    const auto& req = pending.back();
    REQUIRE(held[static_cast<std::size_t>(i)]->send(req.substr(0, req.size() / 2)));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  tls_client extra(s.port());
  std::string error;
  REQUIRE(extra.connect(error, std::chrono::seconds(3)));
  CHECK(answered_correctly(extra.post(review("team-a", "extra")), "extra", true));
  // The idle one made room; the two with a request in progress finish it.
  CHECK(held[0]->closed_by_server(std::chrono::seconds(2)));
  for (int i = 1; i < 3; ++i) {
    const auto& req = pending[static_cast<std::size_t>(i - 1)];
    auto& c = *held[static_cast<std::size_t>(i)];
    REQUIRE(c.send(req.substr(req.size() / 2)));
    CHECK(answered_correctly(c.read_reply(), "held-" + std::to_string(i), true));
  }
  auto m = http_get(s.health_port(), "/metrics");
  REQUIRE(m);
  CHECK(m->body.find(R"(netpol_guard_connections_evicted_total{listener="webhook"} 1)") !=
        std::string::npos);
  CHECK(m->body.find(R"(netpol_guard_errors_total{reason="connection_limit"} 0)") !=
        std::string::npos);
  held.clear();
  // Once they close, new connections are served without evicting anyone.
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    served = answered_correctly(post_once(s.port(), review("team-a", "later")), "later", true);
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(served);
}

TEST_CASE("policy files changed under a running server are reloaded", "[integration][faults]") {
  std::string dir = temp_dir("netpol-guard-policies");
  REQUIRE(run("cp " + examples() + "/*.yaml " + dir + "/").exit_code == 0);
  server_process s({"--policies", dir});
  CHECK(answered_correctly(post_once(s.port(), review("team-c", "before")), "before", false));
  REQUIRE(run("sed 's/team-a/team-c/' " + examples() + "/policies.yaml > " + dir + "/team-c.yaml")
              .exit_code == 0);
  bool allowed = false;
  for (int i = 0; i < 100 && !allowed; ++i) {
    allowed = answered_correctly(post_once(s.port(), review("team-c", "after")), "after", true);
    if (!allowed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(allowed);
  // A broken file keeps the last good state.
  REQUIRE(run("echo '{not: [yaml' > " + dir + "/broken.yaml").exit_code == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  CHECK(answered_correctly(post_once(s.port(), review("team-c", "still")), "still", true));
  CHECK(s.logs().find("policy reload failed") != std::string::npos);
  // Counted once, and still ready (the last good state decides) with the reason.
  auto m = http_get(s.health_port(), "/metrics");
  REQUIRE(m);
  CHECK(m->body.find(R"(netpol_guard_errors_total{reason="policy_reload"} 1)") !=
        std::string::npos);
  auto ready = http_get(s.health_port(), "/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  CHECK(ready->body.rfind("ok: ", 0) == 0);
  CHECK(ready->body.find("broken.yaml") != std::string::npos);
}
