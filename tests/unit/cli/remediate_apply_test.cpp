#include "netpol_guard/cli/remediate_apply.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <deque>

#include "netpol_guard/netpol/rules.hpp"

using namespace netpol_guard;
using namespace netpol_guard::cli;
namespace http = boost::beast::http;

namespace {

// Answers each request with the next scripted reply and records what was sent.
class scripted_apiserver final : public kube::api_transport {
 public:
  struct sent {
    http::verb verb;
    std::string target, body;
    std::chrono::milliseconds timeout;
  };
  std::deque<kube::api_reply> replies;
  std::vector<sent> requests;

  boost::asio::awaitable<kube::api_reply> request(http::verb verb, std::string target,
                                                  std::string body,
                                                  std::chrono::milliseconds timeout) override {
    requests.push_back({verb, std::move(target), std::move(body), timeout});
    REQUIRE(!replies.empty());
    auto r = replies.front();
    replies.pop_front();
    co_return r;
  }
  boost::asio::awaitable<kube::watch_outcome> stream(
      std::string, std::chrono::milliseconds, std::function<bool(std::string_view)>) override {
    co_return kube::watch_outcome{};
  }
};

object_result apply(scripted_apiserver& api, bool dry, apply_totals& totals) {
  // apply_one holds the object by reference until it finishes: it must outlive ioc.run().
  const auto object = rules::default_deny_all_policy("shop");
  boost::asio::io_context ioc;
  auto fut =
      boost::asio::co_spawn(ioc, apply_one(api, object, dry, totals), boost::asio::use_future);
  ioc.run();
  return fut.get();
}

const std::string path =
    "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/default-deny-all";

}  // namespace

TEST_CASE("remediate applies a missing object by server-side apply as netpol-guard",
          "[cli][remediate]") {
  scripted_apiserver api;
  api.replies = {{404, R"({"kind":"Status","code":404})", ""}, {201, "{}", ""}};
  apply_totals totals;
  auto r = apply(api, false, totals);
  CHECK(r.result == "created");
  CHECK(result_line(r) == "created default-deny-all");
  REQUIRE(api.requests.size() == 2);
  CHECK(api.requests[0].verb == http::verb::get);
  CHECK(api.requests[0].target == path);
  CHECK(api.requests[1].verb == http::verb::patch);
  CHECK(api.requests[1].target == path + "?fieldManager=netpol-guard");
  CHECK(nlohmann::json::parse(api.requests[1].body) == rules::default_deny_all_policy("shop"));
  CHECK(api.requests[1].timeout == std::chrono::seconds(30));
  CHECK(totals.created == 1);
  CHECK(!totals.refused);
}

TEST_CASE("remediate --dry-run=server sends dryRun=All", "[cli][remediate]") {
  scripted_apiserver api;
  api.replies = {{404, "{}", ""}, {200, "{}", ""}};
  apply_totals totals;
  CHECK(apply(api, true, totals).result == "accepted");
  REQUIRE(api.requests.size() == 2);
  CHECK(api.requests[1].target == path + "?fieldManager=netpol-guard&dryRun=All");
}

TEST_CASE("remediate never applies over an object that exists", "[cli][remediate]") {
  scripted_apiserver api;
  api.replies = {{200, R"({"kind":"NetworkPolicy"})", ""}};
  apply_totals totals;
  auto r = apply(api, false, totals);
  CHECK(result_line(r) == "skipped default-deny-all (it exists now: not modified)");
  CHECK(api.requests.size() == 1);  // no PATCH
  CHECK(totals.skipped == 1);
  CHECK(!totals.refused);
}

TEST_CASE("remediate shows a webhook's denial in its own words", "[cli][remediate]") {
  scripted_apiserver api;
  api.replies = {
      {404, "{}", ""},
      {400,
       R"({"kind":"Status","message":"admission webhook \"x.example\" denied the request: no"})",
       ""}};
  apply_totals totals;
  auto r = apply(api, false, totals);
  CHECK(
      result_line(r) ==
      R"(failed default-deny-all (HTTP 400: admission webhook "x.example" denied the request: no))");
  CHECK(totals.refused);
  CHECK(!totals.transport_error);
  CHECK(totals.failed == 1);
}

TEST_CASE("remediate counts no answer as an error talking to the apiserver", "[cli][remediate]") {
  scripted_apiserver api;
  api.replies = {{0, "", "connect: connection refused"}};
  apply_totals totals;
  auto r = apply(api, false, totals);
  CHECK(r.result == "failed");
  CHECK(r.message == "reading it: connect: connection refused");
  CHECK(totals.transport_error);
  scripted_apiserver api2;
  api2.replies = {{404, "{}", ""}, {503, "busy", ""}};
  apply_totals totals2;
  CHECK(apply(api2, false, totals2).message == "HTTP 503: busy");
  CHECK(totals2.transport_error);
}

TEST_CASE("remediate --apply reports an object created by someone else after its read",
          "[cli][remediate]") {
  // The GET found nothing, then another writer created the object: the apply
  // answers 200 (an update), not 201. That is never counted as created.
  scripted_apiserver api;
  api.replies = {{404, "{}", ""}, {200, R"({"kind":"NetworkPolicy"})", ""}};
  apply_totals totals;
  auto r = apply(api, false, totals);
  CHECK(r.result == "failed");
  CHECK_THAT(r.message, Catch::Contains("created by someone else between the read and the apply"));
  CHECK(totals.created == 0);
  CHECK(totals.failed == 1);
  CHECK(totals.refused);
  CHECK(!totals.transport_error);
}
