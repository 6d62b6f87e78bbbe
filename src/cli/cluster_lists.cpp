#include "netpol_guard/cli/cluster_lists.hpp"

#include "netpol_guard/kube/reflector.hpp"

namespace netpol_guard::cli {

using json = nlohmann::json;

boost::asio::awaitable<boost::system::result<std::vector<json>, std::string>> list_all(
    kube::api_transport& client, std::string_view path) {
  using result = kube::list_outcome::result;
  const std::string name(path);
  kube::api_list_watch source(client, name);
  std::vector<json> items;
  auto out = co_await kube::list_pages(
      source, name, 100'000, [] { return false; }, [&] { items.clear(); },
      [&](const json& item) { items.push_back(item); });
  switch (out.how) {
    case result::complete:
      co_return items;
    case result::failed:
      co_return "list " + name + ": " +
          (out.reply.status
               ? "HTTP " + std::to_string(out.reply.status) + " " + out.reply.body.substr(0, 300)
               : out.reply.error);
    case result::malformed:
      co_return "list " + name + ": malformed response";
    case result::too_many_pages:
    case result::stopped:
      break;
  }
  co_return "list " + name + ": too many pages";
}

}  // namespace netpol_guard::cli
