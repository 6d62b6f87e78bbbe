#include "hostile_corpus.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string_view>

#include "../support/raw_connection.hpp"
#include "../support/server_process.hpp"

namespace netpol_guard::testing {

using nlohmann::json;
using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

namespace {

// Timeouts the corpus test runs the server with; short so slow-client cases stay fast.
constexpr auto request_timeout = std::chrono::seconds(2);
constexpr auto idle_timeout = std::chrono::seconds(3);
// The server's default --first-request-timeout: a connection that has not
// finished its handshake and sent a request header by then is closed.
constexpr auto first_request_timeout = std::chrono::seconds(5);
// Scheduling slack allowed on top of a server timeout before it counts as a hang.
constexpr auto slack = std::chrono::seconds(3);
// An error names what is wrong; it does not echo a hostile body back to the
// client.
constexpr std::size_t max_error_reply_bytes = 16 * 1024;

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

}  // namespace

std::string corpus_dir() { return source_dir() + "/tests/hostile"; }

std::string valid_review(const std::string& uid, const std::string& ns) {
  static const std::string tmpl = read_file(corpus_dir() + "/bodies/template-pod-uid.json");
  std::string text = tmpl;
  json r = json::parse(text.replace(text.find("@@FILL@@"), 8, "\"\""));
  r["request"]["uid"] = uid;
  r["request"]["namespace"] = ns;
  r["request"]["object"]["metadata"]["namespace"] = ns;
  return r.dump();
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

}  // namespace netpol_guard::testing
