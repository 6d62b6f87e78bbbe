#include "netpol_guard/server/listen_address.hpp"

#include <cstdlib>
#include <stdexcept>

namespace netpol_guard {

namespace net = boost::asio;
using tcp = net::ip::tcp;

boost::system::result<tcp::endpoint, std::string> parse_listen_address(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    return "listen address \"" + text + "\" has no port (want host:port)";
  }
  std::string host = text.substr(0, colon);
  std::string port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535) {
    return "listen address \"" + text + "\" has an invalid port";
  }
  boost::system::error_code ec;
  auto addr = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) {
    return "listen address \"" + text + "\": invalid IP address";
  }
  return tcp::endpoint(addr, static_cast<unsigned short>(p));
}

void listen_on(tcp::acceptor& a, const std::string& address, const char* flag) {
  auto parsed = parse_listen_address(address);
  if (!parsed) throw std::runtime_error(flag + (": " + parsed.error()));
  const tcp::endpoint ep = *parsed;
  boost::system::error_code ec;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error(std::string("cannot listen on ") + flag + " " + address + ": " +
                             ec.message());
  }
}

}  // namespace netpol_guard
