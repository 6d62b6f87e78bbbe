#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "netpol_guard/admission/webhook.hpp"
#include "netpol_guard/cli/commands.hpp"
#include "netpol_guard/cli/flags.hpp"
#include "netpol_guard/cli/process_stats.hpp"
#include "netpol_guard/cli/report_flags.hpp"
#include "netpol_guard/cli/rollout_flags.hpp"
#include "netpol_guard/kube/cluster_state.hpp"
#include "netpol_guard/kube/config.hpp"
#include "netpol_guard/netpol/offline_state.hpp"
#include "netpol_guard/netpol/rules.hpp"
#include "netpol_guard/server/server.hpp"
#include "netpol_guard/telemetry/log.hpp"
#include "netpol_guard/version.hpp"

namespace netpol_guard::cli {

namespace net = boost::asio;

namespace {

// The main io_context (the control plane: listeners, reloads, drain, cluster
// watch, leader election, reports), run by the main thread; the admission
// sessions run on the worker pool. It has a way to destroy its pending handlers
// while the server still exists. ioc.stop() (the drain's end, or a second signal) can leave a
// session suspended, such as a health connection the drain does not wait for.
// Its coroutine frame is destroyed with the handlers, and its cleanup releases
// a slot in the server's connection table: ~io_context would do that after the
// server is gone (a heap-use-after-free ASan caught at shutdown).
class serve_context : public net::io_context {
 public:
  using net::io_context::io_context;
  // execution_context::shutdown: every service destroys its pending operations.
  // ~io_context calls it again, which finds nothing left to do.
  void destroy_pending_handlers() { shutdown(); }
};

struct serve_options {
  server_config server;
  webhook_options hook;
  std::vector<std::string> policies;
  std::vector<std::string> exempt = rules::default_exempt_list();
  std::string kubeconfig;
  std::string log_level = "info";
  std::chrono::milliseconds max_state_age{std::chrono::minutes(2)};
  std::chrono::milliseconds policy_reload_interval{2000};
  std::size_t threads = 0;
  governance_flags governance;
  report_flags reports;
  bool help = false;
};

int fail(const std::string& line) {
  std::fprintf(stderr, "netpol-guard serve: %s\n", line.c_str());
  return 1;
}

net::awaitable<void> reload_policies(offline_state& state, std::chrono::milliseconds every,
                                     const server& srv, offline_state_stats& m) {
  net::steady_timer timer(co_await net::this_coro::executor);
  for (;;) {
    timer.expires_after(every);
    auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    if (ec || srv.stopping()) co_return;
    auto reloaded = state.reload_if_changed();
    if (reloaded && *reloaded) {
      log::info("reloaded policies",
                {{"namespaces", std::to_string(state.snapshot()->namespace_count())}});
    } else if (!reloaded) {
      m.count_error(offline_state_error::policy_reload);
      log::warn("policy reload failed; keeping the previous state",
                {{"error", reloaded.error().what()}});
    }
  }
}

}  // namespace

int run_serve(const std::vector<std::string>& args) {
  serve_options o;
  bool audit_only = false;
  flag_set flags("serve");
  flags.add_string("listen", &o.server.listen, "TLS address for POST /validate");
  flags.add_string("health-listen", &o.server.health_listen,
                   "plain HTTP address for /healthz, /readyz and /metrics");
  flags.add_string("tls-cert-file", &o.server.tls_cert_file,
                   "serving certificate (PEM, chain allowed); reloaded when it changes");
  flags.add_string("tls-private-key-file", &o.server.tls_private_key_file,
                   "serving private key (PEM); reloaded when it changes");
  flags.add_string("client-ca-file", &o.server.client_ca_file,
                   "require client certificates signed by this CA (mutual TLS)");
  flags.add_list("policies", &o.policies,
                 "offline state: NetworkPolicy and Namespace manifests (files or directories, "
                 "repeatable); reloaded when they change");
  flags.add_string("kubeconfig", &o.kubeconfig,
                   "live state: watch the cluster of this kubeconfig's current context");
  flags.add_list("exempt-namespaces", &o.exempt, "namespaces that are always allowed");
  flags.add_bool("audit-only", &audit_only,
                 "never deny: warn and add an audit annotation instead (a namespace labelled " +
                     std::string(rules::mode_label) + "=enforce is still enforced)");
  add_governance_flags(flags, o.governance);
  add_report_flags(flags, o.reports);
  flags.add_bool("deny-allow-all", &o.hook.decision.deny_allow_all,
                 "deny, not only warn, a NetworkPolicy that allows all ingress or egress to every "
                 "pod of its namespace");
  flags.add_bool("check-workloads", &o.hook.decision.check_workloads,
                 "also check Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs");
  flags.add_bool("provision-default-deny", &o.hook.decision.provision_default_deny,
                 "create default-deny-all in new namespaces (needs a cluster connection)");
  flags.add_bool("protect-baseline", &o.hook.decision.protect_baseline,
                 "deny NetworkPolicy UPDATE/DELETE that removes a namespace's default deny");
  flags.add_duration("max-state-age", &o.max_state_age,
                     "not ready when the cluster watch has been down this long");
  flags.add_duration("confirm-timeout", &o.hook.confirm_timeout,
                     "deadline of the live read that confirms a denial");
  flags.add_size("max-request-bytes", &o.server.max_request_bytes,
                 "largest request body accepted; larger gets 413");
  flags.add_size("max-connections", &o.server.max_connections,
                 "open webhook connections; when full, a new client evicts an idle one");
  flags.add_size("max-connections-per-source", &o.server.max_connections_per_source,
                 "open webhook connections from one source address; more are refused (no "
                 "effect when at least --max-connections)");
  flags.add_size("max-buffered-request-bytes", &o.server.max_buffered_request_bytes,
                 "request body bytes held in memory across all connections; a request whose "
                 "body does not fit gets 503");
  flags.add_size("max-buffered-request-bytes-per-source",
                 &o.server.max_buffered_request_bytes_per_source,
                 "request body bytes held in memory for one source address");
  flags.add_duration("first-request-timeout", &o.server.first_request_timeout,
                     "a new connection must finish the TLS handshake and send its first "
                     "request's header within this");
  flags.add_duration("request-timeout", &o.server.request_timeout,
                     "deadline to receive a whole request once it has started");
  flags.add_duration("idle-timeout", &o.server.idle_timeout,
                     "keep-alive connections idle this long are closed");
  flags.add_duration("tls-reload-interval", &o.server.tls_reload_interval,
                     "how often the certificate files are checked for rotation");
  flags.add_duration("shutdown-delay", &o.server.shutdown_delay,
                     "on SIGTERM, report not ready and keep serving this long");
  flags.add_duration("shutdown-grace-period", &o.server.shutdown_grace,
                     "then let in-flight requests finish for at most this long");
  flags.add_size("threads", &o.threads,
                 "worker threads for admission connections, one io_context each (0: one per "
                 "core); the control plane runs on the main thread");
  flags.add_string("log-level", &o.log_level, "debug, info, warn or error");
  flags.add_bool("help", &o.help, "show this help");

  auto parsed = flags.parse(args);
  if (!parsed) return fail(parsed.error());
  const std::vector<std::string>& positional = *parsed;
  if (o.help) {
    std::cout << flags.usage();
    return 0;
  }
  if (!positional.empty()) return fail("unexpected argument \"" + positional[0] + "\"");
  o.hook.decision.audit_only = audit_only;
  if (auto g = apply_governance(o.governance, o.hook.decision); !g) return fail(g.error());
  o.hook.decision.exempt_namespaces = {o.exempt.begin(), o.exempt.end()};
  o.server.exempt_namespaces = o.hook.decision.exempt_namespaces;

  auto lvl = log::parse_level(o.log_level);
  if (!lvl) return fail("--log-level must be debug, info, warn or error");
  log::set_level(*lvl);
  if (auto limits = check_limits(o.server); !limits) return fail(limits.error());
  if (o.server.tls_cert_file.empty() || o.server.tls_private_key_file.empty()) {
    return fail("--tls-cert-file and --tls-private-key-file are required");
  }
  const bool in_cluster = std::getenv("KUBERNETES_SERVICE_HOST") != nullptr;
  if (!o.policies.empty() && !o.kubeconfig.empty()) {
    return fail("use either --policies (offline) or --kubeconfig (live), not both");
  }
  if (o.policies.empty() && o.kubeconfig.empty() && !in_cluster) {
    return fail(
        "no namespace state: give --policies PATH (offline) or --kubeconfig (live), "
        "or run in a cluster");
  }
  auto reporting_options = resolve_report_flags(
      o.reports, process_env(), std::string(kube::service_account_dir) + "/namespace");
  if (!reporting_options) return fail(reporting_options.error());
  if (!o.policies.empty() && *reporting_options) {
    return fail(
        "--reports needs a cluster connection (--kubeconfig or in-cluster), not --policies "
        "files");
  }
  if (!o.policies.empty() && o.hook.decision.provision_default_deny) {
    return fail(
        "--provision-default-deny needs a cluster connection (--kubeconfig or "
        "in-cluster), not --policies files");
  }

  process_stats m;
  std::unique_ptr<offline_state> offline;
  std::unique_ptr<kube::cluster_state> live;
  std::shared_ptr<kube::api_client> client;
  std::unique_ptr<kube::compliance_reporting> reporting;
  namespace_state* state = nullptr;
  std::string state_kind;
  if (!o.policies.empty()) {
    offline = std::make_unique<offline_state>(o.policies);
    if (auto loaded = offline->load(); !loaded) {
      return fail("cannot load --policies: " + loaded.error().what());
    }
    state = offline.get();
    state_kind = "files";
  } else {
    auto cfg =
        o.kubeconfig.empty() ? kube::in_cluster_config() : kube::load_kubeconfig(o.kubeconfig);
    if (!cfg) return fail(cfg.error());
    try {
      client = std::make_shared<kube::api_client>(*cfg);
    } catch (const std::exception& e) {
      return fail(e.what());
    }
    kube::cluster_state_options co;
    co.max_state_age = o.max_state_age;
    co.provision_default_deny = o.hook.decision.provision_default_deny;
    co.exempt_namespaces = o.hook.decision.exempt_namespaces;
    live = std::make_unique<kube::cluster_state>(client, co, m.kube);
    state = live.get();
    if (auto& ro = *reporting_options) {
      ro->writer.exempt_namespaces = o.hook.decision.exempt_namespaces;
      ro->writer.audit_only = o.hook.decision.audit_only;
      ro->writer.deny_allow_all = o.hook.decision.deny_allow_all;
      reporting = std::make_unique<kube::compliance_reporting>(*client, *live, *ro, m.kube);
      reporting->set_sync_probe([l = live.get()] { return l->synced(); });
      live->add_listener(&reporting->writer());
      live->add_listener(&reporting->events());
    }
    state_kind = "cluster (" + cfg->source + ", " + cfg->server + ")";
  }

  std::size_t threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  serve_context ioc(1);
  worker_pool workers(threads);
  webhook hook(*state, o.hook, m.admission, live.get());
  server srv(ioc, workers, o.server, hook, *state, m.server, m.tls,
             [&m](const state_gauges& gauges) { return m.render(gauges); });
  try {
    srv.start();
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  if (reporting) reporting->start(ioc.get_executor());
  if (live) live->start(ioc.get_executor());
  auto wep = srv.webhook_endpoint();
  auto hep = srv.health_endpoint();
  auto fmt = [](const net::ip::tcp::endpoint& e) {
    return (e.address().is_v6() ? "[" + e.address().to_string() + "]" : e.address().to_string()) +
           ":" + std::to_string(e.port());
  };
  log::info("listening", {{"listen", fmt(wep)},
                          {"health_listen", fmt(hep)},
                          {"version", version_string},
                          {"mode", audit_only ? "audit-only" : "enforce"},
                          {"state", state_kind},
                          {"reports", o.reports.reports},
                          {"namespaces", std::to_string(state->snapshot()->namespace_count())}});

  net::signal_set signals(ioc, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    if (live) live->stop();
    // Within the shutdown delay: the Lease is given up before the process ends.
    if (reporting) net::co_spawn(ioc, reporting->shutdown(), net::detached);
    srv.begin_shutdown([&] { ioc.stop(); });
    // A second signal stops at once.
    signals.async_wait([&](const boost::system::error_code& e2, int) {
      if (!e2) ioc.stop();
    });
  });
  if (offline)
    net::co_spawn(ioc, reload_policies(*offline, o.policy_reload_interval, srv, m.offline),
                  net::detached);

  workers.start();
  ioc.run();
  // The drain is over (or a second signal came): the sessions stop where they are.
  workers.stop();
  // The reports' loops hold timers and strands of this io_context: stopped and
  // destroyed while it still exists (their handlers go with the pending ones).
  if (reporting) reporting->stop();
  // Suspended sessions hold slots in the server's connection table: destroyed
  // while the server exists.
  workers.destroy_pending_handlers();
  ioc.destroy_pending_handlers();
  reporting.reset();
  log::info("stopped", {{"requests", std::to_string(m.admission.requests_total())}});
  return 0;
}

}  // namespace netpol_guard::cli
