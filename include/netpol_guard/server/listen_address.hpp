#pragma once

// Listen addresses from flags, and acceptors bound to them.

#include <boost/asio/ip/tcp.hpp>
#include <string>

namespace netpol_guard {

// Parses "host:port" / "[v6]:port" into an endpoint.
bool parse_listen_address(const std::string& text, boost::asio::ip::tcp::endpoint& out,
                          std::string& error);

// Opens, binds and listens `a` on `address`; throws std::runtime_error with one
// line naming `flag` on failure.
void listen_on(boost::asio::ip::tcp::acceptor& a, const std::string& address, const char* flag);

}  // namespace netpol_guard
