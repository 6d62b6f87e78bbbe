#include "netpol_guard/admission/webhook.hpp"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace netpol_guard;
using Catch::Matchers::Contains;
using nlohmann::json;
namespace net = boost::asio;
using std::chrono::milliseconds;

namespace {

// The cached state: one fixed snapshot, or a failure on every read.
class fake_state final : public namespace_state {
 public:
  explicit fake_state(namespace_snapshot s = {})
      : snapshot_(std::make_shared<const namespace_snapshot>(std::move(s))) {}
  std::shared_ptr<const namespace_snapshot> snapshot() const override {
    if (broken) throw std::runtime_error("state exploded");
    return snapshot_;
  }
  state_readiness readiness() const override { return {true, {}, 0}; }

  bool broken = false;

 private:
  std::shared_ptr<const namespace_snapshot> snapshot_;
};

// The apiserver as the handler sees it: a script of answers, one per read (the
// last one repeats); `hang` makes every read run out its timeout and fail.
class fake_reader final : public live_policy_reader {
 public:
  net::awaitable<std::optional<namespace_entry>> read_namespace(std::string ns,
                                                                milliseconds timeout) override {
    namespaces_read.push_back(ns);
    timeouts.push_back(timeout);
    if (hang) {
      net::steady_timer timer(co_await net::this_coro::executor);
      timer.expires_after(timeout);
      co_await timer.async_wait(net::use_awaitable);
      co_return std::nullopt;
    }
    if (answers.empty()) co_return std::nullopt;
    const std::size_t i = std::min(namespaces_read.size() - 1, answers.size() - 1);
    co_return answers[i];
  }
  bool provisioning(const std::string& ns) const override { return provisioning_ns == ns; }
  void namespace_admitted(const std::string& ns) override { admitted.push_back(ns); }

  std::vector<std::optional<namespace_entry>> answers;
  bool hang = false;
  std::string provisioning_ns;
  std::vector<std::string> namespaces_read;
  std::vector<milliseconds> timeouts;
  std::vector<std::string> admitted;
};

namespace_entry entry_with(deny_all_coverage c) {
  namespace_entry e;
  e.known_namespace = true;
  if (c.any()) {
    e.baselines.push_back({"default-deny-all", c, "2026-01-01T00:00:00Z"});
    e.policy_count = 1;
  }
  return e;
}

namespace_snapshot snapshot_with(const std::string& ns, deny_all_coverage c) {
  namespace_map m;
  m.emplace(ns, entry_with(c));
  return namespace_snapshot(std::move(m), "test");
}

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(NETPOL_GUARD_FIXTURES) + "/admission/" + name);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A Pod CREATE in namespace "team-c" (the fixture).
const std::string pod_ns = "team-c";
std::string pod_create() { return fixture("pod-create.json"); }

// Runs one review to completion on its own io_context, as a session would.
webhook_answer run(webhook& w, const std::string& body) {
  net::io_context io;
  std::optional<webhook_answer> out;
  std::exception_ptr failure;
  net::co_spawn(io, w.review(body), [&](std::exception_ptr e, webhook_answer a) {
    failure = e;
    out = std::move(a);
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
  REQUIRE(out);
  return *out;
}

json response_of(const webhook_answer& a) {
  REQUIRE(a.status == 200);
  auto doc = json::parse(a.body);
  REQUIRE(doc["kind"] == "AdmissionReview");
  return doc["response"];
}

// "<series> <value>" from the exposition text; 0 when the series is absent
// (counters with no increments are not all rendered).
double metric(const admission_stats& m, const std::string& series) {
  stats::exposition out;
  m.write_requests(out);
  m.write_confirmations(out);
  std::istringstream in(out.text());
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return 0;
}

double requests(const admission_stats& m, const std::string& decision) {
  return metric(m, "netpol_guard_admission_requests_total{decision=\"" + decision +
                       "\",kind=\"Pod\",operation=\"CREATE\"}");
}

double confirmations(const admission_stats& m, const std::string& result) {
  return metric(m, "netpol_guard_confirmations_total{result=\"" + result + "\"}");
}

// What the handler writes to stderr (the log) while `body` runs.
class stderr_capture {
 public:
  stderr_capture() : file_(std::tmpfile()) {
    REQUIRE(file_ != nullptr);
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    ::dup2(::fileno(file_), STDERR_FILENO);
  }
  ~stderr_capture() {
    restore();
    std::fclose(file_);
  }
  std::string text() {
    restore();
    std::rewind(file_);
    std::string out;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, file_)) > 0;) out.append(buf, n);
    return out;
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }
  std::FILE* file_;
  int saved_ = -1;
};

webhook_options options(bool audit_only = false) {
  webhook_options o;
  o.decision.audit_only = audit_only;
  o.confirm_timeout = milliseconds(50);
  o.provision_wait = milliseconds(300);
  return o;
}

}  // namespace

TEST_CASE("a cached denial that the live read overturns is allowed", "[webhook]") {
  fake_state state;  // the cache knows no baseline in team-c
  fake_reader reader;
  reader.answers = {entry_with({true, true})};
  admission_stats m;
  webhook w(state, options(), m, &reader);

  auto r = response_of(run(w, pod_create()));
  CHECK(r["allowed"] == true);
  CHECK_FALSE(r.contains("status"));
  CHECK(reader.namespaces_read == std::vector<std::string>{pod_ns});
  CHECK(reader.timeouts == std::vector<milliseconds>{milliseconds(50)});
  CHECK(confirmations(m, "overturned") == 1);
  CHECK(confirmations(m, "confirmed") == 0);
  CHECK(requests(m, "allowed") == 1);
}

TEST_CASE("a cached denial that the live read confirms is denied", "[webhook]") {
  fake_state state(snapshot_with(pod_ns, {true, false}));
  fake_reader reader;
  reader.answers = {entry_with({true, false})};
  admission_stats m;
  webhook w(state, options(), m, &reader);

  auto r = response_of(run(w, pod_create()));
  CHECK(r["allowed"] == false);
  CHECK(r["status"]["code"] == 403);
  CHECK_THAT(r["status"]["message"].get<std::string>(),
             Contains("has no default-deny egress NetworkPolicy"));
  CHECK(reader.namespaces_read.size() == 1);  // not provisioning: no second read
  CHECK(confirmations(m, "confirmed") == 1);
  CHECK(confirmations(m, "overturned") == 0);
  CHECK(requests(m, "denied") == 1);
}

TEST_CASE("a compliant namespace is allowed without a live read", "[webhook]") {
  fake_state state(snapshot_with(pod_ns, {true, true}));
  fake_reader reader;
  admission_stats m;
  webhook w(state, options(), m, &reader);

  CHECK(response_of(run(w, pod_create()))["allowed"] == true);
  CHECK(reader.namespaces_read.empty());
  CHECK(confirmations(m, "confirmed") + confirmations(m, "overturned") == 0);
}

TEST_CASE("with the apiserver unreachable the cached decision stands, logged and counted",
          "[webhook]") {
  fake_state state;
  fake_reader reader;
  admission_stats m;
  webhook w(state, options(), m, &reader);

  SECTION("the read fails at once") { reader.answers = {}; }
  SECTION("the read runs out its timeout") { reader.hang = true; }

  stderr_capture log;
  const auto start = std::chrono::steady_clock::now();
  auto r = response_of(run(w, pod_create()));
  const auto took = std::chrono::steady_clock::now() - start;
  const std::string logged = log.text();

  CHECK(r["allowed"] == false);
  CHECK(r["status"]["code"] == 403);
  CHECK(reader.namespaces_read.size() == 1);
  CHECK(took < milliseconds(300));  // one bounded read, no provisioning wait
  CHECK(confirmations(m, "unavailable") == 1);
  CHECK(confirmations(m, "confirmed") == 0);
  CHECK(m.errors(admission_error::confirm_failed) == 1);
  CHECK_THAT(logged,
             Contains(R"("level":"warn","msg":"live read failed; deciding from cached state")"));
  CHECK_THAT(logged, Contains(R"("namespace":"team-c")"));
  CHECK_THAT(logged, Contains(R"("uid":"705ab4f5-6393-11e8-b7cc-42010a800002")"));
}

TEST_CASE("without a live reader the cached denial stands", "[webhook]") {
  fake_state state;
  admission_stats m;
  webhook w(state, options(), m);
  CHECK(response_of(run(w, pod_create()))["allowed"] == false);
  CHECK(confirmations(m, "unavailable") + confirmations(m, "confirmed") == 0);
}

TEST_CASE("a pod in a namespace being provisioned waits for its policy, within a bound",
          "[webhook]") {
  fake_state state;
  fake_reader reader;
  reader.provisioning_ns = pod_ns;
  admission_stats m;
  webhook w(state, options(), m, &reader);

  SECTION("the policy appears on the third read: allowed") {
    reader.answers = {entry_with({}), entry_with({}), entry_with({true, true})};
    auto r = response_of(run(w, pod_create()));
    CHECK(r["allowed"] == true);
    CHECK(reader.namespaces_read.size() == 3);
    CHECK(confirmations(m, "overturned") == 1);
  }
  SECTION("the policy never appears: denied once the bound has passed") {
    reader.answers = {entry_with({})};
    const auto start = std::chrono::steady_clock::now();
    auto r = response_of(run(w, pod_create()));
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(r["allowed"] == false);
    CHECK(r["status"]["code"] == 403);
    CHECK(took >= milliseconds(300));
    CHECK(took < milliseconds(1000));
    // One read every 100 ms over the 300 ms bound, then the answer.
    CHECK(reader.namespaces_read.size() >= 3);
    CHECK(reader.namespaces_read.size() <= 5);
    CHECK(confirmations(m, "confirmed") == 1);
  }
}

TEST_CASE("audit mode allows what it would deny, with a warning and annotations", "[webhook]") {
  fake_state state;
  fake_reader reader;
  reader.answers = {entry_with({})};
  admission_stats m;
  webhook w(state, options(/*audit_only=*/true), m, &reader);

  stderr_capture log;
  auto r = response_of(run(w, pod_create()));
  const std::string logged = log.text();
  CHECK(r["allowed"] == true);
  CHECK_FALSE(r.contains("status"));
  REQUIRE(r["warnings"].size() == 1);
  CHECK_THAT(r["warnings"][0].get<std::string>(), Contains("CIS 5.3.2"));
  CHECK(r["auditAnnotations"]["cis-5.3.2-missing"] == "ingress,egress");
  CHECK(reader.namespaces_read.size() == 1);  // audit confirms too
  CHECK(confirmations(m, "confirmed") == 1);
  CHECK(requests(m, "audit") == 1);
  CHECK_THAT(logged, Contains(R"("msg":"audit: would deny")"));
}

TEST_CASE("an internal error is answered with an AdmissionReview, never thrown", "[webhook]") {
  fake_state state;
  fake_reader reader;
  admission_stats m;

  SECTION("the state throws: enforce mode refuses") {
    state.broken = true;
    webhook w(state, options(), m, &reader);
    auto r = response_of(run(w, pod_create()));
    CHECK(r["uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002");
    CHECK(r["allowed"] == false);
    CHECK(r["status"]["code"] == 500);
    CHECK(r["status"]["reason"] == "InternalError");
    CHECK(r["status"]["message"] == "netpol-guard internal error; see its logs");
    CHECK(m.errors(admission_error::internal) == 1);
    CHECK(reader.namespaces_read.empty());
  }
  SECTION("the state throws: audit mode allows") {
    state.broken = true;
    webhook w(state, options(/*audit_only=*/true), m, &reader);
    auto r = response_of(run(w, pod_create()));
    CHECK(r["allowed"] == true);
    CHECK(m.errors(admission_error::internal) == 1);
  }
}

TEST_CASE("an undecodable body is answered 400 with a JSON error and counted", "[webhook]") {
  fake_state state;
  admission_stats m;
  webhook w(state, options(), m);
  auto a = run(w, "{not json");
  CHECK(a.status == 400);
  auto doc = json::parse(a.body);
  CHECK(doc["reason"] == "malformed_json");
  CHECK(m.errors(admission_error::malformed_json) == 1);
  CHECK(m.requests_total() == 0);
}

TEST_CASE("an admitted Namespace CREATE is reported to the provisioner", "[webhook]") {
  fake_state state;
  fake_reader reader;
  admission_stats m;
  auto o = options();
  o.decision.provision_default_deny = true;
  webhook w(state, o, m, &reader);

  auto r = response_of(run(w, fixture("namespace-create.json")));
  CHECK(r["allowed"] == true);
  REQUIRE(r["warnings"].size() == 1);
  REQUIRE(reader.admitted.size() == 1);
  CHECK(reader.admitted[0] == json::parse(fixture("namespace-create.json"))["request"]["name"]);
}

// ---------------------------------------------------------------------------
// Per-namespace mode and exemptions (issue 13)
// ---------------------------------------------------------------------------

namespace {

using std::chrono::sys_seconds;

// 2026-06-01T00:00:00Z, the fake wall clock's start.
constexpr sys_seconds t0{std::chrono::seconds{1780272000}};

namespace_entry entry_in(namespace_settings s, deny_all_coverage c = {}) {
  namespace_entry e = entry_with(c);
  e.settings = std::move(s);
  return e;
}

namespace_settings mode_enforce() {
  namespace_settings s;
  s.mode = namespace_mode::enforce;
  return s;
}

namespace_settings exempt_until(sys_seconds until, const std::string& until_text) {
  namespace_settings s;
  s.exempt = exemption{{true, true}, "migration (TICKET-9)", until_text, until};
  return s;
}

namespace_snapshot snapshot_of_entry(const std::string& ns, namespace_entry e) {
  namespace_map m;
  m.emplace(ns, std::move(e));
  return namespace_snapshot(std::move(m), "test");
}

double admitted_by_exemption(const admission_stats& m) {
  stats::exposition out;
  m.write_admitted_by_exemption(out);
  std::istringstream in(out.text());
  std::string line;
  const std::string series = "netpol_guard_admitted_by_exemption_total ";
  while (std::getline(in, line)) {
    if (line.rfind(series, 0) == 0) return std::stod(line.substr(series.size()));
  }
  return -1;
}

}  // namespace

TEST_CASE("confirm keeps the namespace's mode: an enforce label's denial stays a denial",
          "[webhook][rollout]") {
  // --audit-only, but team-c says mode=enforce, in the cache and in the live read.
  fake_state state(snapshot_of_entry(pod_ns, entry_in(mode_enforce())));
  fake_reader reader;
  reader.answers = {entry_in(mode_enforce())};
  admission_stats m;
  webhook w(state, options(/*audit_only=*/true), m, &reader);

  auto r = response_of(run(w, pod_create()));
  CHECK(r["allowed"] == false);
  CHECK(r["status"]["code"] == 403);
  CHECK(reader.namespaces_read == std::vector<std::string>{pod_ns});
  CHECK(confirmations(m, "confirmed") == 1);
  CHECK(requests(m, "denied") == 1);
  SECTION("a live read without the label would audit it: the label is what decides") {
    reader.answers = {entry_with({})};
    auto again = response_of(run(w, pod_create()));
    CHECK(again["allowed"] == true);
    CHECK(requests(m, "audit") == 1);
  }
}

TEST_CASE("a pod admitted by its namespace's exemption is annotated and counted",
          "[webhook][rollout]") {
  fake_state state(snapshot_of_entry(
      pod_ns, entry_in(exempt_until(t0 + std::chrono::hours(24), "2026-06-02T00:00:00Z"))));
  fake_reader reader;
  admission_stats m;
  auto o = options();
  o.wall_clock = [] { return t0; };
  webhook w(state, o, m, &reader);

  CHECK(admitted_by_exemption(m) == 0);
  auto r = response_of(run(w, pod_create()));
  CHECK(r["allowed"] == true);
  CHECK_FALSE(r.contains("warnings"));
  CHECK(r["auditAnnotations"]["cis-5.3.2-exempt"] == "ingress,egress");
  CHECK(r["auditAnnotations"]["cis-5.3.2-exempt-reason"] == "migration (TICKET-9)");
  CHECK(r["auditAnnotations"]["cis-5.3.2-exempt-until"] == "2026-06-02T00:00:00Z");
  CHECK(reader.namespaces_read.empty());  // nothing to confirm
  CHECK(requests(m, "allowed") == 1);
  CHECK(admitted_by_exemption(m) == 1);
  run(w, pod_create());
  CHECK(admitted_by_exemption(m) == 2);
}

TEST_CASE("the wall clock moves an exemption from active to expired", "[webhook][rollout]") {
  const sys_seconds until = t0 + std::chrono::hours(1);
  const auto exempted = entry_in(exempt_until(until, "2026-06-01T01:00:00Z"));
  fake_state state(snapshot_of_entry(pod_ns, exempted));
  fake_reader reader;
  reader.answers = {exempted};  // the live read agrees with the cache
  admission_stats m;
  sys_seconds now = t0;
  auto o = options();
  o.wall_clock = [&now] { return now; };
  webhook w(state, o, m, &reader);

  CHECK(response_of(run(w, pod_create()))["allowed"] == true);
  CHECK(admitted_by_exemption(m) == 1);

  now = until - std::chrono::seconds(1);
  CHECK(response_of(run(w, pod_create()))["allowed"] == true);

  now = until;
  auto r = response_of(run(w, pod_create()));
  CHECK(r["allowed"] == false);
  CHECK(r["status"]["code"] == 403);
  CHECK_THAT(r["status"]["message"].get<std::string>(),
             Contains("exemption expired at 2026-06-01T01:00:00Z"));
  CHECK(confirmations(m, "confirmed") == 1);  // the live re-decision judged at the same now
  CHECK(admitted_by_exemption(m) == 2);
}

TEST_CASE("a warned Namespace UPDATE is not reported to the provisioner", "[webhook][rollout]") {
  fake_state state;
  fake_reader reader;
  admission_stats m;
  auto o = options();
  o.decision.provision_default_deny = true;
  o.wall_clock = [] { return t0; };
  webhook w(state, o, m, &reader);

  auto review = json::parse(fixture("namespace-update.json"));
  review["request"]["userInfo"]["groups"] = {"system:masters"};
  review["request"]["object"]["metadata"]["labels"]["netpol-guard.k8s-security-pro.io/mode"] =
      "warn";
  auto r = response_of(run(w, review.dump()));
  CHECK(r["allowed"] == true);
  CHECK(r["warnings"].size() == 1);
  CHECK(reader.admitted.empty());
  CHECK(metric(m,
               "netpol_guard_admission_requests_total{decision=\"warned\",kind=\"Namespace\","
               "operation=\"UPDATE\"}") == 1);
}
