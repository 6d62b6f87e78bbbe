// The hostile-input corpus (tests/hostile/cases.json) against the real binary:
// every case gets its expected answer or a clean close, the next valid request is
// served, and repeating the corpus does not grow the process.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "../support/raw_connection.hpp"
#include "../support/server_process.hpp"
#include "../support/tls_client.hpp"

extern char** environ;

using namespace netpol_guard::testing;
using nlohmann::json;
namespace http = boost::beast::http;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

namespace {

// Timeouts the server runs with here; short so slow-client cases stay fast.
constexpr auto request_timeout = std::chrono::seconds(2);
constexpr auto idle_timeout = std::chrono::seconds(3);
// The server's default --first-request-timeout: a connection that has not
// finished its handshake and sent a request header by then is closed.
constexpr auto first_request_timeout = std::chrono::seconds(5);
// Scheduling slack allowed on top of a server timeout before it counts as a hang.
constexpr auto slack = std::chrono::seconds(3);
constexpr long max_rss_growth_kb = 50 * 1024;
// An error names what is wrong; it does not echo a hostile body back, to the
// client or into the log.
constexpr std::size_t max_error_reply_bytes = 16 * 1024;
constexpr std::size_t max_log_line_bytes = 16 * 1024;
constexpr int repeat_passes = 3;

std::string corpus_dir() { return source_dir() + "/tests/hostile"; }

std::string hex_bytes(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// A case's bytes: a file, or a template with "@@FILL@@" replaced by repeated
// text (100,000-level nesting and multi-MB strings are not committed as files).
std::string case_bytes(const json& c) {
  if (c.contains("generate")) {
    const auto& g = c["generate"];
    std::string tmpl = read_file(corpus_dir() + "/" + g["template"].get<std::string>());
    std::string fill;
    for (const auto& item : g["fill"]) {
      std::string unit =
          item.contains("hex") ? hex_bytes(item["hex"]) : item["text"].get<std::string>();
      const auto times = item["times"].get<std::size_t>();
      fill.reserve(fill.size() + unit.size() * times);
      for (std::size_t i = 0; i < times; ++i) fill += unit;
    }
    auto at = tmpl.find("@@FILL@@");
    if (at == std::string::npos) throw std::runtime_error("no @@FILL@@ in " + g["template"].dump());
    return tmpl.replace(at, 8, fill);
  }
  if (c.contains("file")) return read_file(corpus_dir() + "/" + c["file"].get<std::string>());
  return {};
}

std::string valid_review(const std::string& uid, const std::string& ns = "team-a") {
  static const std::string tmpl = read_file(corpus_dir() + "/bodies/template-pod-uid.json");
  std::string text = tmpl;
  json r = json::parse(text.replace(text.find("@@FILL@@"), 8, "\"\""));
  r["request"]["uid"] = uid;
  r["request"]["namespace"] = ns;
  r["request"]["object"]["metadata"]["namespace"] = ns;
  return r.dump();
}

std::string post_request(const std::string& body) {
  return "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

int tls_version(const std::string& name) {
  if (name == "TLSv1") return TLS1_VERSION;
  if (name == "TLSv1.1") return TLS1_1_VERSION;
  if (name == "TLSv1.2") return TLS1_2_VERSION;
  if (name == "TLSv1.3") return TLS1_3_VERSION;
  return 0;
}

using reply = raw_reply;

// The outcome of one case; assertions happen on the test's own thread.
struct outcome {
  bool ok = true;
  std::string detail;
  void fail(const std::string& why) {
    if (ok) detail = why;
    ok = false;
  }
};

outcome failed(const std::string& why) {
  outcome o;
  o.fail(why);
  return o;
}

std::string describe(const reply& r) {
  return std::to_string(r.status) + " " + r.body.substr(0, 300);
}

// What a case expects of reply `i`: "reason"/"uid" speak of the only reply of a
// body case, "reasons"/"uids"/"allowed" list one entry per reply (null: any).
json expected(const json& c, const char* single, const char* list, std::size_t i) {
  if (single && i == 0 && c.contains(single)) return c[single];
  if (c.contains(list) && i < c[list].size()) return c[list][i];
  return nullptr;
}

// Checks reply `i` of a case.
void check_reply(const json& c, std::size_t i, const reply& r, outcome& out) {
  const auto want = c["expect"][i].get<unsigned>();
  if (r.status != want) {
    out.fail("reply " + std::to_string(i + 1) + ": want " + std::to_string(want) + ", got " +
             describe(r));
    return;
  }
  if (r.content_type != "application/json") {
    out.fail("reply " + std::to_string(i + 1) + ": content type " + r.content_type);
    return;
  }
  json doc = json::parse(r.body, nullptr, false);
  if (doc.is_discarded()) {
    out.fail("reply " + std::to_string(i + 1) + " is not JSON: " + r.body.substr(0, 200));
    return;
  }
  if (want != 200) {
    if (r.body.size() > max_error_reply_bytes) {
      out.fail("error reply of " + std::to_string(r.body.size()) +
               " bytes: " + r.body.substr(0, 200));
    }
    if (!doc.contains("error") || !doc["error"].is_string() ||
        doc["error"].get<std::string>().empty()) {
      out.fail("error reply without an error message: " + r.body.substr(0, 200));
    }
    json reason = expected(c, "reason", "reasons", i);
    if (!reason.is_null() && doc.value("reason", "") != reason.get<std::string>()) {
      out.fail("reply " + std::to_string(i + 1) + ": want reason " + reason.get<std::string>() +
               ", got " + describe(r));
    }
    return;
  }
  if (!doc.contains("response") || !doc["response"].contains("uid")) {
    out.fail("200 without an AdmissionReview response: " + r.body.substr(0, 200));
    return;
  }
  json uid = expected(c, "uid", "uids", i);
  if (!uid.is_null() && doc["response"]["uid"] != uid) {
    out.fail("reply " + std::to_string(i + 1) + ": want uid " + uid.dump() + ", got " +
             describe(r));
  }
  if (i == 0 && c.contains("uid_length") &&
      doc["response"]["uid"].get<std::string>().size() != c["uid_length"].get<std::size_t>()) {
    out.fail("uid not echoed whole");
  }
  json allowed = expected(c, nullptr, "allowed", i);
  if (!allowed.is_null() && doc["response"]["allowed"] != allowed) {
    out.fail("reply " + std::to_string(i + 1) + ": want allowed=" + allowed.dump() + ", got " +
             describe(r));
  }
}

// After "open", the same connection must still answer a valid request.
void check_open(raw_connection& conn, outcome& out) {
  if (!conn.send(post_request(valid_review("same-connection")))) {
    out.fail("connection unusable after the case");
    return;
  }
  auto r = conn.read_reply(std::chrono::seconds(5));
  if (!r || r->status != 200 || r->body.find("same-connection") == std::string::npos) {
    out.fail("no valid answer on the same connection: " + (r ? describe(*r) : "no reply"));
  }
}

void check_expectations(const json& c, raw_connection& conn, outcome& out) {
  const auto& expect = c["expect"];
  for (std::size_t i = 0; i < expect.size() && out.ok; ++i) {
    if (expect[i].is_number()) {
      auto r = conn.read_reply(std::chrono::seconds(10));
      if (!r) {
        out.fail("reply " + std::to_string(i + 1) + ": none (want " + expect[i].dump() + ")");
        return;
      }
      check_reply(c, i, *r, out);
    } else if (expect[i] == "close") {
      if (!conn.closed_within(request_timeout + slack))
        out.fail("connection not closed by the server");
    } else if (expect[i] == "open") {
      check_open(conn, out);
    }
  }
}

bool timed_close(raw_connection& conn, clock_type::time_point since, std::chrono::seconds at_most,
                 std::chrono::seconds at_least, outcome& out) {
  if (!conn.closed_within(std::chrono::duration_cast<milliseconds>(at_most + slack))) {
    out.fail("not closed within " + std::to_string((at_most + slack).count()) + " s");
    return false;
  }
  auto took = clock_type::now() - since;
  if (took < at_least - std::chrono::milliseconds(500)) {
    out.fail("closed too early, after " +
             std::to_string(std::chrono::duration_cast<milliseconds>(took).count()) + " ms");
    return false;
  }
  return true;
}

outcome run_case(const json& c, unsigned short port) {
  outcome out;
  const std::string mode = c["mode"];
  const std::string bytes = case_bytes(c);
  raw_connection conn;
  raw_connection::options opts;
  std::string error;

  if (mode == "plain" || mode == "plain-idle") {
    opts.tls = false;
    if (!conn.connect(port, opts, error)) return failed(error);
    const auto start = clock_type::now();
    conn.send(bytes);  // the server may close before all of it is sent
    if (mode == "plain-idle") {
      timed_close(conn, start, first_request_timeout, first_request_timeout, out);
    } else if (!conn.closed_within(std::chrono::seconds(5))) {
      out.fail("not closed");
    }
    if (conn.received().rfind("HTTP/", 0) == 0) out.fail("answered in plain text");
    return out;
  }

  if (mode == "tls") {
    if (c.contains("min_version")) opts.min_version = tls_version(c["min_version"]);
    if (c.contains("max_version")) opts.max_version = tls_version(c["max_version"]);
    opts.ciphers = c.value("ciphers", "");
    const bool connected = conn.connect(port, opts, error);
    if (error.rfind("this OpenSSL", 0) == 0) return failed(error);
    if (c["expect"][0] == "refused") {
      if (connected) out.fail("handshake accepted with " + conn.negotiated_cipher());
      return out;
    }
    if (!connected) return failed("handshake refused: " + error);
    if (!conn.send(post_request(valid_review("tls-ok")))) return failed("send failed");
    auto r = conn.read_reply(std::chrono::seconds(5));
    if (!r || r->status != 200) out.fail("no 200 over an accepted handshake");
    return out;
  }

  if (!conn.connect(port, opts, error)) return failed("handshake: " + error);

  if (mode == "body") {
    if (!conn.send(post_request(bytes))) return failed("send failed");
    auto r = conn.read_reply(std::chrono::seconds(15));
    if (!r) return failed("no reply");
    check_reply(c, 0, *r, out);
    // A request answered with keep-alive leaves the connection usable.
    if (out.ok && r->keep_alive) check_open(conn, out);
    return out;
  }
  if (mode == "raw") {
    // The server may answer and close before the whole case is sent.
    if (!conn.send(bytes) && c["expect"].back() != "close") return failed("send failed");
    check_expectations(c, conn, out);
    return out;
  }
  if (mode == "slow") {
    const std::size_t fast = c.value("fast_prefix", std::size_t{0});
    const milliseconds interval{c["interval_ms"].get<int>()};
    const auto start = clock_type::now();
    if (fast > 0 && !conn.send(std::string_view(bytes).substr(0, fast)))
      return failed("send failed");
    for (std::size_t i = fast; i < bytes.size(); ++i) {
      if (!conn.send(std::string_view(bytes).substr(i, 1))) break;  // closed by the server
      if (conn.read_some(interval) == read_status::closed) break;
      if (clock_type::now() - start > request_timeout + slack) {
        return failed("still open after " + std::to_string(i) + " slow bytes");
      }
    }
    if (!timed_close(conn, start, request_timeout, request_timeout, out)) return out;
    if (!conn.received().empty() && conn.received().rfind("HTTP/1.1 4", 0) != 0) {
      out.fail("unexpected bytes before the close: " + conn.received().substr(0, 100));
    }
    return out;
  }
  if (mode == "idle") {
    if (!bytes.empty()) {
      if (!conn.send(bytes)) return failed("send failed");
      auto r = conn.read_reply(std::chrono::seconds(5));
      if (!r) return failed("no reply");
      check_reply(c, 0, *r, out);
    }
    timed_close(conn, clock_type::now(), idle_timeout, idle_timeout, out);
    return out;
  }
  if (mode == "disconnect") {
    const auto n = c["send_bytes"].get<std::size_t>();
    conn.send(std::string_view(bytes).substr(0, std::min(n, bytes.size())));
    conn.drop(c.value("reset", false));
    return out;
  }
  out.fail("unknown mode " + mode);
  return out;
}

bool is_slow(const json& c) {
  const std::string mode = c["mode"];
  return mode == "slow" || mode == "idle" || mode == "plain-idle" || c.value("slow", false);
}

json load_corpus() {
  std::ifstream in(corpus_dir() + "/cases.json");
  REQUIRE(in);
  return json::parse(in);
}

long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
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
    r.peak_rss_kb = std::max(r.peak_rss_kb, rss_kb(pid));
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
  // Under ASan, freed memory sits in a quarantine of up to 256 MB, which would
  // read as growth; keep it small so RSS measures what the server holds.
  std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  ::setenv("ASAN_OPTIONS", (asan + (asan.empty() ? "" : ":") + "quarantine_size_mb=8").c_str(), 1);
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

  const long rss_before = rss_kb(s.pid());
  REQUIRE(rss_before > 0);
  for (int pass = 0; pass < repeat_passes; ++pass) run_fast_cases(s, corpus);
  const long rss_after = rss_kb(s.pid());
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
