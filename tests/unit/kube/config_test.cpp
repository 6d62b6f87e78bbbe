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

}  // namespace

TEST_CASE("kubeconfig: current context, data and files", "[kube][config]") {
  auto key = write_temp("key.pem", "KEY");
  std::string error;
  auto c = parse_kubeconfig(kubeconfig, std::filesystem::path(key).parent_path().string(), error);
  REQUIRE(c);
  CHECK(c->server == "https://127.0.0.1:6443");
  CHECK(c->host == "127.0.0.1");
  CHECK(c->port == "6443");
  CHECK(c->ca_pem == "hello ca");
  CHECK(c->client_cert_pem == "cert");
  CHECK(c->client_key_pem == "KEY");
  CHECK(c->token == "abc");
}

TEST_CASE("kubeconfig errors are one clear line", "[kube][config]") {
  std::string error;
  CHECK_FALSE(parse_kubeconfig("{", "", error));
  CHECK(error.find("invalid kubeconfig") != std::string::npos);
  CHECK_FALSE(parse_kubeconfig("current-context: x\n", "", error));
  CHECK(error.find("no context \"x\"") != std::string::npos);
  std::string insecure = kubeconfig;
  insecure.replace(insecure.find("    certificate-authority-data: aGVsbG8gY2E="),
                   std::string("    certificate-authority-data: aGVsbG8gY2E=").size(),
                   "    insecure-skip-tls-verify: true");
  CHECK_FALSE(parse_kubeconfig(insecure, "/nonexistent", error));
  CHECK(error.find("always verifies") != std::string::npos);
  std::string http = kubeconfig;
  http.replace(http.find("https://"), 8, "http://");
  CHECK_FALSE(parse_kubeconfig(http, "/nonexistent", error));
  CHECK(error.find("https://") != std::string::npos);
}

TEST_CASE("server URLs", "[kube][config]") {
  std::string host, port, error;
  REQUIRE(parse_server_url("https://[fd00::1]:6443", host, port, error));
  CHECK(host == "fd00::1");
  CHECK(port == "6443");
  REQUIRE(parse_server_url("https://kubernetes.default.svc", host, port, error));
  CHECK(port == "443");
  CHECK_FALSE(parse_server_url("https://h:x", host, port, error));
}

TEST_CASE("base64", "[kube][config]") {
  CHECK(base64_decode("aGVsbG8=") == std::optional<std::string>("hello"));
  CHECK(base64_decode("aGVs\nbG8=") == std::optional<std::string>("hello"));
  CHECK_FALSE(base64_decode("a*b"));
  CHECK(base64_decode("") == std::optional<std::string>(""));
  CHECK(base64_decode("AP8=") == std::optional<std::string>(std::string("\0\xff", 2)));
  CHECK(base64_decode("aGVsbG8") == std::optional<std::string>("hello"));  // unpadded
  CHECK(base64_decode("aGk=\r\n") == std::optional<std::string>("hi"));
  CHECK(base64_decode("-_8=") == base64_decode("+/8="));  // URL-safe alphabet
  CHECK(base64_decode("+/8=") == std::optional<std::string>("\xfb\xff"));
  CHECK_FALSE(base64_decode("aGk=aGk="));  // data after padding
  CHECK_FALSE(base64_decode("aGVsb"));     // a lone character is no byte
  CHECK_FALSE(base64_decode("aG==="));
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
  std::string error;
  auto c = in_cluster_config(error, dir.string());
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  REQUIRE(c);
  CHECK(c->server == "https://[fd00::1]:443");
  CHECK(c->ca_pem == "CA");
  CHECK(c->token_file == (dir / "token").string());
  CHECK_FALSE(in_cluster_config(error, dir.string()));
}
