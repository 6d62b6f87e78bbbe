#include "netpol_guard/kube/lease_record.hpp"

#include <cstdio>
#include <ctime>

namespace netpol_guard::kube {

using json = nlohmann::json;

namespace {

json spec_of(const lease_record& r) {
  return {{"holderIdentity", r.holder_identity},
          {"leaseDurationSeconds", r.lease_duration_seconds},
          {"acquireTime", r.acquire_time},
          {"renewTime", r.renew_time},
          {"leaseTransitions", r.lease_transitions}};
}

// Absent and null fields read as their zero value, as client-go reads a spec
// whose pointers are nil; a field of another type makes the Lease unreadable.
bool read_string(const json& spec, const char* key, std::string& out) {
  auto it = spec.find(key);
  if (it == spec.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool read_integer(const json& spec, const char* key, std::int64_t& out) {
  auto it = spec.find(key);
  if (it == spec.end() || it->is_null()) return true;
  if (!it->is_number_integer()) return false;
  out = it->get<std::int64_t>();
  return true;
}

}  // namespace

std::string leases_path(std::string_view ns) {
  return "/apis/coordination.k8s.io/v1/namespaces/" + std::string(ns) + "/leases";
}

std::string lease_path(std::string_view ns, std::string_view name) {
  return leases_path(ns) + "/" + std::string(name);
}

std::string format_micro_time(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto since_epoch = duration_cast<microseconds>(t.time_since_epoch());
  const auto secs = floor<seconds>(since_epoch);
  const auto micros = (since_epoch - secs).count();
  const std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm utc{};
  gmtime_r(&tt, &utc);
  char buf[80];  // room for any int the format may print
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(micros));
  return buf;
}

std::optional<lease_object> parse_lease(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  auto meta = doc.find("metadata");
  if (meta == doc.end() || !meta->is_object()) return std::nullopt;
  auto rv = meta->find("resourceVersion");
  if (rv == meta->end() || !rv->is_string() || rv->get<std::string>().empty()) return std::nullopt;
  lease_object out;
  out.resource_version = rv->get<std::string>();
  if (auto spec = doc.find("spec"); spec != doc.end() && !spec->is_null()) {
    if (!spec->is_object()) return std::nullopt;
    lease_record& r = out.record;
    if (!read_string(*spec, "holderIdentity", r.holder_identity) ||
        !read_integer(*spec, "leaseDurationSeconds", r.lease_duration_seconds) ||
        !read_string(*spec, "acquireTime", r.acquire_time) ||
        !read_string(*spec, "renewTime", r.renew_time) ||
        !read_integer(*spec, "leaseTransitions", r.lease_transitions)) {
      return std::nullopt;
    }
  }
  out.object = std::move(doc);
  return out;
}

std::string lease_create_body(std::string_view ns, std::string_view name, const lease_record& r) {
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", name}, {"namespace", ns}}},
                {"spec", spec_of(r)}};
  return lease.dump();
}

std::string lease_update_body(const lease_object& as_read, const lease_record& r) {
  json lease = as_read.object;
  // client-go replaces the whole spec (preferredHolder and strategy belong to
  // coordinated election, which this elector does not take part in).
  lease["spec"] = spec_of(r);
  lease["metadata"]["resourceVersion"] = as_read.resource_version;
  return lease.dump();
}

}  // namespace netpol_guard::kube
