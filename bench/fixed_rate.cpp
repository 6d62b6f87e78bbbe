// An open-loop load generator: sends POST requests at a fixed rate over TLS
// keep-alive connections and reports latency percentiles.
//
//   fixed-rate --port N --body FILE [--host 127.0.0.1] [--path /validate]
//              [--rate 2000] [--duration 10] [--warmup 1] [--connections 16]
//
// Request k is due at start + k/rate. Its latency runs from that due time, not
// from when a connection was free to send it, so a stalled server is charged
// for the requests that queue behind the stall (no coordinated omission, as
// in wrk2). A server slower than the rate builds a backlog: sending stops at
// the end of the run plus a short grace, the rest counts as unsent, and the run
// is reported as saturated. Prints one JSON line.
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

struct options {
  std::string host = "127.0.0.1";
  std::string port;
  std::string path = "/validate";
  std::string body_file;
  double rate = 2000;
  double duration = 10;
  double warmup = 1;
  int connections = 16;
};

struct run_state {
  clock_type::time_point start;
  clock_type::time_point deadline;  // no request is sent after this
  std::chrono::nanoseconds interval;
  std::uint64_t total = 0;         // requests to send, warm-up included
  std::uint64_t warmup_count = 0;  // the first ones are not recorded
  std::uint64_t next = 0;
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  std::vector<double> latencies_us;
  clock_type::time_point last_done;
};

net::awaitable<void> connection_worker(beast::ssl_stream<beast::tcp_stream>& stream,
                                       const http::request<http::string_body>& req, run_state& st) {
  beast::flat_buffer buffer;
  net::steady_timer timer(co_await net::this_coro::executor);
  for (;;) {
    if (st.next >= st.total || clock_type::now() > st.deadline) co_return;
    const std::uint64_t k = st.next++;
    const auto due = st.start + st.interval * static_cast<std::int64_t>(k);
    if (clock_type::now() < due) {
      timer.expires_at(due);
      co_await timer.async_wait(use_tuple);
    }
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
    (void)wn;
    http::response<http::string_body> res;
    boost::system::error_code rec;
    if (!wec) {
      auto [ec, rn] = co_await http::async_read(stream, buffer, res, use_tuple);
      (void)rn;
      rec = ec;
    }
    const auto done = clock_type::now();
    st.last_done = std::max(st.last_done, done);
    if (wec || rec || res.result_int() != 200) {
      ++st.errors;
      if (wec || rec) co_return;  // this connection is gone; the others go on
      continue;
    }
    ++st.ok;
    if (k >= st.warmup_count) {
      st.latencies_us.push_back(std::chrono::duration<double, std::micro>(done - due).count());
    }
  }
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

int usage() {
  std::cerr << "usage: fixed-rate --port N --body FILE [--host H] [--path P] [--rate R]\n"
               "                  [--duration S] [--warmup S] [--connections C]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--host")
      o.host = v;
    else if (k == "--port")
      o.port = v;
    else if (k == "--path")
      o.path = v;
    else if (k == "--body")
      o.body_file = v;
    else if (k == "--rate")
      o.rate = std::atof(v.c_str());
    else if (k == "--duration")
      o.duration = std::atof(v.c_str());
    else if (k == "--warmup")
      o.warmup = std::atof(v.c_str());
    else if (k == "--connections")
      o.connections = std::atoi(v.c_str());
    else
      return usage();
  }
  if (argc % 2 == 0 || o.port.empty() || o.body_file.empty() || o.rate <= 0 || o.duration <= 0 ||
      o.connections <= 0) {
    return usage();
  }
  std::ifstream in(o.body_file, std::ios::binary);
  if (!in) {
    std::cerr << "fixed-rate: cannot read " << o.body_file << "\n";
    return 2;
  }
  std::ostringstream text;
  text << in.rdbuf();

  http::request<http::string_body> req{http::verb::post, o.path, 11};
  req.set(http::field::host, o.host);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "application/json");
  req.body() = text.str();
  req.keep_alive(true);
  req.prepare_payload();

  net::io_context ioc(1);
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_verify_mode(ssl::verify_none);  // loopback, the server's own dev certificate

  // Connect and handshake every connection before the clock starts.
  std::vector<std::unique_ptr<beast::ssl_stream<beast::tcp_stream>>> streams;
  tcp::resolver resolver(ioc);
  auto endpoints = resolver.resolve(o.host, o.port);
  for (int i = 0; i < o.connections; ++i) {
    auto s = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc, ctx);
    auto& sock = beast::get_lowest_layer(*s);
    sock.expires_after(std::chrono::seconds(5));
    sock.connect(endpoints);
    sock.socket().set_option(tcp::no_delay(true));
    boost::system::error_code ec;
    s->handshake(ssl::stream_base::client, ec);
    if (ec) {
      std::cerr << "fixed-rate: TLS handshake failed: " << ec.message() << "\n";
      return 1;
    }
    streams.push_back(std::move(s));
  }

  run_state st;
  st.interval = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / o.rate));
  st.warmup_count = static_cast<std::uint64_t>(o.warmup * o.rate);
  st.total = st.warmup_count + static_cast<std::uint64_t>(o.duration * o.rate);
  st.latencies_us.reserve(st.total);
  st.start = clock_type::now() + std::chrono::milliseconds(10);
  st.last_done = st.start;
  st.deadline = st.start + std::chrono::milliseconds(
                               static_cast<std::int64_t>((o.warmup + o.duration) * 1000) + 2000);
  for (auto& s : streams) net::co_spawn(ioc, connection_worker(*s, req, st), net::detached);
  ioc.run();

  auto& l = st.latencies_us;
  std::sort(l.begin(), l.end());
  const double measured_s =
      std::chrono::duration<double>(st.last_done - st.start).count() - o.warmup;
  std::printf(
      "{\"rate\":%.0f,\"connections\":%d,\"sent\":%llu,\"ok\":%llu,\"errors\":%llu,"
      "\"unsent\":%llu,\"saturated\":%s,"
      "\"recorded\":%zu,\"achieved_rps\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,"
      "\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f}\n",
      o.rate, o.connections, static_cast<unsigned long long>(st.ok + st.errors),
      static_cast<unsigned long long>(st.ok), static_cast<unsigned long long>(st.errors),
      static_cast<unsigned long long>(st.total - st.next), st.next < st.total ? "true" : "false",
      l.size(), measured_s > 0 ? static_cast<double>(l.size()) / measured_s : 0.0,
      percentile(l, 50), percentile(l, 90), percentile(l, 99), percentile(l, 99.9),
      l.empty() ? 0.0 : l.back());
  return st.errors == 0 ? 0 : 1;
}
