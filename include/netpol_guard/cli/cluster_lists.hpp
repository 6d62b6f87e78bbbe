#pragma once

// Whole collections from the apiserver, for the one-shot commands (audit,
// remediate) that judge a cluster from a single consistent read.

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "netpol_guard/kube/api_client.hpp"

namespace netpol_guard::cli {

// Every item of the collection at `path`, through the reflector's paging
// (limit 500 + an escaped continue token; an expired continuation starts over),
// or one line saying why not.
boost::asio::awaitable<boost::system::result<std::vector<nlohmann::json>, std::string>> list_all(
    kube::api_transport& client, std::string_view path);

}  // namespace netpol_guard::cli
