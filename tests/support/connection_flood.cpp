#include "connection_flood.hpp"

#include <memory>

namespace netpol_guard::testing {

using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

std::string source_address(int n) { return "127.0.0." + std::to_string(n); }

bool connect_from(raw_connection& c, const std::string& source, unsigned short port, bool tls) {
  raw_connection::options o;
  o.tls = tls;
  o.verify = false;
  o.source = source;
  o.io_timeout = std::chrono::seconds(3);
  std::string error;
  return c.connect(port, o, error);
}

connection_flood::connection_flood(unsigned short port, int sources, int per_source, bool tls)
    : settled_by_source(static_cast<std::size_t>(sources)) {
  for (int s = 0; s < sources; ++s) {
    threads.emplace_back([this, port, per_source, tls, s, src = source_address(2 + s)] {
      struct held_connection {
        std::unique_ptr<raw_connection> c;
        clock_type::time_point since;
      };
      std::vector<held_connection> held(static_cast<std::size_t>(per_source));
      const auto give_up = clock_type::now() + std::chrono::seconds(40);
      while (!stop && clock_type::now() < give_up) {
        int settled = 0;
        for (auto& h : held) {
          if (stop) break;
          if (h.c && !h.c->closed_now()) {
            if (clock_type::now() - h.since >= settle_time) ++settled;
            continue;
          }
          if (h.c) {
            h.c.reset();
            --open;
            ++lost;
          }
          auto fresh = std::make_unique<raw_connection>();
          if (connect_from(*fresh, src, port, tls)) {
            h.c = std::move(fresh);
            h.since = clock_type::now();
            ++open;
            ++opened;
          }
        }
        settled_by_source[static_cast<std::size_t>(s)] = settled;
        std::this_thread::sleep_for(milliseconds(20));
      }
      for (auto& h : held) {
        if (h.c) --open;
      }
    });
  }
}

int connection_flood::settled() const {
  int n = 0;
  for (const auto& v : settled_by_source) n += v;
  return n;
}

void connection_flood::finish() {
  stop = true;
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }
}

}  // namespace netpol_guard::testing
