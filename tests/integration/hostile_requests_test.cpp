// The hostile-input corpus (tests/hostile/cases.json) against the real binary:
// every case gets its expected answer or a clean close, the next valid request is
// served, and repeating the corpus does not grow the process.
#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "../support/process_memory.hpp"
#include "../support/server_process.hpp"
#include "../support/tls_client.hpp"
#include "hostile_corpus.hpp"

using namespace netpol_guard::testing;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

constexpr long max_rss_growth_kb = 50 * 1024;
// A log line names what is wrong; it does not echo a hostile body.
constexpr std::size_t max_log_line_bytes = 16 * 1024;
constexpr int repeat_passes = 3;

json load_corpus() {
  std::ifstream in(corpus_dir() + "/cases.json");
  REQUIRE(in);
  return json::parse(in);
}

void still_serving(const server_process& s, const std::string& after) {
  INFO("the valid request after case " << after);
  const std::string uid = "after-" + after;
  auto r = post_once(s.port(), valid_review(uid));
  REQUIRE(r);
  REQUIRE(r->status == 200);
  auto doc = json::parse(r->body);
  CHECK(doc["response"]["uid"] == uid);
  CHECK(doc["response"]["allowed"] == true);
}

void run_fast_cases(server_process& s, const json& corpus) {
  for (const auto& c : corpus) {
    if (is_slow(c)) continue;
    const std::string name = c["name"];
    auto out = run_case(c, s.port());
    INFO("case " << name << ": " << c.value("about", std::string()) << "\n  " << out.detail);
    CHECK(out.ok);
    REQUIRE(s.running());
    still_serving(s, name);
  }
}

}  // namespace

TEST_CASE("the hostile corpus has enough cases, each with a file or a generator",
          "[integration][hostile]") {
  json corpus = load_corpus();
  CHECK(corpus.size() >= 40);
  std::set<std::string> names;
  for (const auto& c : corpus) {
    INFO(c.dump());
    REQUIRE(c.contains("name"));
    CHECK(names.insert(c["name"].get<std::string>()).second);
    REQUIRE(c.contains("mode"));
    if (c.contains("file")) {
      std::ifstream f(corpus_dir() + "/" + c["file"].get<std::string>());
      CHECK(f.good());
    }
  }
}

TEST_CASE("hostile inputs get a clear answer or a clean close, without crash or leak",
          "[integration][hostile]") {
  std::signal(SIGPIPE, SIG_IGN);
  json corpus = load_corpus();
  keep_asan_quarantine_small();
  server_process s({"--policies", source_dir() + "/manifests/examples", "--request-timeout=2s",
                    "--idle-timeout=3s"});

  // Slow and dead clients hold their connection for a server timeout each: run
  // them side by side, then check each on the test's thread.
  std::vector<std::pair<std::string, std::future<outcome>>> slow;
  for (const auto& c : corpus) {
    if (!is_slow(c)) continue;
    slow.emplace_back(
        c["name"].get<std::string>(),
        std::async(std::launch::async, [c, port = s.port()] { return run_case(c, port); }));
  }
  run_fast_cases(s, corpus);
  for (auto& [name, f] : slow) {
    auto out = f.get();
    INFO("slow case " << name << "\n  " << out.detail);
    CHECK(out.ok);
    REQUIRE(s.running());
    still_serving(s, name);
  }

  const long rss_before = proc_status_kb(s.pid(), "VmRSS");
  REQUIRE(rss_before > 0);
  for (int pass = 0; pass < repeat_passes; ++pass) run_fast_cases(s, corpus);
  const long rss_after = proc_status_kb(s.pid(), "VmRSS");
  INFO("VmRSS before " << rss_before << " kB, after " << repeat_passes << " more passes "
                       << rss_after << " kB");
  CHECK(rss_after - rss_before < max_rss_growth_kb);
  REQUIRE(s.running());
  std::this_thread::sleep_for(milliseconds(200));
  auto m = http_get(s.health_port(), "/metrics");
  REQUIRE(m);
  CHECK(m->status == 200);
  // Every connection of the corpus has ended.
  CHECK(m->body.find("netpol_guard_open_connections 0") != std::string::npos);

  // The log stays JSON lines of bounded size.
  std::istringstream log(s.logs());
  std::size_t lines = 0, not_json = 0, too_long = 0;
  std::string first_bad;
  for (std::string line; std::getline(log, line); ++lines) {
    const bool is_json = json::accept(line);
    if (!is_json) ++not_json;
    if (line.size() > max_log_line_bytes) ++too_long;
    if ((!is_json || line.size() > max_log_line_bytes) && first_bad.empty()) {
      first_bad = std::to_string(line.size()) + " bytes: " + line.substr(0, 300);
    }
  }
  INFO("first bad log line: " << first_bad);
  CHECK(not_json == 0);
  CHECK(too_long == 0);
  WARN("hostile corpus: " << corpus.size() << " cases; VmRSS " << rss_before << " kB -> "
                          << rss_after << " kB after " << repeat_passes << " more passes; " << lines
                          << " log lines");
}
