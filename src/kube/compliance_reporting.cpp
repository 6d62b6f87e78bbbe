#include "netpol_guard/kube/compliance_reporting.hpp"

#include "netpol_guard/telemetry/log.hpp"

namespace netpol_guard::kube {

namespace {

drift_events_options events_of(const compliance_reporting_options& o) {
  drift_events_options e;
  e.exempt_namespaces = o.writer.exempt_namespaces;
  e.reporting_instance = o.identity;
  e.request_timeout = o.writer.request_timeout;
  e.audit_only = o.writer.audit_only;
  return e;
}

}  // namespace

compliance_reporting::compliance_reporting(api_transport& api, const namespace_state& state,
                                           compliance_reporting_options options, kube_stats& m)
    : leader_(options.election ? leadership{} : leadership::alone()),
      elector_(options.election
                   ? std::make_unique<leader_elector>(api, *options.election, leader_, m)
                   : nullptr),
      writer_(api, state, options.writer, leader_, m),
      events_(api, events_of(options), leader_, m) {
  if (!elector_) m.set_leader(true);
}

void compliance_reporting::start(boost::asio::any_io_executor ex) {
  events_.start(ex);
  writer_.start(ex);
  if (elector_) elector_->start(std::move(ex));
}

boost::asio::awaitable<void> compliance_reporting::shutdown() {
  writer_.stop();
  events_.stop();
  if (!elector_) co_return;
  // release() first: it needs to know it still holds the Lease.
  co_await elector_->release();
  elector_->stop();
}

void compliance_reporting::stop() {
  writer_.stop();
  events_.stop();
  if (elector_) elector_->stop();
}

}  // namespace netpol_guard::kube
