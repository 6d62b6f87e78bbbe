#include "netpol_guard/cli/remediate_apply.hpp"

#include "netpol_guard/kube/api_paths.hpp"
#include "netpol_guard/netpol/object.hpp"

namespace netpol_guard::cli {

namespace http = boost::beast::http;
using json = nlohmann::json;

std::string refusal(const kube::api_reply& reply) {
  if (reply.status == 0) return reply.error;
  auto body = json::parse(reply.body, nullptr, false);
  if (body.is_object() && body.contains("message") && body["message"].is_string()) {
    return "HTTP " + std::to_string(reply.status) + ": " + body["message"].get<std::string>();
  }
  return "HTTP " + std::to_string(reply.status) + ": " + reply.body.substr(0, 300);
}

boost::asio::awaitable<object_result> apply_one(kube::api_transport& client, const json& object,
                                                bool dry, apply_totals& totals) {
  const std::string ns = object_namespace(object);
  const std::string name = object_name(object);
  const std::string path = kube::namespace_policies_path(ns) + "/" + name;
  object_result r{name, {}, {}};
  auto got = co_await client.request(http::verb::get, path, {}, remediate_request_timeout);
  if (got.status == 200) {
    r.result = "skipped";
    r.message = "it exists now: not modified";
    ++totals.skipped;
    co_return r;
  }
  if (got.status != 404) {
    totals.transport_error = totals.transport_error || got.status == 0 || got.status >= 500;
    totals.refused = true;
    r.result = "failed";
    ++totals.failed;
    r.message = "reading it: " + refusal(got);
    co_return r;
  }
  const std::string target =
      path + "?fieldManager=" + remediate_field_manager + (dry ? "&dryRun=All" : "");
  auto put =
      co_await client.request(http::verb::patch, target, object.dump(), remediate_request_timeout);
  // 201 is a create. A 200 from a real apply means the object appeared after
  // the read above (another writer, between the GET and the PATCH): the apply
  // may have become co-owner of fields it already had. Say so and fail, rather
  // than count it as created. A dry run always answers 200.
  if (put.status == 201 || (dry && put.status == 200)) {
    r.result = dry ? "accepted" : "created";
    ++totals.created;
    co_return r;
  }
  if (put.status == 200) {
    totals.refused = true;
    r.result = "failed";
    ++totals.failed;
    r.message =
        "it was created by someone else between the read and the apply; the apply may have "
        "taken co-ownership of its fields (kubectl get networkpolicy " +
        name + " -n " + ns + " --show-managed-fields)";
    co_return r;
  }
  totals.transport_error = totals.transport_error || put.status == 0 || put.status >= 500;
  totals.refused = true;
  r.result = "failed";
  ++totals.failed;
  r.message = refusal(put);
  co_return r;
}

std::string result_line(const object_result& r) {
  return r.result + " " + r.name + (r.message.empty() ? "" : " (" + r.message + ")");
}

}  // namespace netpol_guard::cli
