#include "server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace netpol_guard::testing {

namespace fs = std::filesystem;

namespace {

std::vector<std::string>& temp_dirs() {
  static std::vector<std::string> dirs;
  return dirs;
}

void remove_temp_dirs() {
  for (const auto& d : temp_dirs()) {
    std::error_code ec;
    fs::remove_all(d, ec);
  }
}

bool has_flag(const std::vector<std::string>& args, const std::string& flag) {
  for (const auto& a : args) {
    if (a == flag || a.rfind(flag + "=", 0) == 0) return true;
  }
  return false;
}

}  // namespace

std::string source_dir() { return NETPOL_GUARD_SOURCE_DIR; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string fixture(const std::string& relative) {
  return read_file(source_dir() + "/tests/fixtures/" + relative);
}

std::string temp_dir(const std::string& prefix) {
  std::string tmpl = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  static std::once_flag once;
  // Construct the list before registering the handler, so it outlives the handler.
  std::call_once(once, [] {
    temp_dirs();
    std::atexit(remove_temp_dirs);
  });
  temp_dirs().emplace_back(buf.data());
  return buf.data();
}

const dev_certs& certs() {
  static dev_certs c = [] {
    dev_certs d;
    d.dir = temp_dir("netpol-guard-certs");
    auto r = run(source_dir() + "/certs/gen-dev-certs.sh " + d.dir + " >/dev/null");
    if (r.exit_code != 0) throw std::runtime_error("gen-dev-certs.sh failed");
    d.ca = d.dir + "/ca.crt";
    d.cert = d.dir + "/tls.crt";
    d.key = d.dir + "/tls.key";
    return d;
  }();
  return c;
}

command_result run(const std::string& command) {
  command_result r;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

server_process::server_process(std::vector<std::string> args, bool wait_listening) {
  // NETPOL_GUARD_TEST_BINARY runs the tests against another build, e.g. an
  // older commit's, to show that a test fails without a fix.
  const char* other = std::getenv("NETPOL_GUARD_TEST_BINARY");
  std::vector<std::string> argv{other && *other ? other : NETPOL_GUARD_BINARY, "serve"};
  if (!has_flag(args, "--listen")) argv.push_back("--listen=127.0.0.1:0");
  if (!has_flag(args, "--health-listen")) argv.push_back("--health-listen=127.0.0.1:0");
  if (!has_flag(args, "--tls-cert-file")) argv.push_back("--tls-cert-file=" + certs().cert);
  if (!has_flag(args, "--tls-private-key-file")) {
    argv.push_back("--tls-private-key-file=" + certs().key);
  }
  // Tests stop the server often; skip the production drain delay unless asked.
  if (!has_flag(args, "--shutdown-delay")) argv.push_back("--shutdown-delay=0s");
  argv.insert(argv.end(), args.begin(), args.end());
  log_path_ = temp_dir("netpol-guard-log") + "/stderr.log";

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  int rc = posix_spawn(&pid_, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start netpol-guard");
  if (!wait_listening) return;

  const std::regex listening(
      R"re("msg":"listening","listen":"[^"]*:(\d+)","health_listen":"[^"]*:(\d+)")re");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    std::string log = logs();
    if (std::regex_search(log, m, listening)) {
      port_ = static_cast<unsigned short>(std::stoi(m[1]));
      health_port_ = static_cast<unsigned short>(std::stoi(m[2]));
      return;
    }
    if (!running()) throw std::runtime_error("netpol-guard exited early: " + logs());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop(SIGKILL);
  throw std::runtime_error("netpol-guard did not start listening: " + logs());
}

server_process::~server_process() {
  if (pid_ > 0 && status_ == -1) stop(SIGTERM, std::chrono::seconds(5));
}

bool server_process::running() {
  if (status_ != -1) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

int server_process::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

int server_process::stop(int sig, std::chrono::milliseconds timeout) {
  if (!running()) return status_;
  ::kill(pid_, sig);
  int st = wait_exit(timeout);
  if (st == -1) {
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::seconds(5));
    return -1;
  }
  return st;
}

std::string server_process::logs() const { return read_file(log_path_); }

}  // namespace netpol_guard::testing
