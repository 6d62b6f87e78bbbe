// `netpol-guard remediate`, the real binary: its exit codes for bad flags and an
// apiserver it cannot reach (the cluster scenarios are tests/e2e/run-remediate.sh).
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "../support/server_process.hpp"

using namespace netpol_guard::testing;

namespace {

// A kubeconfig for an apiserver nobody listens on (port 1 of loopback).
std::string unreachable_kubeconfig() {
  const std::string path = temp_dir("netpol-guard-remediate") + "/kubeconfig";
  std::FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  const std::string text = std::string(R"(apiVersion: v1
kind: Config
current-context: c
contexts:
- name: c
  context: {cluster: nowhere, user: u}
clusters:
- name: nowhere
  cluster: {server: "https://127.0.0.1:1", certificate-authority: )") +
                           certs().ca + R"(}
users:
- name: u
  user: {token: abc}
)";
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  return path;
}

command_result remediate(const std::string& flags) {
  return run(std::string(NETPOL_GUARD_BINARY) + " remediate " + flags + " 2>&1");
}

}  // namespace

TEST_CASE("remediate: bad flags exit 2 with one line", "[integration][remediate]") {
  const std::string kc = " --kubeconfig " + unreachable_kubeconfig();
  struct bad_case {
    std::string flags, message;
  };
  const bad_case cases[] = {
      {"--no-such-flag", "unknown flag --no-such-flag"},
      {"--output xml" + kc, "--output must be yaml or json"},
      {"--dry-run=maybe" + kc, "--dry-run must be none, client or server"},
      {"--apply --dry-run=server" + kc, "--apply and --dry-run=server exclude each other"},
      {"--apply --dry-run=client" + kc, "--apply and --dry-run=client exclude each other"},
      {"--dry-run=none" + kc, "--dry-run=none needs --apply"},
      {"extra" + kc, "unexpected argument \"extra\""},
      {"--kubeconfig /nonexistent/kubeconfig", "/nonexistent/kubeconfig"},
      // An empty value never widens the targets (`--namespaces "$UNSET"`).
      {"--apply --namespaces ''" + kc, "--namespaces needs at least one namespace name"},
      {"--apply --namespaces ," + kc, "--namespaces needs at least one namespace name"},
      {"--apply --exempt-namespaces ''" + kc,
       "--exempt-namespaces needs at least one namespace name"},
  };
  for (const auto& c : cases) {
    INFO(c.flags);
    auto r = remediate(c.flags);
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("netpol-guard remediate: ") == 0);
    CHECK(r.out.find(c.message) != std::string::npos);
    CHECK(r.out.find('\n') == r.out.size() - 1);  // one line
  }
}

TEST_CASE("remediate: an unreachable apiserver exits 2, in every mode",
          "[integration][remediate]") {
  const std::string kc = "--kubeconfig " + unreachable_kubeconfig();
  for (const std::string mode : {"", " --dry-run=server", " --apply", " --output json"}) {
    INFO(mode);
    auto r = remediate(kc + mode);
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("netpol-guard remediate: list /api/v1/namespaces: ") == 0);
  }
}

TEST_CASE("remediate: --help documents the exit codes and exits 0", "[integration][remediate]") {
  auto r = remediate("--help");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("Exit codes:") != std::string::npos);
  CHECK(r.out.find("--dry-run value") != std::string::npos);
  CHECK(r.out.find("--with-dns-egress") != std::string::npos);
  CHECK(r.out.find("(default kube-system,kube-public,kube-node-lease)") != std::string::npos);
}
