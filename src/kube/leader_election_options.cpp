#include "netpol_guard/kube/leader_election_options.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "netpol_guard/kube/api_paths.hpp"
#include "netpol_guard/netpol/meta_validation.hpp"

namespace netpol_guard::kube {

namespace {

using std::chrono::milliseconds;

std::string describe(milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

}  // namespace

std::string validate(const leader_election_options& o) {
  if (o.lease_duration.count() <= 0) return "--leader-elect-lease-duration must be greater than 0";
  if (o.renew_deadline.count() <= 0) return "--leader-elect-renew-deadline must be greater than 0";
  if (o.retry_period.count() <= 0) return "--leader-elect-retry-period must be greater than 0";
  if (o.lease_duration <= o.renew_deadline) {
    return "--leader-elect-lease-duration (" + describe(o.lease_duration) +
           ") must be greater than --leader-elect-renew-deadline (" + describe(o.renew_deadline) +
           ")";
  }
  if (static_cast<double>(o.renew_deadline.count()) <=
      leader_election_jitter * static_cast<double>(o.retry_period.count())) {
    return "--leader-elect-renew-deadline (" + describe(o.renew_deadline) +
           ") must be greater than 1.2 x --leader-elect-retry-period (" + describe(o.retry_period) +
           ")";
  }
  if (!is_dns1123_subdomain(o.lease_name)) {
    return "--leader-elect-resource-name must be a DNS subdomain (lowercase letters, digits, '-' "
           "and '.', at most 253 characters): \"" +
           o.lease_name + "\"";
  }
  if (o.lease_namespace.empty()) return "--leader-elect-resource-namespace is required";
  if (!is_dns_label(o.lease_namespace)) {
    return "--leader-elect-resource-namespace must be a DNS label (lowercase letters, digits and "
           "'-', at most 63 characters): \"" +
           o.lease_namespace + "\"";
  }
  if (o.identity.empty()) return "the leader election identity is empty";
  return {};
}

std::string leader_identity() {
  std::string base;
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') {
    base = pod;
  } else {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) base = host;
  }
  // 128 random bits, as client-go appends a UUID: a restarted pod with the
  // same name is a new candidate, and two replicas never share an identity.
  std::random_device random;
  std::string suffix;
  for (int i = 0; i < 4; ++i) {
    char word[9];
    std::snprintf(word, sizeof word, "%08x", static_cast<unsigned>(random()));
    suffix += word;
  }
  return base + "_" + suffix;
}

}  // namespace netpol_guard::kube
