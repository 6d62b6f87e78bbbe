#pragma once

// Starts the real netpol-guard binary for integration tests, on loopback port 0,
// and stops it by its own PID.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace netpol_guard::testing {

// Dev certificates made once per test binary with certs/gen-dev-certs.sh.
struct dev_certs {
  std::string dir, ca, cert, key;
};
const dev_certs& certs();

// A fresh temporary directory, removed at process exit.
std::string temp_dir(const std::string& prefix);

class server_process {
 public:
  // `args` follow `netpol-guard serve` (the binary of this build, or
  // $NETPOL_GUARD_TEST_BINARY when set); --listen/--health-listen default to
  // 127.0.0.1:0 and the TLS flags to the dev certs unless given.
  explicit server_process(std::vector<std::string> args, bool wait_listening = true);
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  unsigned short port() const { return port_; }
  unsigned short health_port() const { return health_port_; }
  pid_t pid() const { return pid_; }
  bool running();
  // Sends `sig` and waits up to `timeout`; returns the exit status (or -1 on
  // timeout, after which the process is killed).
  int stop(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits for the process to exit by itself.
  int wait_exit(std::chrono::milliseconds timeout);
  std::string logs() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string log_path_;
  unsigned short port_ = 0, health_port_ = 0;
};

struct command_result {
  int exit_code = -1;
  std::string out;
};
// Runs a shell command, capturing stdout (stderr goes to stdout when merge).
command_result run(const std::string& command);

std::string read_file(const std::string& path);
std::string fixture(const std::string& relative);
std::string source_dir();

}  // namespace netpol_guard::testing
