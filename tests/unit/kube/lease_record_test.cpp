#include "netpol_guard/kube/lease_record.hpp"

#include <catch2/catch.hpp>

using namespace netpol_guard::kube;
using nlohmann::json;

namespace {

std::chrono::system_clock::time_point at(std::int64_t epoch_seconds, std::int64_t micros) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(epoch_seconds) +
                                               std::chrono::microseconds(micros));
}

}  // namespace

TEST_CASE("MicroTime is RFC 3339 in UTC with six fractional digits", "[kube][lease]") {
  CHECK(format_micro_time(at(1796180400, 123456)) == "2026-12-02T03:00:00.123456Z");
  CHECK(format_micro_time(at(1796180400, 7)) == "2026-12-02T03:00:00.000007Z");
  CHECK(format_micro_time(at(0, 0)) == "1970-01-01T00:00:00.000000Z");
  // Nanoseconds are cut, not rounded up into the next second.
  CHECK(format_micro_time(at(1796180400, 0) + std::chrono::nanoseconds(999999999)) ==
        "2026-12-02T03:00:00.999999Z");
}

TEST_CASE("Lease paths name the coordination.k8s.io/v1 collection", "[kube][lease]") {
  CHECK(leases_path("netpol-guard-system") ==
        "/apis/coordination.k8s.io/v1/namespaces/netpol-guard-system/leases");
  CHECK(lease_path("netpol-guard-system", "netpol-guard") ==
        "/apis/coordination.k8s.io/v1/namespaces/netpol-guard-system/leases/netpol-guard");
}

TEST_CASE("a Lease is read with its record and resourceVersion", "[kube][lease]") {
  auto l = parse_lease(R"({"metadata":{"name":"netpol-guard","resourceVersion":"42"},
    "spec":{"holderIdentity":"web-0_ab","leaseDurationSeconds":15,
            "acquireTime":"2026-12-02T03:00:00.000000Z","renewTime":"2026-12-02T03:00:04.500000Z",
            "leaseTransitions":3}})");
  REQUIRE(l);
  CHECK(l->resource_version == "42");
  CHECK(l->record.holder_identity == "web-0_ab");
  CHECK(l->record.lease_duration_seconds == 15);
  CHECK(l->record.acquire_time == "2026-12-02T03:00:00.000000Z");
  CHECK(l->record.renew_time == "2026-12-02T03:00:04.500000Z");
  CHECK(l->record.lease_transitions == 3);
  CHECK(l->object["metadata"]["name"] == "netpol-guard");
}

TEST_CASE("absent and null spec fields read as zero values", "[kube][lease]") {
  auto bare = parse_lease(R"({"metadata":{"resourceVersion":"1"}})");
  REQUIRE(bare);
  CHECK(bare->record == lease_record{});
  auto nulls = parse_lease(
      R"({"metadata":{"resourceVersion":"1"},"spec":{"holderIdentity":null,"leaseTransitions":null}})");
  REQUIRE(nulls);
  CHECK(nulls->record.holder_identity.empty());
  CHECK(nulls->record.lease_transitions == 0);
}

TEST_CASE("a body that is not a readable Lease is refused", "[kube][lease]") {
  CHECK_FALSE(parse_lease("not json"));
  CHECK_FALSE(parse_lease("[]"));
  CHECK_FALSE(parse_lease(R"({"spec":{}})"));                          // no metadata
  CHECK_FALSE(parse_lease(R"({"metadata":{"resourceVersion":""}})"));  // empty version
  CHECK_FALSE(parse_lease(R"({"metadata":{"resourceVersion":7}})"));   // not a string
  CHECK_FALSE(parse_lease(R"({"metadata":{"resourceVersion":"1"},"spec":"x"})"));
  CHECK_FALSE(parse_lease(R"({"metadata":{"resourceVersion":"1"},"spec":{"holderIdentity":5}})"));
  CHECK_FALSE(
      parse_lease(R"({"metadata":{"resourceVersion":"1"},"spec":{"leaseDurationSeconds":"15"}})"));
}

TEST_CASE("the create body is a Lease with the whole record as its spec", "[kube][lease]") {
  lease_record r{.holder_identity = "web-0_ab",
                 .lease_duration_seconds = 15,
                 .acquire_time = "2026-12-02T03:00:00.123456Z",
                 .renew_time = "2026-12-02T03:00:00.123456Z",
                 .lease_transitions = 0};
  auto body = json::parse(lease_create_body("netpol-guard-system", "netpol-guard", r));
  CHECK(body == json::parse(R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
    "metadata":{"name":"netpol-guard","namespace":"netpol-guard-system"},
    "spec":{"holderIdentity":"web-0_ab","leaseDurationSeconds":15,
            "acquireTime":"2026-12-02T03:00:00.123456Z","renewTime":"2026-12-02T03:00:00.123456Z",
            "leaseTransitions":0}})"));
}

TEST_CASE("the update body keeps the metadata read and replaces the spec", "[kube][lease]") {
  auto read = parse_lease(R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
    "metadata":{"name":"netpol-guard","namespace":"ns","resourceVersion":"42","labels":{"a":"b"}},
    "spec":{"holderIdentity":"other","preferredHolder":"x","leaseTransitions":3}})");
  REQUIRE(read);
  lease_record r{.holder_identity = "me",
                 .lease_duration_seconds = 15,
                 .acquire_time = "t1",
                 .renew_time = "t2",
                 .lease_transitions = 4};
  auto body = json::parse(lease_update_body(*read, r));
  CHECK(body["metadata"]["resourceVersion"] == "42");
  CHECK(body["metadata"]["labels"]["a"] == "b");
  CHECK(body["spec"] == json::parse(R"({"holderIdentity":"me","leaseDurationSeconds":15,
    "acquireTime":"t1","renewTime":"t2","leaseTransitions":4})"));
}
