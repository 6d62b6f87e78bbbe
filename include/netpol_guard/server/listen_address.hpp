#pragma once

// Listen addresses from flags, and acceptors bound to them.

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/result.hpp>
#include <string>

namespace netpol_guard {

// Parses "host:port" / "[v6]:port" into an endpoint.
boost::system::result<boost::asio::ip::tcp::endpoint, std::string> parse_listen_address(
    const std::string& text);

// Opens, binds and listens `a` on `address`; throws std::runtime_error with one
// line naming `flag` on failure.
void listen_on(boost::asio::ip::tcp::acceptor& a, const std::string& address, const char* flag);

}  // namespace netpol_guard
