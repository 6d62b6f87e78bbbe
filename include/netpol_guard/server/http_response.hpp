#pragma once

// The HTTP answers both listeners build.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>

namespace netpol_guard {

using http_response = boost::beast::http::response<boost::beast::http::string_body>;

// A response with the server's name, `content_type` and the length of `body`.
http_response make_response(unsigned status, std::string body, unsigned version,
                            std::string_view content_type = "application/json");

// A request target without its query.
std::string_view path_of(std::string_view target);

}  // namespace netpol_guard
