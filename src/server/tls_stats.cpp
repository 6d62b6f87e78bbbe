#include "netpol_guard/server/tls_stats.hpp"

namespace netpol_guard {

void tls_stats::write_reloads(stats::exposition& out) const {
  constexpr std::string_view name = "netpol_guard_cert_reloads_total";
  out.header(name, "counter", "Serving certificate reloads, by result.");
  reloads_.write(out, name);
}

void tls_stats::write_expiry(stats::exposition& out) const {
  constexpr std::string_view name = "netpol_guard_certificate_expiry_timestamp_seconds";
  out.header(name, "gauge", "notAfter of the serving certificate in use, as a Unix timestamp.");
  out.sample_whole(name, expiry_.value());
}

}  // namespace netpol_guard
