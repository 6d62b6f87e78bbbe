#pragma once

// The serving certificate's stats: reloads by result, the notAfter in use,
// and failed reloads among netpol_guard_errors_total.

#include <cstdint>

#include "netpol_guard/telemetry/stats.hpp"

namespace netpol_guard {

enum class tls_error : unsigned char { cert_reload, count_ };

class tls_stats {
 public:
  void count_cert_reload(bool ok) { reloads_.inc(ok ? 0 : 1); }
  // The serving certificate's notAfter (Unix seconds), set on every load.
  void set_certificate_expiry(double unix_seconds) { expiry_.set(unix_seconds); }
  void count_error(tls_error e) { errors_.inc(static_cast<std::size_t>(e)); }

  void write_reloads(stats::exposition& out) const;
  void write_expiry(stats::exposition& out) const;
  // This component's samples of netpol_guard_errors_total.
  void write_errors(stats::exposition& out) const { errors_.write(out, stats::errors_metric); }

 private:
  stats::labelled_counter<2> reloads_{"result", {"success", "failure"}};
  stats::double_gauge expiry_;
  stats::labelled_counter<1> errors_{"reason", {"cert_reload"}};
};

}  // namespace netpol_guard
