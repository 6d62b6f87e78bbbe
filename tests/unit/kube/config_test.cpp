#include "netpol_guard/kube/config.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace netpol_guard::kube;

namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / "netpol-guard-config-test";
  std::filesystem::create_directories(dir);
  auto path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

const char* kubeconfig = R"(apiVersion: v1
kind: Config
current-context: admin@local
contexts:
- name: other
  context: {cluster: nowhere, user: nobody}
- name: admin@local
  context: {cluster: local, user: admin}
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: aGVsbG8gY2E=
users:
- name: admin
  user:
    client-certificate-data: Y2VydA==
    client-key: key.pem
    token: abc
)";

// The decoded bytes, or nullopt when base64_decode refuses the text.
std::optional<std::string> decoded(const std::string& text) {
  auto r = base64_decode(text);
  if (!r) return std::nullopt;
  return *r;
}

}  // namespace

TEST_CASE("kubeconfig: current context, data and files", "[kube][config]") {
  auto key = write_temp("key.pem", "KEY");
  auto c = parse_kubeconfig(kubeconfig, std::filesystem::path(key).parent_path().string());
  REQUIRE(c.has_value());
  CHECK(c->server == "https://127.0.0.1:6443");
  CHECK(c->host == "127.0.0.1");
  CHECK(c->port == "6443");
  CHECK(c->ca_pem == "hello ca");
  CHECK(c->client_cert_pem == "cert");
  CHECK(c->client_key_pem == "KEY");
  CHECK(c->token == "abc");
}

TEST_CASE("kubeconfig errors are one clear line", "[kube][config]") {
  auto r = parse_kubeconfig("{", "");
  CHECK_FALSE(r.has_value());
  CHECK(r.error().find("invalid kubeconfig") != std::string::npos);
  r = parse_kubeconfig("current-context: x\n", "");
  CHECK_FALSE(r.has_value());
  CHECK(r.error().find("no context \"x\"") != std::string::npos);
  std::string insecure = kubeconfig;
  insecure.replace(insecure.find("    certificate-authority-data: aGVsbG8gY2E="),
                   std::string("    certificate-authority-data: aGVsbG8gY2E=").size(),
                   "    insecure-skip-tls-verify: true");
  r = parse_kubeconfig(insecure, "/nonexistent");
  CHECK_FALSE(r.has_value());
  CHECK(r.error().find("always verifies") != std::string::npos);
  std::string http = kubeconfig;
  http.replace(http.find("https://"), 8, "http://");
  r = parse_kubeconfig(http, "/nonexistent");
  CHECK_FALSE(r.has_value());
  CHECK(r.error().find("https://") != std::string::npos);
}

TEST_CASE("server URLs", "[kube][config]") {
  auto v6 = parse_server_url("https://[fd00::1]:6443");
  REQUIRE(v6.has_value());
  CHECK(v6->host == "fd00::1");
  CHECK(v6->port == "6443");
  auto svc = parse_server_url("https://kubernetes.default.svc");
  REQUIRE(svc.has_value());
  CHECK(svc->port == "443");
  CHECK_FALSE(parse_server_url("https://h:x").has_value());
}

TEST_CASE("base64", "[kube][config]") {
  CHECK(decoded("aGVsbG8=") == std::optional<std::string>("hello"));
  CHECK(decoded("aGVs\nbG8=") == std::optional<std::string>("hello"));
  CHECK_FALSE(decoded("a*b"));
  CHECK(decoded("") == std::optional<std::string>(""));
  CHECK(decoded("AP8=") == std::optional<std::string>(std::string("\0\xff", 2)));
  CHECK(decoded("aGVsbG8") == std::optional<std::string>("hello"));  // unpadded
  CHECK(decoded("aGk=\r\n") == std::optional<std::string>("hi"));
  CHECK(decoded("-_8=") == decoded("+/8="));  // URL-safe alphabet
  CHECK(decoded("+/8=") == std::optional<std::string>("\xfb\xff"));
  CHECK_FALSE(decoded("aGk=aGk="));  // data after padding
  CHECK_FALSE(decoded("aGVsb"));     // a lone character is no byte
  CHECK_FALSE(decoded("aG==="));
}

TEST_CASE("token file: re-read every refresh and after a 401", "[kube][config]") {
  auto path = write_temp("token", "one\n");
  auto now = std::chrono::steady_clock::time_point{};
  token_source t("", path, std::chrono::seconds(60), [&] { return now; });
  CHECK(t.token() == "one");
  std::ofstream(path) << "two\n";
  CHECK(t.token() == "one");  // cached within the minute
  t.invalidate();             // a 401
  CHECK(t.token() == "two");
  std::ofstream(path) << "three\n";
  now += std::chrono::seconds(61);
  CHECK(t.token() == "three");
}

TEST_CASE("in-cluster config", "[kube][config]") {
  auto dir = std::filesystem::temp_directory_path() / "netpol-guard-sa-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ca.crt") << "CA";
  std::ofstream(dir / "token") << "tok";
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto c = in_cluster_config(dir.string());
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  REQUIRE(c.has_value());
  CHECK(c->server == "https://[fd00::1]:443");
  CHECK(c->ca_pem == "CA");
  CHECK(c->token_file == (dir / "token").string());
  CHECK_FALSE(in_cluster_config(dir.string()).has_value());
}
