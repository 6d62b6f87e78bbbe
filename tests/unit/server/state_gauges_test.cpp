// The state gauges /metrics reports: which namespaces page, and the exemptions'
// counts and earliest expiry, judged at the scrape's wall clock.
#include "netpol_guard/server/state_gauges.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

using namespace netpol_guard;
using namespace std::chrono_literals;

namespace {

const std::chrono::sys_seconds now{std::chrono::sys_days{std::chrono::year{2030} / 1 / 15} + 12h};

namespace_settings exempted(deny_all_coverage directions, std::chrono::sys_seconds until) {
  namespace_settings s;
  s.exempt = exemption{directions, "vendor chart under review", "(as written)", until};
  return s;
}

std::shared_ptr<const namespace_snapshot> example() {
  namespace_index index;
  index.upsert_namespace(namespace_record{"covered", false, {}});
  index.upsert_policy("covered", "default-deny-all", {true, true});
  index.upsert_namespace(namespace_record{"open", false, {}});
  index.upsert_namespace(namespace_record{"active", false, exempted({true, true}, now + 1h)});
  // Ingress denied by a policy, egress by an exemption that ends first.
  index.upsert_namespace(namespace_record{"half", false, exempted({false, true}, now + 10min)});
  index.upsert_policy("half", "deny-ingress", {true, false});
  // Expires at `now` exactly: expired.
  index.upsert_namespace(namespace_record{"expired", false, exempted({true, true}, now)});
  index.upsert_namespace(namespace_record{"kube-system", false, {}});
  return index.freeze("test");
}

}  // namespace

TEST_CASE("state gauges: an active exemption does not page, an expired one does",
          "[server][gauges]") {
  const std::set<std::string, std::less<>> exempt{"kube-system"};
  const auto g = namespace_gauges(*example(), exempt, now);
  CHECK(g.namespaces == 6);
  CHECK(g.non_compliant == 2);  // open, expired
  CHECK(g.missing_ingress == 2);
  CHECK(g.missing_egress == 2);
  CHECK(g.exemptions_active == 2);  // active, half
  CHECK(g.exemptions_expired == 1);
  CHECK(g.earliest_exemption_expiry_seconds ==
        static_cast<double>((now + 10min).time_since_epoch().count()));
  CHECK_FALSE(g.ready);  // the readiness fields are the caller's
}

TEST_CASE("state gauges: time moves exemptions from active to expired", "[server][gauges]") {
  const std::set<std::string, std::less<>> exempt{"kube-system"};
  const auto later = namespace_gauges(*example(), exempt, now + 30min);
  CHECK(later.exemptions_active == 1);  // active
  CHECK(later.exemptions_expired == 2);
  CHECK(later.non_compliant == 3);  // open, expired, and half's egress
  CHECK(later.missing_ingress == 2);
  CHECK(later.missing_egress == 3);
  CHECK(later.earliest_exemption_expiry_seconds ==
        static_cast<double>((now + 1h).time_since_epoch().count()));
  const auto none = namespace_gauges(*example(), exempt, now + 2h);
  CHECK(none.exemptions_active == 0);
  CHECK(none.exemptions_expired == 3);
  CHECK(none.earliest_exemption_expiry_seconds == 0);
}
