// `netpol-guard check --fix DIR`, the real binary: it writes what remediation
// would create, never touches its input, and the input plus DIR then passes.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "../support/server_process.hpp"

using namespace netpol_guard::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  REQUIRE(f.good());
}

// compliant, egress missing, both missing (with a pod), both missing but the
// template's name taken, a per-direction name taken, and exempt by --exempt-namespaces.
constexpr const char* repo_manifests = R"(apiVersion: v1
kind: Namespace
metadata: {name: ok}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-all, namespace: ok}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: v1
kind: Namespace
metadata: {name: half}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-in, namespace: half}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: bare}
spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-all, namespace: taken}
spec: {podSelector: {matchLabels: {app: x}}, policyTypes: [Ingress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-egress, namespace: stuck}
spec: {podSelector: {matchLabels: {app: x}}, policyTypes: [Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-in, namespace: stuck}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: v1
kind: Namespace
metadata: {name: skipped}
)";

}  // namespace

TEST_CASE("check --fix writes the missing baselines and the input plus DIR passes",
          "[integration][check-fix]") {
  const std::string dir = temp_dir("netpol-guard-fix");
  const std::string input = dir + "/repo.yaml";
  write_file(input, repo_manifests);
  const std::string before = read_file(input);
  const std::string out = dir + "/fixes";  // created by --fix
  const std::string bin = std::string(NETPOL_GUARD_BINARY);
  const std::string flags = " --exempt-namespaces skipped,stuck ";
  auto fixed =
      run(bin + " check --output json --fix " + out + flags + input + " 2>" + dir + "/err.txt");
  const std::string err = read_file(dir + "/err.txt");
  INFO(err);
  CHECK(fixed.exit_code == 0);
  // The report printed is the input's, before the fix.
  CHECK(json::parse(fixed.out)["summary"]["fail"] == 3);
  CHECK(read_file(input) == before);
  CHECK(fs::exists(out + "/half.default-deny.yaml"));
  CHECK(fs::exists(out + "/bare.default-deny.yaml"));
  CHECK(fs::exists(out + "/taken.default-deny.yaml"));
  CHECK(!fs::exists(out + "/ok.default-deny.yaml"));
  CHECK(!fs::exists(out + "/skipped.default-deny.yaml"));
  CHECK_THAT(read_file(out + "/half.default-deny.yaml"),
             Catch::Contains("name: default-deny-egress"));
  CHECK_THAT(read_file(out + "/bare.default-deny.yaml"), Catch::Contains("name: default-deny-all"));
  // The template's name is held: one policy per direction instead, never a second default-deny-all.
  const std::string taken = read_file(out + "/taken.default-deny.yaml");
  CHECK_THAT(taken, Catch::Contains("name: default-deny-ingress"));
  CHECK_THAT(taken, Catch::Contains("name: default-deny-egress"));
  CHECK_THAT(err, Catch::Contains("passes"));

  // An independent check of the input plus DIR passes, and the files are
  // manifests kubectl reads (they load through the same reader).
  auto again = run(bin + " check --output json" + flags + input + " " + out + " 2>&1");
  INFO(again.out);
  CHECK(again.exit_code == 0);

  // Without the exemption, "stuck" lacks only egress and its name is held by
  // default-deny-egress, which is not a deny-all:
  // nothing is written for it, and --fix says so and exits 1.
  const std::string out2 = dir + "/fixes2";
  auto stuck = run(bin + " check --fix " + out2 + " --exempt-namespaces skipped " + input +
                   " 2>&1 >/dev/null");
  CHECK(stuck.exit_code == 1);
  CHECK_THAT(stuck.out, Catch::Contains("cannot fix stuck"));
  CHECK_THAT(stuck.out, Catch::Contains("still failing with them: stuck"));
  CHECK(!fs::exists(out2 + "/stuck.default-deny.yaml"));
}

TEST_CASE("check --fix never writes over an input file", "[integration][check-fix]") {
  const std::string dir = temp_dir("netpol-guard-fix-input");
  // The would-be target already exists and is part of the input, yet leaves
  // the namespace non-compliant: --fix must refuse, not overwrite it.
  write_file(dir + "/bare.default-deny.yaml", R"(apiVersion: v1
kind: Pod
metadata: {name: web, namespace: bare}
spec: {containers: [{name: web, image: nginx}]}
)");
  const std::string before = read_file(dir + "/bare.default-deny.yaml");
  auto r = run(std::string(NETPOL_GUARD_BINARY) + " check --fix " + dir + " " + dir +
               " 2>&1 >/dev/null");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.out, Catch::Contains("is one of the input files"));
  CHECK(read_file(dir + "/bare.default-deny.yaml") == before);
}

TEST_CASE("check --fix into the input directory adds files and a second run writes nothing",
          "[integration][check-fix]") {
  const std::string dir = temp_dir("netpol-guard-fix-same");
  write_file(dir + "/app.yaml", R"(apiVersion: v1
kind: Namespace
metadata: {name: shop}
)");
  const std::string bin = std::string(NETPOL_GUARD_BINARY);
  auto first = run(bin + " check --fix " + dir + " --with-dns-egress " + dir + " 2>&1 >/dev/null");
  INFO(first.out);
  CHECK(first.exit_code == 0);
  const std::string fix = read_file(dir + "/shop.default-deny.yaml");
  CHECK_THAT(fix, Catch::Contains("name: allow-dns-egress"));
  auto second = run(bin + " check --fix " + dir + " " + dir + " 2>&1 >/dev/null");
  CHECK(second.exit_code == 0);
  CHECK_THAT(second.out, !Catch::Contains("wrote"));
  CHECK(read_file(dir + "/shop.default-deny.yaml") == fix);
}

TEST_CASE("check --fix never writes an input file that holds no object, nor through a symlink",
          "[integration][check-fix]") {
  const std::string bin = std::string(NETPOL_GUARD_BINARY);
  const std::string dir = temp_dir("netpol-guard-fix-hostile");
  fs::create_directories(dir + "/repo");
  write_file(dir + "/repo/app.yaml", R"(apiVersion: v1
kind: Pod
metadata: {name: web, namespace: bare}
spec: {containers: [{name: web, image: nginx}]}
)");
  // An input file with comments only, at the name --fix would write.
  write_file(dir + "/repo/bare.default-deny.yaml", "# reserved for the team\n");
  auto r = run(bin + " check --fix " + dir + "/repo " + dir + "/repo 2>&1 >/dev/null");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.out, Catch::Contains("is one of the input files"));
  CHECK(read_file(dir + "/repo/bare.default-deny.yaml") == "# reserved for the team\n");

  // A symlink left at the temporary's name must not redirect the write.
  fs::remove(dir + "/repo/bare.default-deny.yaml");
  write_file(dir + "/victim.txt", "keep me\n");
  fs::create_directories(dir + "/out");
  fs::create_symlink(dir + "/victim.txt", dir + "/out/bare.default-deny.yaml.tmp");
  auto s = run(bin + " check --fix " + dir + "/out " + dir + "/repo 2>&1 >/dev/null");
  INFO(s.out);
  CHECK(s.exit_code == 0);
  CHECK(read_file(dir + "/victim.txt") == "keep me\n");
  CHECK_THAT(read_file(dir + "/out/bare.default-deny.yaml"),
             Catch::Contains("name: default-deny-all"));
  CHECK(!fs::is_symlink(dir + "/out/bare.default-deny.yaml"));

  auto lone = run(bin + " check --with-dns-egress " + dir + "/repo 2>&1 >/dev/null");
  CHECK(lone.exit_code == 2);
  CHECK_THAT(lone.out, Catch::Contains("--with-dns-egress needs --fix DIR"));
}
