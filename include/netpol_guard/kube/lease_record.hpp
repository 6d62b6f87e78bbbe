#pragma once

// A coordination.k8s.io/v1 Lease as the leader elector reads and writes it:
// the election record in its spec (client-go's LeaderElectionRecord), the
// object as read (so an update keeps its metadata and resourceVersion), and
// the MicroTime format of its timestamps.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace netpol_guard::kube {

struct lease_record {
  std::string holder_identity;  // "" when released or never held
  std::int64_t lease_duration_seconds = 0;
  std::string acquire_time;  // MicroTime, kept as the server wrote it
  std::string renew_time;
  std::int64_t lease_transitions = 0;

  // Candidates compare whole records, as client-go compares the raw record:
  // any change (a renewTime, a holder) restarts the expiry countdown.
  bool operator==(const lease_record&) const = default;
};

struct lease_object {
  lease_record record;
  std::string resource_version;
  nlohmann::json object;  // the Lease as the server returned it
};

// The Lease collection of namespace `ns` and the Lease `name` in it.
std::string leases_path(std::string_view ns);
std::string lease_path(std::string_view ns, std::string_view name);

// RFC 3339 in UTC with six fractional digits ("2006-01-02T15:04:05.000000Z"),
// metav1.MicroTime's format.
std::string format_micro_time(std::chrono::system_clock::time_point t);

// A Lease from the apiserver's reply; nothing when the body is not a Lease
// with a resourceVersion or a spec field has the wrong type.
std::optional<lease_object> parse_lease(std::string_view body);

// The body that creates Lease `name` in `ns` with `r` as its spec.
std::string lease_create_body(std::string_view ns, std::string_view name, const lease_record& r);

// The body of a PUT: the Lease as read (metadata and resourceVersion kept, so
// the apiserver refuses it with 409 when anyone wrote since) with `r` as spec.
std::string lease_update_body(const lease_object& as_read, const lease_record& r);

}  // namespace netpol_guard::kube
