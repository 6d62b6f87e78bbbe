#include "netpol_guard/server/http_response.hpp"

namespace netpol_guard {

namespace http = boost::beast::http;

http_response make_response(unsigned status, std::string body, unsigned version,
                            std::string_view content_type) {
  http_response res{static_cast<http::status>(status), version};
  res.set(http::field::server, "netpol-guard");
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string_view path_of(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

}  // namespace netpol_guard
