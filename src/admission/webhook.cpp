#include "netpol_guard/admission/webhook.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include "netpol_guard/admission/review_decoder.hpp"
#include "netpol_guard/admission/review_encoder.hpp"
#include "netpol_guard/telemetry/log.hpp"

namespace netpol_guard {

namespace net = boost::asio;

webhook::webhook(const namespace_state& state, webhook_options options, admission_stats& m,
                 live_policy_reader* reader)
    : state_(state), options_(std::move(options)), stats_(m), reader_(reader) {}

net::awaitable<webhook_answer> webhook::review(std::string_view body) {
  const auto start = std::chrono::steady_clock::now();
  auto decoded = decode_admission_review(body);
  if (!decoded) {
    const codec_error& err = decoded.error();
    stats_.count_error(admission_stats::error_from(err.reason));
    log::warn("rejected malformed AdmissionReview",
              {{"reason", err.reason}, {"error", err.message}});
    co_return answer_failure(err.reason, err.message);
  }
  const auto& request = *decoded;
  admission_decision decision;
  std::optional<webhook_answer> failed;
  try {
    auto snapshot = state_.snapshot();
    // One instant per request: the live re-decision judges at the same moment.
    const std::chrono::sys_seconds now = options_.wall_clock();
    decision = decide(request, *snapshot, options_.decision, now);
    if (decision.outcome != verdict::allowed && decision.outcome != verdict::warned &&
        decision.depends_on_state && reader_ != nullptr) {
      decision = co_await confirm(request, std::move(decision), now);
    }
    // Only a CREATE is admitted because its baseline will be provisioned; an
    // UPDATE's warning is about its exemption or mode.
    if (decision.outcome == verdict::warned && decision.subject.kind == "Namespace" &&
        request.operation == "CREATE" && options_.decision.provision_default_deny &&
        reader_ != nullptr && !request.dry_run) {
      reader_->namespace_admitted(decision.subject.name);
    }
  } catch (const std::exception& e) {
    // A bug, not bad input: counted, logged, and answered as the table says.
    stats_.count_error(admission_error::internal);
    log::error("internal error deciding request", {{"uid", request.uid}, {"error", e.what()}});
    decision = admission_decision{};
    failed = answer_failure("internal", e.what(), &request, options_.decision.audit_only);
  }
  webhook_answer out =
      failed ? std::move(*failed)
             : webhook_answer{200, encode_admission_review(request, decision.response)};
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  record(request, decision, seconds);
  co_return out;
}

net::awaitable<admission_decision> webhook::confirm(const admission_request& request,
                                                    admission_decision decision,
                                                    std::chrono::sys_seconds now) {
  const std::string ns = decision.subject.namespace_name;
  auto deadline = std::chrono::steady_clock::now() + options_.provision_wait;
  for (int attempt = 0;; ++attempt) {
    auto live = co_await reader_->read_namespace(ns, options_.confirm_timeout);
    if (!live) {
      stats_.count_confirmation(confirmation::unavailable);
      stats_.count_error(admission_error::confirm_failed);
      log::warn("live read failed; deciding from cached state",
                {{"namespace", ns}, {"uid", request.uid}});
      co_return decision;
    }
    namespace_map one;
    one.emplace(ns, std::move(*live));
    namespace_snapshot fresh(std::move(one), "live");
    auto again = decide(request, fresh, options_.decision, now);
    if (again.outcome == verdict::allowed || again.outcome == verdict::warned) {
      stats_.count_confirmation(confirmation::overturned);
      log::info("live read overturned a denial from cached state",
                {{"namespace", ns}, {"uid", request.uid}});
      co_return again;
    }
    // A namespace whose baseline netpol-guard is creating right now: wait for it
    // a bounded time rather than fail the pod.
    if (!reader_->provisioning(ns) || std::chrono::steady_clock::now() >= deadline) {
      stats_.count_confirmation(confirmation::confirmed);
      co_return again;
    }
    net::steady_timer timer(co_await net::this_coro::executor);
    timer.expires_after(std::chrono::milliseconds(100));
    co_await timer.async_wait(net::use_awaitable);
  }
}

void webhook::record(const admission_request& request, const admission_decision& decision,
                     double seconds) {
  stats_.count_request(decision.outcome, decision.subject.kind, request.operation);
  if (decision.by_exemption) stats_.count_admitted_by_exemption();
  stats_.observe_latency(seconds);
  if (decision.outcome == verdict::denied || decision.outcome == verdict::audited) {
    const std::string& message = decision.outcome == verdict::denied
                                     ? decision.response.message
                                     : decision.response.audit_annotations.front().second;
    log::info(decision.outcome == verdict::denied ? "denied" : "audit: would deny",
              {{"uid", request.uid},
               {"kind", decision.subject.kind},
               {"namespace", decision.subject.namespace_name},
               {"name", decision.subject.name},
               {"operation", request.operation},
               {"user", request.username},
               {"dry_run", request.dry_run ? "true" : "false"},
               {"missing", missing_directions(decision.coverage)},
               {"message", message}});
  } else if (log::enabled(log::level::debug)) {
    log::debug("allowed", {{"uid", request.uid},
                           {"kind", decision.subject.kind},
                           {"namespace", decision.subject.namespace_name},
                           {"operation", request.operation}});
  }
}

}  // namespace netpol_guard
