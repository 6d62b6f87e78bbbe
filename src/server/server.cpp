#include "netpol_guard/server/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>
#include <string>

#include "netpol_guard/server/health_listener.hpp"
#include "netpol_guard/server/log_escaped.hpp"
#include "netpol_guard/server/tls_credentials.hpp"
#include "netpol_guard/server/webhook_listener.hpp"
#include "netpol_guard/telemetry/log.hpp"

namespace netpol_guard {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
}  // namespace

struct server::impl {
  net::io_context& ioc;
  server_config config;
  tls_stats& tls;
  tls_credentials credentials;
  webhook_listener admission;
  health_listener health;
  net::steady_timer reload_timer;

  impl(net::io_context& io, worker_pool& workers, server_config cfg, webhook& hook,
       const namespace_state& state, server_stats& stats, tls_stats& tls_,
       metrics_renderer render_metrics, const std::atomic<bool>& stopping)
      : ioc(io),
        config(std::move(cfg)),
        tls(tls_),
        credentials(config.tls_cert_file, config.tls_private_key_file, config.client_ca_file,
                    &tls_),
        admission(io, workers, config, hook, credentials, stats),
        health(io, config, state, stats, std::move(render_metrics), stopping),
        reload_timer(io) {}

  net::awaitable<void> reload_loop(const std::atomic<bool>& stopping) {
    for (;;) {
      reload_timer.expires_after(config.tls_reload_interval);
      auto [ec] = co_await reload_timer.async_wait(use_tuple);
      if (ec || stopping) co_return;
      auto reloaded = credentials.reload_if_changed();
      if (reloaded && *reloaded) {
        tls.count_cert_reload(true);
        log::info("reloaded serving certificate", {{"cert", config.tls_cert_file}});
      } else if (!reloaded) {
        tls.count_cert_reload(false);
        tls.count_error(tls_error::cert_reload);
        log::warn("serving certificate reload failed; keeping the previous one",
                  {{"error", reloaded.error()}});
      }
    }
  }
};

server::server(net::io_context& ioc, worker_pool& workers, server_config config, webhook& hook,
               const namespace_state& state, server_stats& stats, tls_stats& tls,
               metrics_renderer render_metrics)
    : impl_(std::make_unique<impl>(ioc, workers, std::move(config), hook, state, stats, tls,
                                   std::move(render_metrics), stopping_)) {}

server::~server() = default;

void server::start() {
  if (auto loaded = impl_->credentials.load(); !loaded) throw std::runtime_error(loaded.error());
  impl_->admission.listen();
  impl_->health.listen();
  impl_->admission.start();
  impl_->health.start();
  net::co_spawn(impl_->ioc, impl_->reload_loop(stopping_),
                log_escaped("certificate reloader stopped"));
}

tcp::endpoint server::webhook_endpoint() const { return impl_->admission.endpoint(); }
tcp::endpoint server::health_endpoint() const { return impl_->health.endpoint(); }

void server::begin_shutdown(std::function<void()> done) {
  if (stopping_.exchange(true)) return;
  auto* self = impl_.get();
  // On the drain's strand: the webhook listener wakes it there when the last
  // connection has gone.
  net::co_spawn(
      self->admission.drain_executor(),
      [self, done = std::move(done)]() -> net::awaitable<void> {
        net::steady_timer t(self->ioc);
        // Readiness already fails; keep serving while endpoints stop routing here.
        t.expires_after(self->config.shutdown_delay);
        co_await t.async_wait(use_tuple);
        self->reload_timer.cancel();
        const auto deadline = std::chrono::steady_clock::now() + self->config.shutdown_grace;
        if (!co_await self->admission.drain(deadline)) {
          log::warn("shutdown grace period over; closing remaining connections",
                    {{"open", std::to_string(self->admission.open_connections())}});
        }
        self->health.close();
        if (done) done();
      },
      net::detached);
}

}  // namespace netpol_guard
