// Hostile policy files (tests/hostile/manifests/) against `netpol-guard check`:
// each is refused with one clear line, quickly and in bounded memory, rather
// than exhausting the process that reads it.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/process_memory.hpp"
#include "../support/server_process.hpp"
#include "hostile_corpus.hpp"

extern char** environ;

using namespace netpol_guard::testing;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

namespace {

// `netpol-guard check FILE`, killed when it outgrows a memory or time budget.
// Polling /proc rather than `ulimit -v` keeps this valid under ASan.
struct bounded_run {
  enum class ending { exited, too_slow, too_big };
  ending how = ending::exited;
  int exit_code = -1;
  long peak_rss_kb = 0;
  long elapsed_ms = 0;
  std::string output;
  std::string describe() const {
    const char* v = how == ending::exited     ? "exited"
                    : how == ending::too_slow ? "killed: too slow"
                                              : "killed: too big";
    return std::string(v) + ", exit " + std::to_string(exit_code) + ", peak RSS " +
           std::to_string(peak_rss_kb) + " kB, " + std::to_string(elapsed_ms) +
           " ms: " + output.substr(0, 300);
  }
};

bounded_run bounded_check(const std::string& file) {
  constexpr long max_rss_kb = 512 * 1024;
  constexpr auto max_time = std::chrono::seconds(5);
  bounded_run r;
  const std::string out_path = temp_dir("netpol-guard-check") + "/out";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::string binary = NETPOL_GUARD_BINARY, command = "check", path = file;
  char* argv[] = {binary.data(), command.data(), path.data(), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start netpol-guard check");
  const auto start = clock_type::now();
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    r.peak_rss_kb = std::max(r.peak_rss_kb, proc_status_kb(pid, "VmRSS"));
    const bool too_big = r.peak_rss_kb > max_rss_kb;
    if (too_big || clock_type::now() - start > max_time) {
      r.how = too_big ? bounded_run::ending::too_big : bounded_run::ending::too_slow;
      ::kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  r.elapsed_ms = std::chrono::duration_cast<milliseconds>(clock_type::now() - start).count();
  r.output = read_file(out_path);
  return r;
}

}  // namespace

TEST_CASE("hostile policy files are refused quickly and in bounded memory",
          "[integration][hostile]") {
  // `check` runs on manifests from pull requests; `serve --policies` on mounted
  // files. Each file under tests/hostile/manifests/ must be refused (exit 2).
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(corpus_dir() + "/manifests")) {
    files.push_back(e.path().string());
  }
  REQUIRE_FALSE(files.empty());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    auto r = bounded_check(file);
    INFO(file << ": " << r.describe());
    CHECK(r.how == bounded_run::ending::exited);
    CHECK(r.exit_code == 2);  // bad input, with one clear line
    CHECK(r.output.find("bad_alloc") == std::string::npos);
  }
}
