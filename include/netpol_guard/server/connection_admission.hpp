#pragma once

// How a listener takes a freshly accepted connection: a slot in its table (by
// eviction when full), counted either way, or a refusal.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <functional>
#include <memory>
#include <optional>

#include "netpol_guard/server/connection_table.hpp"
#include "netpol_guard/server/server_stats.hpp"

namespace netpol_guard {

// The table's close callback for a connection of type C (with `stream`,
// `slot` and `closing`): it acts on the connection's own executor (a strand, or
// a worker io_context run by one thread) and does not keep the connection alive.
template <class C>
std::function<void(bool)> closer(const std::shared_ptr<C>& conn) {
  std::weak_ptr<C> weak = conn;
  auto executor = conn->stream.get_executor();
  return [weak, executor](bool only_if_idle) {
    auto c = weak.lock();
    if (!c) return;
    boost::asio::post(executor, [c, only_if_idle] {
      const auto phase = static_cast<connection_phase>(c->slot->phase.load());
      if (only_if_idle && phase != connection_phase::waiting) return;
      c->closing = true;
      // A request being answered gets its answer, then the connection closes.
      if (phase != connection_phase::busy) boost::beast::get_lowest_layer(c->stream).close();
    });
  };
}

// Counts (and logs) how `table` answered a new connection from `source`; true
// when it was admitted.
bool counted_admission(connection_table::admission a, listener which, server_stats& m,
                       const boost::asio::ip::address& source);

// Gives `conn` its slot in `table`, or says why not, counting either way.
template <class C>
bool admit_connection(connection_table& table, listener which, server_stats& m,
                      const std::shared_ptr<C>& conn, const boost::asio::ip::address& source) {
  conn->slot = std::make_shared<connection_table::entry>();
  conn->slot->source = source;
  conn->slot->close = closer(conn);
  return counted_admission(table.admit(conn->slot), which, m, source);
}

// Closes a connection that was not admitted.
template <class Socket>
void refuse_connection(Socket& socket) {
  boost::system::error_code ignored;
  socket.shutdown(Socket::shutdown_both, ignored);
  socket.close(ignored);
}

// The peer's source address for limits, or nothing when it is already gone.
template <class Socket>
std::optional<boost::asio::ip::address> peer_of(Socket& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return std::nullopt;
  return source_of(ep.address());
}

}  // namespace netpol_guard
