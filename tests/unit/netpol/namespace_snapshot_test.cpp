#include "netpol_guard/netpol/namespace_snapshot.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace netpol_guard;

namespace {

constexpr deny_all_coverage none{false, false};
constexpr deny_all_coverage ingress_only{true, false};
constexpr deny_all_coverage egress_only{false, true};
constexpr deny_all_coverage both{true, true};

using names = std::vector<std::string>;

}  // namespace

TEST_CASE("an empty snapshot knows nothing", "[netpol]") {
  namespace_snapshot s;
  CHECK(s.find("team-a") == nullptr);
  CHECK(s.coverage("team-a") == none);
  CHECK(s.namespace_count() == 0);
}

TEST_CASE("index keeps baselines sorted by name and counts every policy", "[netpol]") {
  namespace_index index;
  index.upsert_policy("team-a", "zz-deny-egress", egress_only);
  index.upsert_policy("team-a", "allow-web", none);
  index.upsert_policy("team-a", "aa-deny-ingress", ingress_only);

  auto snap = index.freeze("test");
  CHECK(snap->source() == "test");
  const auto* e = snap->find("team-a");
  REQUIRE(e != nullptr);
  CHECK(e->policy_count == 3);
  CHECK(e->baseline_names() == names{"aa-deny-ingress", "zz-deny-egress"});
  CHECK(e->coverage() == both);
  CHECK_FALSE(e->known_namespace);
  CHECK_FALSE(e->terminating);
  CHECK(snap->coverage("team-a") == both);
  CHECK(snap->coverage("team-b") == none);
}

TEST_CASE("upsert replaces a policy's previous coverage", "[netpol]") {
  namespace_index index;
  index.upsert_policy("team-a", "default-deny-all", both);
  index.upsert_policy("team-a", "default-deny-all", both);
  REQUIRE(index.entries().at("team-a").policy_count == 1);

  SECTION("a baseline weakened to an allow policy stops counting as baseline") {
    index.upsert_policy("team-a", "default-deny-all", none);
    const auto& e = index.entries().at("team-a");
    CHECK(e.policy_count == 1);
    CHECK(e.baselines.empty());
    CHECK(e.coverage() == none);

    SECTION("and back again") {
      index.upsert_policy("team-a", "default-deny-all", ingress_only);
      const auto& again = index.entries().at("team-a");
      CHECK(again.policy_count == 1);
      CHECK(again.baseline_names() == names{"default-deny-all"});
      CHECK(again.coverage() == ingress_only);
    }
  }
  SECTION("a baseline narrowed to one direction") {
    index.upsert_policy("team-a", "default-deny-all", egress_only);
    CHECK(index.entries().at("team-a").coverage() == egress_only);
    CHECK(index.entries().at("team-a").policy_count == 1);
  }
}

TEST_CASE("removing policies keeps counts exact and drops empty namespaces", "[netpol]") {
  namespace_index index;
  index.upsert_policy("team-a", "default-deny-all", both);
  index.upsert_policy("team-a", "allow-web", none);
  index.upsert_policy("team-a", "allow-dns", none);

  index.remove_policy("team-a", "allow-web");
  CHECK(index.entries().at("team-a").policy_count == 2);
  index.remove_policy("team-a", "not-there");
  CHECK(index.entries().at("team-a").policy_count == 2);
  index.remove_policy("team-b", "default-deny-all");
  CHECK(index.entries().count("team-b") == 0);

  index.remove_policy("team-a", "default-deny-all");
  CHECK(index.entries().at("team-a").policy_count == 1);
  CHECK(index.entries().at("team-a").coverage() == none);

  index.remove_policy("team-a", "allow-dns");
  CHECK(index.entries().count("team-a") == 0);
}

TEST_CASE("a namespace object keeps its entry without policies", "[netpol]") {
  namespace_index index;
  index.upsert_namespace("team-a", false);
  index.upsert_policy("team-a", "default-deny-all", both);
  index.remove_policy("team-a", "default-deny-all");
  REQUIRE(index.entries().count("team-a") == 1);
  CHECK(index.entries().at("team-a").known_namespace);
  CHECK(index.entries().at("team-a").policy_count == 0);

  index.upsert_namespace("team-a", true);
  CHECK(index.entries().at("team-a").terminating);

  index.remove_namespace("team-a");
  CHECK(index.entries().count("team-a") == 0);
}

TEST_CASE("removing a namespace keeps the entry while policies remain", "[netpol]") {
  namespace_index index;
  index.upsert_namespace("team-a", true);
  index.upsert_policy("team-a", "default-deny-all", both);
  index.remove_namespace("team-a");
  REQUIRE(index.entries().count("team-a") == 1);
  CHECK_FALSE(index.entries().at("team-a").known_namespace);
  CHECK_FALSE(index.entries().at("team-a").terminating);
  CHECK(index.entries().at("team-a").coverage() == both);
}

TEST_CASE("a frozen snapshot does not change with the index", "[netpol]") {
  namespace_index index;
  index.upsert_policy("team-a", "default-deny-all", both);
  auto before = index.freeze("v1");

  index.remove_policy("team-a", "default-deny-all");
  index.upsert_policy("team-b", "default-deny-all", both);
  auto after = index.freeze("v2");

  CHECK(before->coverage("team-a") == both);
  CHECK(before->find("team-b") == nullptr);
  CHECK(after->find("team-a") == nullptr);
  CHECK(after->coverage("team-b") == both);
  CHECK(before->namespace_count() == 1);
  CHECK(after->namespace_count() == 1);
}

TEST_CASE("clear forgets everything, including allow policy names", "[netpol]") {
  namespace_index index;
  index.upsert_policy("team-a", "allow-web", none);
  index.upsert_namespace("team-b", false);
  index.clear();
  CHECK(index.entries().empty());

  // A stale name list would make this remove decrement a fresh count.
  index.upsert_policy("team-a", "default-deny-all", both);
  index.remove_policy("team-a", "allow-web");
  CHECK(index.entries().at("team-a").policy_count == 1);
}

TEST_CASE("replace_policies replaces every policy and keeps Namespace objects", "[netpol]") {
  namespace_index index;
  index.upsert_namespace("team-a", true);
  index.upsert_policy("team-a", "default-deny-all", none);  // a decoy under the template's name
  index.upsert_policy("team-a", "allow-web", none);
  index.upsert_policy("gone", "default-deny-all", both);  // no Namespace object
  REQUIRE(index.entries().at("team-a").template_name_taken);

  index.replace_policies({{"team-a", "deny-ingress", ingress_only, "2024-01-02T00:00:00Z", {}},
                          {"team-a", "old-ingress", ingress_only, "2024-01-01T00:00:00Z", {}},
                          {"team-b", "default-deny-all", both, "", {}}});
  CHECK(index.entries().count("gone") == 0);
  const auto& a = index.entries().at("team-a");
  CHECK(a.known_namespace);
  CHECK(a.terminating);
  CHECK(a.policy_count == 2);
  CHECK_FALSE(a.template_name_taken);
  CHECK(a.baseline_names() == names{"deny-ingress", "old-ingress"});
  REQUIRE(a.pinned(true) != nullptr);
  CHECK(a.pinned(true)->name == "old-ingress");
  CHECK(a.pinned(false) == nullptr);
  CHECK(index.entries().at("team-b").coverage() == both);
  CHECK_FALSE(index.entries().at("team-b").known_namespace);

  // The old allow-web name must be forgotten: removing it changes no count.
  index.remove_policy("team-a", "allow-web");
  CHECK(index.entries().at("team-a").policy_count == 2);
  CHECK_FALSE(index.has_policy("team-a", "allow-web"));
}

TEST_CASE("replace_namespaces replaces every Namespace object and keeps policies", "[netpol]") {
  namespace_index index;
  index.upsert_namespace("team-a", false);
  index.upsert_namespace("empty", false);
  index.upsert_policy("team-a", "default-deny-all", both);
  index.upsert_policy("policy-only", "allow-web", none);

  index.replace_namespaces({{"policy-only", true, {}}, {"new", false, {}}});
  CHECK(index.entries().count("empty") == 0);
  const auto& a = index.entries().at("team-a");
  CHECK_FALSE(a.known_namespace);
  CHECK(a.coverage() == both);
  CHECK(a.policy_count == 1);
  CHECK(index.entries().at("policy-only").known_namespace);
  CHECK(index.entries().at("policy-only").terminating);
  CHECK(index.entries().at("policy-only").policy_count == 1);
  CHECK(index.entries().at("new").known_namespace);
  CHECK(index.entries().size() == 3);
}

TEST_CASE("has_policy finds baselines and other policies by name", "[netpol]") {
  namespace_index index;
  index.upsert_policy("team-a", "default-deny-all", none);
  index.upsert_policy("team-a", "deny-egress", egress_only);
  CHECK(index.has_policy("team-a", "default-deny-all"));
  CHECK(index.has_policy("team-a", "deny-egress"));
  CHECK_FALSE(index.has_policy("team-a", "allow-web"));
  CHECK_FALSE(index.has_policy("team-b", "default-deny-all"));
  index.remove_policy("team-a", "default-deny-all");
  CHECK_FALSE(index.has_policy("team-a", "default-deny-all"));
}

namespace {

namespace_settings warn_settings() {
  namespace_settings s;
  s.mode = namespace_mode::warn;
  s.exempt = exemption{egress_only, "migration", "2026-02-01T00:00:00Z", {}};
  return s;
}

policy_record opener(std::string ns, std::string name, deny_all_coverage opens,
                     std::string rule = "spec.ingress[0]") {
  return {std::move(ns), std::move(name), none, "", allow_all{opens, std::move(rule)}};
}

using negating = std::vector<negating_policy>;

}  // namespace

TEST_CASE("a Namespace record keeps its settings until it changes or goes", "[netpol]") {
  namespace_index index;
  index.upsert_namespace(namespace_record{"team-a", false, warn_settings()});
  CHECK(index.entries().at("team-a").settings == warn_settings());
  CHECK(index.freeze("t")->find("team-a")->settings == warn_settings());

  SECTION("a new version replaces them; the positional form clears them") {
    index.upsert_namespace(namespace_record{"team-a", true, {}});
    CHECK(index.entries().at("team-a").settings == namespace_settings{});
    CHECK(index.entries().at("team-a").terminating);
    index.upsert_namespace(namespace_record{"team-a", false, warn_settings()});
    index.upsert_namespace("team-a", false);
    CHECK(index.entries().at("team-a").settings == namespace_settings{});
  }
  SECTION("removal resets them, even while policies keep the entry") {
    index.upsert_policy("team-a", "deny", both);
    index.remove_namespace("team-a");
    CHECK(index.entries().at("team-a").settings == namespace_settings{});
  }
  SECTION("they survive a relist of policies") {
    index.upsert_policy("team-a", "deny", both);
    index.replace_policies({{"team-a", "other", ingress_only, "", {}}});
    CHECK(index.entries().at("team-a").settings == warn_settings());
  }
  SECTION("a relist of namespaces resets them, then sets the listed ones") {
    index.upsert_policy("team-a", "deny", both);
    index.upsert_namespace(namespace_record{"team-b", false, warn_settings()});
    index.replace_namespaces({{"team-b", false, warn_settings()}});
    CHECK(index.entries().at("team-a").settings == namespace_settings{});
    CHECK(index.entries().at("team-b").settings == warn_settings());
  }
}

TEST_CASE("policies that re-open a direction are kept by name", "[netpol]") {
  namespace_index index;
  index.upsert_namespace(namespace_record{"team-a", false, warn_settings()});
  index.upsert_policy(policy_record{"team-a", "deny", both, "", {}});
  index.upsert_policy(opener("team-a", "zz-open", ingress_only));
  index.upsert_policy(opener("team-a", "aa-open", egress_only, "spec.egress[2]"));
  index.upsert_policy(opener("team-a", "narrow", none));

  const auto& a = index.entries().at("team-a");
  CHECK(a.negating == negating{{"aa-open", egress_only, "spec.egress[2]"},
                               {"zz-open", ingress_only, "spec.ingress[0]"}});
  CHECK(a.policy_count == 4);
  CHECK(a.coverage() == both);

  SECTION("a new version that no longer opens drops it") {
    index.upsert_policy(opener("team-a", "zz-open", none));
    CHECK(index.entries().at("team-a").negating ==
          negating{{"aa-open", egress_only, "spec.egress[2]"}});
    index.upsert_policy("team-a", "aa-open", none);  // the positional form opens nothing
    CHECK(index.entries().at("team-a").negating.empty());
    CHECK(index.entries().at("team-a").policy_count == 4);
  }
  SECTION("removal drops it") {
    index.remove_policy("team-a", "aa-open");
    CHECK(index.entries().at("team-a").negating ==
          negating{{"zz-open", ingress_only, "spec.ingress[0]"}});
    CHECK(index.entries().at("team-a").policy_count == 3);
  }
  SECTION("they survive a relist of namespaces") {
    index.replace_namespaces({{"team-a", false, {}}});
    CHECK(index.entries().at("team-a").negating.size() == 2);
  }
  SECTION("a relist of policies rebuilds them") {
    index.replace_policies({opener("team-a", "mid-open", both, "spec.ingress[1]"),
                            opener("team-b", "open", egress_only, "spec.egress[0]")});
    CHECK(index.entries().at("team-a").negating == negating{{"mid-open", both, "spec.ingress[1]"}});
    CHECK(index.entries().at("team-a").settings == warn_settings());
    CHECK(index.entries().at("team-b").negating ==
          negating{{"open", egress_only, "spec.egress[0]"}});
    index.remove_policy("team-b", "open");
    CHECK(index.entries().count("team-b") == 0);
  }
}
