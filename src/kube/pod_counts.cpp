#include "netpol_guard/kube/pod_counts.hpp"

#include <cctype>
#include <nlohmann/json.hpp>

#include "netpol_guard/kube/api_paths.hpp"

namespace netpol_guard::kube {

namespace http = boost::beast::http;
using json = nlohmann::json;

namespace {

// Pods that still run or will; the field selector keeps finished ones out.
constexpr std::string_view pod_query =
    "?fieldSelector=status.phase!%3DSucceeded,status.phase!%3DFailed&limit=500";
// A server that keeps returning continue tokens cannot hold the writer forever:
// 20,000 pages of 500 is ten million pods.
constexpr int max_pages = 20000;

}  // namespace

std::string query_escape(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

boost::asio::awaitable<pod_counts> count_pods(api_transport& api, std::string_view ns,
                                              std::chrono::milliseconds timeout) {
  const std::string base =
      (ns.empty() ? std::string(all_pods_path) : namespace_path(ns) + "/pods") +
      std::string(pod_query);
  pod_counts out;
  std::string token;
  for (int page = 0; page < max_pages; ++page) {
    // Built before the co_await: GCC mishandles conditional temporaries in it.
    std::string target = token.empty() ? base : base + "&continue=" + query_escape(token);
    auto reply = co_await api.request(http::verb::get, std::move(target), {}, timeout);
    if (reply.status != 200) {
      out.error = reply.status ? "HTTP " + std::to_string(reply.status) : reply.error;
      co_return out;
    }
    json doc = json::parse(reply.body, nullptr, false);
    if (!doc.is_object() || !doc.contains("items") || !doc["items"].is_array()) {
      out.error = "not a PodList";
      co_return out;
    }
    for (const auto& pod : doc["items"]) {
      const json* meta = pod.is_object() && pod.contains("metadata") ? &pod["metadata"] : nullptr;
      if (meta == nullptr || !meta->is_object()) continue;
      auto it = meta->find("namespace");
      if (it != meta->end() && it->is_string()) out.counts[it->get<std::string>()]++;
    }
    token.clear();
    if (auto m = doc.find("metadata"); m != doc.end() && m->is_object()) {
      if (auto c = m->find("continue"); c != m->end() && c->is_string())
        token = c->get<std::string>();
    }
    if (token.empty()) {
      out.ok = true;
      co_return out;
    }
  }
  out.error = "too many pages";
  co_return out;
}

}  // namespace netpol_guard::kube
