// TLS of the admission port, checked from outside with real tools: sslscan for
// versions and suites, openssl s_client per version, mutual TLS with
// --client-ca-file, and no key or token material in logs or metrics.
#include <openssl/ssl.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "../support/server_process.hpp"
#include "../support/tls_client.hpp"

using namespace netpol_guard::testing;
using nlohmann::json;

namespace {

std::string examples() { return source_dir() + "/manifests/examples"; }

std::string review(const std::string& uid) {
  json r = json::parse(fixture("admission/pod-create.json"));
  r["request"]["uid"] = uid;
  r["request"]["namespace"] = "team-a";
  r["request"]["object"]["metadata"]["namespace"] = "team-a";
  return r.dump();
}

bool have(const std::string& tool) {
  return run("command -v " + tool + " >/dev/null 2>&1").exit_code == 0;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// `openssl s_client` sending one request with Connection: close; output merged.
command_result s_client(unsigned short port, const std::string& flags,
                        const std::string& request_file) {
  return run("timeout 15 openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
             " -servername localhost -CAfile " + certs().ca + " -verify_return_error -ign_eof " +
             flags + " < " + request_file + " 2>&1");
}

std::string request_file(const std::string& dir, const std::string& uid) {
  std::string body = review(uid);
  std::string path = dir + "/request-" + uid + ".http";
  write_file(path,
             "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
             "Connection: close\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body);
  return path;
}

bool is_aead(const std::string& cipher) {
  return cipher.find("GCM") != std::string::npos || cipher.find("CHACHA20") != std::string::npos ||
         cipher.find("CCM") != std::string::npos;
}

}  // namespace

TEST_CASE("sslscan: only TLS 1.2 and 1.3, only AEAD suites", "[integration][tls]") {
  if (!have("sslscan")) {
    WARN("sslscan is not installed (.ci/install-deps.sh --extra installs it): scan skipped");
    return;
  }
  server_process s({"--policies", examples()});
  auto r = run("timeout 120 sslscan --no-colour --xml=- 127.0.0.1:" + std::to_string(s.port()) +
               " 2>/dev/null");
  REQUIRE(r.exit_code == 0);
  INFO(r.out);

  std::map<std::string, bool> protocols;
  const std::regex protocol_re(R"re(<protocol type="(\w+)" version="([0-9.]+)" enabled="(\d)")re");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), protocol_re), end; it != end; ++it) {
    protocols[(*it)[1].str() + (*it)[2].str()] = (*it)[3] == "1";
  }
  REQUIRE(protocols.count("tls1.2"));
  CHECK(protocols["tls1.2"]);
  CHECK(protocols["tls1.3"]);
  for (const char* old : {"ssl2", "ssl3", "tls1.0", "tls1.1"}) {
    INFO(old);
    CHECK_FALSE(protocols[old]);
  }

  std::set<std::string> accepted;
  const std::regex cipher_re(
      R"re(<cipher status="(accepted|preferred)" sslversion="([^"]+)" bits="\d+" cipher="([^"]+)")re");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), cipher_re), end; it != end; ++it) {
    const std::string version = (*it)[2], cipher = (*it)[3];
    accepted.insert(version + " " + cipher);
    INFO(version << " " << cipher);
    CHECK((version == "TLSv1.2" || version == "TLSv1.3"));
    CHECK(is_aead(cipher));
    for (const char* weak : {"NULL", "RC4", "CBC", "3DES", "DES-", "EXP", "MD5", "SHA1"}) {
      CHECK(cipher.find(weak) == std::string::npos);
    }
    // TLS 1.2 suites without GCM/CHACHA20/CCM in their name are CBC with an HMAC.
    if (version == "TLSv1.2") CHECK(cipher.rfind("ECDHE-", 0) == 0);
  }
  CHECK(accepted.size() >= 3);
  std::string summary;
  for (const auto& a : accepted) summary += "\n  " + a;
  WARN("sslscan accepted:" << summary);
}

TEST_CASE("openssl s_client: TLS 1.1 refused, TLS 1.2 and 1.3 served", "[integration][tls]") {
  server_process s({"--policies", examples()});
  const std::string dir = temp_dir("netpol-guard-sclient");

  // SECLEVEL=0 so this client really offers TLS 1.1: the refusal must come from the server.
  auto old = s_client(s.port(), "-tls1_1 -cipher DEFAULT@SECLEVEL=0", request_file(dir, "tls11"));
  INFO(old.out);
  CHECK(old.exit_code != 0);
  CHECK(old.out.find("no protocols available") == std::string::npos);
  CHECK(old.out.find("HTTP/1.1") == std::string::npos);
  CHECK((old.out.find("protocol version") != std::string::npos ||
         old.out.find("unsupported protocol") != std::string::npos ||
         old.out.find("handshake failure") != std::string::npos));

  auto old10 = s_client(s.port(), "-tls1 -cipher DEFAULT@SECLEVEL=0", request_file(dir, "tls10"));
  CHECK(old10.exit_code != 0);
  CHECK(old10.out.find("HTTP/1.1") == std::string::npos);

  for (const std::string version : {"tls1_2", "tls1_3"}) {
    auto r = s_client(s.port(), "-" + version, request_file(dir, version));
    INFO(version << "\n" << r.out);
    CHECK(r.out.find("Verify return code: 0 (ok)") != std::string::npos);
    CHECK(r.out.find("HTTP/1.1 200 OK") != std::string::npos);
    CHECK(r.out.find("\"uid\":\"" + version + "\"") != std::string::npos);
    CHECK(r.out.find(version == "tls1_2" ? "Protocol  : TLSv1.2" : "TLSv1.3") != std::string::npos);
  }

  // Offered only CBC suites over TLS 1.2, the server refuses.
  auto cbc = s_client(
      s.port(),
      "-tls1_2 -cipher 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:AES128-SHA@SECLEVEL=0'",
      request_file(dir, "cbc"));
  INFO(cbc.out);
  CHECK(cbc.exit_code != 0);
  CHECK(cbc.out.find("HTTP/1.1") == std::string::npos);
}

TEST_CASE("mutual TLS: --client-ca-file requires a client certificate signed by that CA",
          "[integration][tls]") {
  const std::string dir = temp_dir("netpol-guard-mtls");
  const auto& c = certs();
  // A client certificate from the dev CA, and one from a CA the server does not trust.
  auto made = run(
      "cd " + dir +
      " && "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key "
      "-out client.csr -subj '/CN=kube-apiserver' 2>/dev/null && "
      "printf 'extendedKeyUsage=clientAuth\\nkeyUsage=critical,digitalSignature\\n' > ext.cnf && "
      "openssl x509 -req -in client.csr -CA " +
      c.ca + " -CAkey " + c.dir +
      "/ca.key "
      "-CAcreateserial -CAserial ca.srl -days 1 -extfile ext.cnf -out client.crt 2>/dev/null && "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key "
      "-out other.crt -days 1 -subj '/CN=intruder' -addext extendedKeyUsage=clientAuth "
      "2>/dev/null");
  REQUIRE(made.exit_code == 0);

  server_process s({"--policies", examples(), "--client-ca-file", c.ca});

  SECTION("a client with a certificate from the CA is served") {
    tls_options o;
    o.client_cert = dir + "/client.crt";
    o.client_key = dir + "/client.key";
    tls_client client(s.port(), o);
    std::string error;
    REQUIRE(client.connect(error));
    auto r = client.post(review("mtls-ok"));
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.find("mtls-ok") != std::string::npos);
  }

  // With TLS 1.3 the client may finish its handshake before the server has
  // checked the certificate; either way no request may be answered.
  auto refused = [&](tls_options o, const char* what) {
    INFO(what);
    tls_client client(s.port(), o);
    std::string error;
    if (!client.connect(error)) return;
    CHECK_FALSE(client.post(review("mtls-refused")));
  };

  SECTION("a client without a certificate is refused") {
    refused({}, "no certificate, TLS 1.3");
    tls_options v12;
    v12.max_version = TLS1_2_VERSION;
    refused(v12, "no certificate, TLS 1.2");
  }

  SECTION("a client with a certificate from another CA is refused") {
    tls_options o;
    o.client_cert = dir + "/other.crt";
    o.client_key = dir + "/other.key";
    refused(o, "untrusted certificate");
  }

  SECTION("s_client without a certificate gets no answer") {
    auto r = s_client(s.port(), "", request_file(dir, "mtls-none"));
    INFO(r.out);
    CHECK(r.out.find("HTTP/1.1 200") == std::string::npos);
    CHECK((r.out.find("certificate required") != std::string::npos ||
           r.out.find("handshake failure") != std::string::npos));
  }
  CHECK(s.running());
}

TEST_CASE("no key or token material in logs or metrics", "[integration][tls]") {
  const std::string token = "eyJhbGciOiJSUzI1NiJ9.netpol-guard-secret-token.c2lnbmF0dXJl";
  server_process s({"--policies", examples(), "--log-level=debug"});

  const std::string bodies[] = {review("secret-1"), "{\"apiVersion\":", R"({"kind":"Pod"})"};
  for (const auto& body : bodies) {
    for (const char* path : {"/validate", "/other"}) {
      tls_client client(s.port());
      std::string error;
      REQUIRE(client.connect(error));
      REQUIRE(client.send(std::string("POST ") + path +
                          " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                          "Authorization: Bearer " +
                          token + "\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\n\r\n" + body));
      REQUIRE(client.read_reply());
    }
  }
  // A malformed request line and a failed handshake reach the error paths too.
  {
    tls_client client(s.port());
    std::string error;
    REQUIRE(client.connect(error));
    REQUIRE(client.send("GET /validate?token=" + token + " BAD\r\nAuthorization: Bearer " + token +
                        "\r\n\r\n"));
    client.closed_by_server(std::chrono::seconds(5));
    tls_options old;
    old.max_version = TLS1_1_VERSION;
    tls_client refused(s.port(), old);
    CHECK_FALSE(refused.connect(error));
  }
  auto m = http_get(s.health_port(), "/metrics");
  REQUIRE(m);
  REQUIRE(s.stop(SIGTERM) == 0);
  const std::string logs = s.logs();
  INFO(logs);
  for (const std::string& text : {logs, m->body}) {
    CHECK(text.find(token) == std::string::npos);
    CHECK(text.find("netpol-guard-secret-token") == std::string::npos);
    CHECK(text.find("Bearer") == std::string::npos);
    CHECK(text.find("BEGIN") == std::string::npos);
    CHECK(text.find("PRIVATE KEY") == std::string::npos);
  }
  // Neither the serving key nor the CA key appears, even in part.
  const std::string key = read_file(certs().key);
  auto body_line = key.substr(key.find('\n') + 1, 40);
  CHECK(logs.find(body_line) == std::string::npos);
}

TEST_CASE("a kubeconfig's token and client key stay out of the logs", "[integration][tls]") {
  const std::string dir = temp_dir("netpol-guard-kubeconfig");
  const std::string token = "kubeconfig-secret-token-5f2d9c";
  const std::string key_pem = read_file(certs().key);
  auto b64 = [](const std::string& file) { return run("base64 -w0 " + file).out; };
  // An apiserver address where nothing listens: the server retries and logs why.
  write_file(dir + "/kubeconfig",
             "apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
             "clusters:\n- name: dead\n  cluster:\n    server: https://127.0.0.1:1\n"
             "    certificate-authority-data: " +
                 b64(certs().ca) +
                 "\n"
                 "users:\n- name: dead\n  user:\n    token: " +
                 token +
                 "\n"
                 "    client-certificate-data: " +
                 b64(certs().cert) +
                 "\n"
                 "    client-key-data: " +
                 b64(certs().key) +
                 "\n"
                 "contexts:\n- name: dead\n  context: {cluster: dead, user: dead}\n");
  server_process s({"--kubeconfig", dir + "/kubeconfig", "--log-level=debug"},
                   /*wait_listening=*/false);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  s.stop(SIGTERM);
  const std::string logs = s.logs();
  INFO(logs);
  CHECK_FALSE(logs.empty());
  CHECK(logs.find(token) == std::string::npos);
  CHECK(logs.find("BEGIN") == std::string::npos);
  CHECK(logs.find(b64(certs().key).substr(0, 40)) == std::string::npos);
  CHECK(logs.find(key_pem.substr(key_pem.find('\n') + 1, 40)) == std::string::npos);
}
