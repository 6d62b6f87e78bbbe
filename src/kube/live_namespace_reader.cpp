#include "netpol_guard/kube/live_namespace_reader.hpp"

#include <nlohmann/json.hpp>

#include "netpol_guard/kube/api_paths.hpp"
#include "netpol_guard/netpol/object.hpp"

namespace netpol_guard::kube {

namespace net = boost::asio;
namespace http = boost::beast::http;
using json = nlohmann::json;

std::optional<namespace_entry> entry_from_policy_list(const std::string& body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  namespace_index index;
  auto items = doc.find("items");
  if (items != doc.end() && items->is_array()) {
    for (const auto& item : *items) {
      auto p = summarize_policy(item);
      if (!p) continue;
      index.upsert_policy(
          policy_record{p->namespace_name, p->name, p->coverage, p->created, p->opens});
    }
  }
  if (index.entries().empty()) return namespace_entry{};
  return index.entries().begin()->second;
}

net::awaitable<std::optional<namespace_entry>> live_namespace_reader::read(
    std::string ns, std::chrono::milliseconds timeout) {
  if (!is_dns_label(ns)) co_return std::nullopt;
  auto reply = co_await api_.request(http::verb::get, namespace_policies_path(ns), {}, timeout);
  if (reply.status != 200) co_return std::nullopt;
  auto entry = entry_from_policy_list(reply.body);
  if (!entry) co_return std::nullopt;
  if (const auto* cached = cache_.snapshot()->find(ns)) {
    entry->known_namespace = cached->known_namespace;
    entry->terminating = cached->terminating;
    entry->settings = cached->settings;
  }
  // Whether the namespace is terminating decides policy deletes (the namespace
  // controller's among them), and its mode label and exemption decide pods: read
  // them live too rather than trust the cache. Without the settings, a confirm
  // would re-decide by the global mode and overturn an enforce-label denial.
  auto ns_reply = co_await api_.request(http::verb::get, namespace_path(ns), {}, timeout);
  if (ns_reply.status == 200) {
    json doc = json::parse(ns_reply.body, nullptr, false);
    if (!doc.is_discarded() && doc.is_object()) {
      if (auto summary = summarize_namespace(doc)) {
        entry->known_namespace = true;
        entry->terminating = summary->terminating;
        entry->settings = summary->settings;
      }
    }
  }
  co_return entry;
}

}  // namespace netpol_guard::kube
