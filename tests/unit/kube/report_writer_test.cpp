#include "netpol_guard/kube/report_writer.hpp"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "netpol_guard/netpol/policy_report.hpp"
#include "scripted_source.hpp"

using namespace netpol_guard;
using namespace netpol_guard::kube;
namespace net = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string reports_list =
    "/apis/openreports.io/v1alpha1/"
    "reports?labelSelector=app.kubernetes.io/managed-by%3Dnetpol-guard&limit=500";
const std::string policyreports_list =
    "/apis/wgpolicyk8s.io/v1alpha2/"
    "policyreports?labelSelector=app.kubernetes.io/managed-by%3Dnetpol-guard&limit=500";
const std::string all_pods =
    "/api/v1/pods?fieldSelector=status.phase!%3DSucceeded,status.phase!%3DFailed&limit=500";

// An apiserver that holds reports and pods: LISTs (one page of each), and
// server-side apply that stores the object. `patch_replies` answers PATCHes
// first, then they succeed; `crd_served` false answers every report request
// with the apiserver's plain 404.
class report_apiserver final : public api_transport {
 public:
  std::map<std::string, json> reports;  // by namespace
  std::map<std::string, int> pods;      // running pods by namespace
  bool crd_served = true;
  std::deque<unsigned> patch_replies;
  std::size_t page_size = 0;  // > 0: the reports LIST answers in pages
  std::vector<std::pair<http::verb, std::string>> calls;
  std::map<std::string, int> patches;  // by namespace
  int namespace_lists = 0;             // pod LISTs of one namespace
  std::vector<std::string> patch_targets;

  net::awaitable<api_reply> request(http::verb verb, std::string target, std::string body,
                                    std::chrono::milliseconds timeout) override {
    CHECK(timeout == 1s);
    calls.emplace_back(verb, target);
    const bool report_path = target.rfind("/apis/openreports.io/", 0) == 0 ||
                             target.rfind("/apis/wgpolicyk8s.io/", 0) == 0;
    if (report_path && !crd_served) co_return api_reply{404, "404 page not found", ""};
    if (verb == http::verb::get && page_size > 0 && target.rfind(reports_list, 0) == 0) {
      // Pages of `page_size`; the token needs escaping ("+" and "=" as base64 has).
      std::size_t from = 0;
      if (target.size() > reports_list.size()) {
        const std::string prefix = reports_list + "&continue=page%2B";
        REQUIRE(target.rfind(prefix, 0) == 0);
        REQUIRE(target.substr(target.size() - 3) == "%3D");
        from = std::stoul(target.substr(prefix.size(), target.size() - prefix.size() - 3));
      }
      json items = json::array();
      std::size_t i = 0;
      for (const auto& [ns, r] : reports) {
        if (i >= from && i < from + page_size) items.push_back(r);
        ++i;
      }
      json list{{"kind", "ReportList"}, {"items", items}, {"metadata", json::object()}};
      if (from + page_size < reports.size()) {
        list["metadata"]["continue"] = "page+" + std::to_string(from + page_size) + "=";
      }
      co_return api_reply{200, list.dump(), ""};
    }
    if (verb == http::verb::get && (target == reports_list || target == policyreports_list)) {
      json items = json::array();
      for (const auto& [ns, r] : reports) items.push_back(r);
      co_return api_reply{200, json{{"kind", "ReportList"}, {"items", items}}.dump(), ""};
    }
    if (verb == http::verb::get && target == all_pods) {
      json items = json::array();
      for (const auto& [ns, n] : pods) {
        for (int i = 0; i < n; ++i) items.push_back({{"metadata", {{"namespace", ns}}}});
      }
      co_return api_reply{200, json{{"kind", "PodList"}, {"items", items}}.dump(), ""};
    }
    if (verb == http::verb::get && target.rfind("/api/v1/namespaces/", 0) == 0) {
      const auto at = std::string("/api/v1/namespaces/").size();
      const std::string ns = target.substr(at, target.find('/', at) - at);
      CHECK(target == "/api/v1/namespaces/" + ns + all_pods.substr(std::string("/api/v1").size()));
      namespace_lists++;
      json items = json::array();
      for (int i = 0; i < pods[ns]; ++i) items.push_back({{"metadata", {{"namespace", ns}}}});
      co_return api_reply{200, json{{"kind", "PodList"}, {"items", items}}.dump(), ""};
    }
    if (verb == http::verb::patch && report_path) {
      const auto at = target.find("/namespaces/") + 12;
      const std::string ns = target.substr(at, target.find('/', at) - at);
      CHECK(target.find("/netpol-guard?fieldManager=netpol-guard&force=true") != std::string::npos);
      patch_targets.push_back(target);
      patches[ns]++;
      if (!patch_replies.empty()) {
        auto status = patch_replies.front();
        patch_replies.pop_front();
        co_return api_reply{status, "{\"kind\":\"Status\",\"reason\":\"TooManyRequests\"}", ""};
      }
      reports[ns] = json::parse(body);
      co_return api_reply{200, body, ""};
    }
    FAIL("unexpected request " << target);
    co_return api_reply{500, "", ""};
  }

  net::awaitable<watch_outcome> stream(std::string, std::chrono::milliseconds,
                                       std::function<bool(std::string_view)>) override {
    co_return watch_outcome{0, "not scripted", ""};
  }

  std::size_t count(http::verb verb) const {
    std::size_t n = 0;
    for (const auto& c : calls) n += c.first == verb ? 1 : 0;
    return n;
  }
};

// A namespace_state that publishes what the test gives it, telling the writer
// first as the live source does.
class test_state final : public namespace_state {
 public:
  std::shared_ptr<const namespace_snapshot> snapshot() const override { return cell_.load(); }
  state_readiness readiness() const override { return {true, "", 0}; }
  void publish(namespace_map entries, report_writer* w) {
    auto s = std::make_shared<const namespace_snapshot>(std::move(entries), "cluster");
    if (w != nullptr) w->published(*s);
    cell_.publish(std::move(s));
  }

 private:
  snapshot_cell cell_;
};

const std::set<std::string, std::less<>> exempt{"kube-system"};

namespace_entry ns_entry(deny_all_coverage c) {
  namespace_entry e;
  e.known_namespace = true;
  if (c.any()) e.baselines.push_back({"default-deny-all", c, ""});
  return e;
}

namespace_map cluster() {
  namespace_map m;
  m["compliant"] = ns_entry({true, true});
  m["ingress-only"] = ns_entry({true, false});
  m["empty"] = ns_entry({});
  m["kube-system"] = ns_entry({});
  return m;
}

report_writer_options fast() {
  report_writer_options o;
  o.interval = 200ms;
  o.resync = 10min;
  o.crd_retry = 10min;
  o.request_timeout = 1s;
  o.exempt_namespaces = exempt;
  return o;
}

json desired(const std::string& ns, const namespace_map& m, int pods) {
  const evaluation_context ctx{
      .exempt_namespaces = exempt,
      .audit_only = false,
      .deny_allow_all = false,
      .now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())};
  return report_object(build_policy_report(ns, &m.at(ns), ctx, static_cast<unsigned>(pods)),
                       openreports_report, ctx.now - 3600s);
}

struct fixture {
  report_apiserver api;
  test_state state;
  leadership leader = leadership::alone();
  kube_stats m;
  net::io_context ioc;
  std::unique_ptr<report_writer> writer;

  explicit fixture(report_writer_options o = fast()) {
    writer = std::make_unique<report_writer>(api, state, std::move(o), leader, m);
  }
  void run_for(std::chrono::milliseconds d) {
    ioc.restart();
    ioc.run_for(d);
  }
  void finish() {
    writer->stop();
    ioc.restart();
    ioc.run_for(200ms);
    CHECK(ioc.stopped());
  }
};

}  // namespace

TEST_CASE("a steady cluster causes no writes", "[kube][report_writer]") {
  fixture f;
  auto m = cluster();
  f.api.pods = {{"empty", 2}, {"ingress-only", 1}};
  for (const auto& ns : {"compliant", "ingress-only", "empty", "kube-system"}) {
    f.api.reports[ns] = desired(ns, m, f.api.pods[ns]);
  }
  f.state.publish(m, f.writer.get());
  f.writer->start(f.ioc.get_executor());
  f.run_for(600ms);
  // Republishing the same state changes nothing either.
  for (int i = 0; i < 5; ++i) f.state.publish(cluster(), f.writer.get());
  f.run_for(600ms);
  f.finish();
  CHECK(f.api.count(http::verb::patch) == 0);
  CHECK(f.api.calls.size() == 2);  // one LIST of reports, one of pods
  CHECK(f.m.report_writes(report_write::unchanged) == 4);
  CHECK(f.m.report_writes(report_write::written) == 0);
}

TEST_CASE("missing reports are written once, with the right content", "[kube][report_writer]") {
  fixture f;
  f.api.pods = {{"empty", 2}};
  f.state.publish(cluster(), f.writer.get());
  f.writer->start(f.ioc.get_executor());
  f.run_for(800ms);
  f.finish();
  CHECK(f.api.count(http::verb::patch) == 4);
  CHECK(f.m.report_writes(report_write::written) == 4);
  REQUIRE(f.api.reports.count("empty") == 1);
  const auto& r = f.api.reports["empty"];
  CHECK(r["summary"]["fail"] == 2);
  CHECK(r["results"][0]["properties"]["unprotectedPods"] == "2");
  CHECK(f.api.reports["kube-system"]["summary"]["skip"] == 2);
  CHECK(f.api.reports["compliant"]["summary"]["pass"] == 2);
}

TEST_CASE("1,000 policy changes in one namespace cause a handful of writes",
          "[kube][report_writer]") {
  auto o = fast();
  o.interval = 500ms;
  fixture f(o);
  auto m = cluster();
  for (const auto& ns : {"compliant", "ingress-only", "empty", "kube-system"}) {
    f.api.reports[ns] = desired(ns, m, 0);
  }
  f.state.publish(m, f.writer.get());
  f.writer->start(f.ioc.get_executor());
  // 1,000 changes, one a millisecond or so: the namespace loses and regains egress.
  bool done = false;
  std::chrono::steady_clock::duration changing{};
  net::co_spawn(
      f.ioc,
      [&]() -> net::awaitable<void> {
        net::steady_timer t(co_await net::this_coro::executor);
        const auto began = std::chrono::steady_clock::now();
        for (int i = 0; i < 1000; ++i) {
          auto next = cluster();
          next["compliant"] = ns_entry({true, i % 2 == 1});
          f.state.publish(std::move(next), f.writer.get());
          t.expires_after(1ms);
          co_await t.async_wait(net::use_awaitable);
        }
        changing = std::chrono::steady_clock::now() - began;
        done = true;
      },
      net::detached);
  for (int i = 0; i < 100 && !done; ++i) f.run_for(200ms);
  f.run_for(1000ms);
  f.finish();
  REQUIRE(done);
  // One write per 500 ms interval at most while the changes last, and the last one.
  const auto bound = static_cast<int>(changing / 500ms) + 2;
  INFO("changes took " << std::chrono::duration_cast<std::chrono::milliseconds>(changing).count()
                       << " ms");
  CHECK(f.api.patches["compliant"] >= 1);
  CHECK(f.api.patches["compliant"] <= bound);
  CHECK(f.api.patches.size() == 1);
  // The last change (egress denied again) is what the cluster holds.
  CHECK(f.api.reports["compliant"]["summary"]["pass"] == 2);
}

TEST_CASE("a replica that does not lead writes nothing", "[kube][report_writer]") {
  fixture f;
  f.leader.lost();
  f.state.publish(cluster(), f.writer.get());
  f.writer->start(f.ioc.get_executor());
  f.run_for(700ms);
  CHECK(f.api.calls.empty());
  // Leading again: it reads the cluster, then writes.
  f.leader.acquired();
  f.run_for(1000ms);
  f.finish();
  CHECK(f.api.count(http::verb::patch) == 4);
}

TEST_CASE("nothing is read or written until both lists are in", "[kube][report_writer]") {
  fixture f;
  std::atomic<bool> lists_in{false};
  f.writer->set_sync_probe([&lists_in] { return lists_in.load(); });
  f.state.publish(cluster(), f.writer.get());
  f.writer->start(f.ioc.get_executor());
  f.run_for(700ms);
  CHECK(f.api.calls.empty());
  lists_in = true;
  f.run_for(1000ms);
  f.finish();
  CHECK(f.api.count(http::verb::patch) == 4);
}

TEST_CASE("a CRD that is not served is counted once and not asked again until the retry",
          "[kube][report_writer]") {
  fixture f;
  f.api.crd_served = false;
  f.state.publish(cluster(), f.writer.get());
  f.writer->start(f.ioc.get_executor());
  f.run_for(500ms);
  f.state.publish(cluster(), f.writer.get());
  f.run_for(500ms);
  f.finish();
  CHECK(f.api.calls.size() == 1);
  CHECK(f.m.errors(kube_error::reports_not_served) == 1);
  CHECK(f.api.count(http::verb::patch) == 0);
}

TEST_CASE("a CRD installed later is found at the retry", "[kube][report_writer]") {
  auto o = fast();
  o.crd_retry = 300ms;
  fixture f(o);
  f.api.crd_served = false;
  f.state.publish(cluster(), f.writer.get());
  f.writer->start(f.ioc.get_executor());
  f.run_for(150ms);
  f.api.crd_served = true;
  f.run_for(1000ms);
  f.finish();
  CHECK(f.m.errors(kube_error::reports_not_served) == 1);
  CHECK(f.api.count(http::verb::patch) == 4);
}

TEST_CASE("a 429 backs off, then the write succeeds", "[kube][report_writer]") {
  fixture f;
  namespace_map one;
  one["team-a"] = ns_entry({true, true});
  f.api.patch_replies = {429};
  f.state.publish(one, f.writer.get());
  f.writer->start(f.ioc.get_executor());
  f.run_for(600ms);
  CHECK(f.api.patches["team-a"] == 1);  // still backing off (1 s)
  f.run_for(1200ms);
  f.finish();
  CHECK(f.api.patches["team-a"] == 2);
  CHECK(f.m.report_writes(report_write::failure) == 1);
  CHECK(f.m.report_writes(report_write::written) == 1);
  CHECK(f.m.errors(kube_error::report_failed) == 0);
  CHECK(f.api.reports["team-a"]["summary"]["pass"] == 2);
}

TEST_CASE("a leader that loses its Lease stops writing", "[kube][report_writer]") {
  fixture f;
  auto m = cluster();
  for (const auto& ns : {"compliant", "ingress-only", "empty", "kube-system"}) {
    f.api.reports[ns] = desired(ns, m, 0);
  }
  f.state.publish(m, f.writer.get());
  f.writer->start(f.ioc.get_executor());
  f.run_for(400ms);
  f.leader.lost();
  auto changed = cluster();
  changed["compliant"] = ns_entry({});
  f.state.publish(changed, f.writer.get());
  f.run_for(600ms);
  f.finish();
  CHECK(f.api.count(http::verb::patch) == 0);
}

TEST_CASE("the writer can be destroyed without start and after stop", "[kube][report_writer]") {
  report_apiserver api;
  test_state state;
  leadership leader = leadership::alone();
  kube_stats m;
  { report_writer w(api, state, fast(), leader, m); }
  net::io_context ioc;
  {
    report_writer w(api, state, fast(), leader, m);
    w.start(ioc.get_executor());
    w.stop();
    ioc.run_for(300ms);
  }
  CHECK(ioc.stopped());
  CHECK(api.calls.empty());
}

TEST_CASE("an exemption's expiry flips its result without any other change",
          "[kube][report_writer]") {
  fixture f;
  namespace_map m;
  auto e = ns_entry({false, true});
  const auto until =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) + 2s;
  e.settings.exempt = exemption{.directions = {true, false},
                                .reason = "migration",
                                .until_text = "in two seconds",
                                .until = until};
  m["legacy"] = e;
  f.state.publish(m, f.writer.get());
  f.writer->start(f.ioc.get_executor());
  f.run_for(500ms);
  CHECK(f.api.patches["legacy"] == 1);
  CHECK(f.api.reports["legacy"]["results"][0]["result"] == "skip");
  f.run_for(3500ms);
  f.finish();
  CHECK(f.api.patches["legacy"] == 2);
  CHECK(f.api.reports["legacy"]["results"][0]["result"] == "fail");
  CHECK(f.api.reports["legacy"]["results"][0]["properties"].count("exemptUntil") == 0);
}

TEST_CASE("with reports=policyreport the same content is a wgpolicyk8s.io PolicyReport",
          "[kube][report_writer]") {
  auto o = fast();
  o.api = report_api::policyreport;
  fixture f(o);
  namespace_map one;
  one["team-a"] = ns_entry({true, true});
  f.state.publish(one, f.writer.get());
  f.writer->start(f.ioc.get_executor());
  f.run_for(500ms);
  f.finish();
  REQUIRE(f.api.calls.size() == 3);
  CHECK(f.api.calls[0].second == policyreports_list);
  CHECK(f.api.patch_targets ==
        std::vector<std::string>{"/apis/wgpolicyk8s.io/v1alpha2/namespaces/team-a/policyreports/"
                                 "netpol-guard?fieldManager=netpol-guard&force=true"});
  const auto& r = f.api.reports["team-a"];
  CHECK(r["apiVersion"] == "wgpolicyk8s.io/v1alpha2");
  CHECK(r["kind"] == "PolicyReport");
  CHECK(r["summary"]["pass"] == 2);
}

TEST_CASE("the reports LIST is read page by page", "[kube][report_writer]") {
  fixture f;
  f.api.page_size = 3;
  namespace_map m;
  for (int i = 0; i < 7; ++i) m["ns-" + std::to_string(i)] = ns_entry({true, true});
  for (const auto& [ns, e] : m) f.api.reports[ns] = desired(ns, m, 0);
  f.state.publish(m, f.writer.get());
  f.writer->start(f.ioc.get_executor());
  f.run_for(500ms);
  f.finish();
  CHECK(f.api.calls.size() == 4);  // three pages of reports, one of pods
  CHECK(f.api.count(http::verb::patch) == 0);
  CHECK(f.m.report_writes(report_write::unchanged) == 7);
}
