#include "decision_fixtures.hpp"
#include "netpol_guard/admission/decision.hpp"
#include "netpol_guard/admission/namespace_governance.hpp"

// Namespace CREATE and UPDATE: the netpol-guard keys are validated, only
// --exemption-groups and --exemption-users may loosen, anyone may tighten.
// Judged at the fake clock fixture_now (2026-06-01T00:00:00Z).

#include <map>

using namespace decision_fixtures;

namespace {

const std::string mode_key(rules::mode_label);
const std::string exempt_key(rules::exempt_annotation);
const std::string reason_key(rules::exempt_reason_annotation);
const std::string until_key(rules::exempt_until_annotation);

const std::string tomorrow = "2026-06-02T00:00:00Z";
const std::string too_late = "2026-12-01T00:00:00Z";  // beyond 2160h

using keys = std::map<std::string, std::string>;  // label or annotation key -> value

keys exemption_keys(const std::string& directions, const std::string& until = tomorrow) {
  return {{exempt_key, directions}, {reason_key, "migrating (TICKET-7)"}, {until_key, until}};
}
keys mode(const std::string& m) { return {{mode_key, m}}; }
keys operator+(keys a, const keys& b) {
  a.insert(b.begin(), b.end());
  return a;
}

void put(json& metadata, const keys& k) {
  for (const auto& [key, value] : k) {
    metadata[key == mode_key ? "labels" : "annotations"][key] = value;
  }
}

struct who {
  std::string user;
  std::vector<std::string> groups;
};
const who tenant{"alice", {"team-a-owners", "system:authenticated"}};
const who admin{"root", {"system:masters", "system:authenticated"}};

json with_user(json review, const who& w) {
  review["request"]["userInfo"]["username"] = w.user;
  review["request"]["userInfo"]["groups"] = w.groups;
  return review;
}

// An UPDATE of team-a from `before` to `after`.
json update(const keys& before, const keys& after, const who& w = tenant) {
  auto review = fixture("namespace-update.json");
  put(review["request"]["oldObject"]["metadata"], before);
  put(review["request"]["object"]["metadata"], after);
  return with_user(std::move(review), w);
}

// A CREATE of team-new carrying `k`.
json create(const keys& k, const who& w = tenant) {
  auto review = namespace_review("team-new");
  put(review["request"]["object"]["metadata"], k);
  return with_user(std::move(review), w);
}

admission_decision judge(const json& review, const decision_config& c = enforce()) {
  auto d = decide(request_of(review), namespace_snapshot{}, c, fixture_now);
  CHECK(d.subject.kind == "Namespace");
  return d;
}

// A governance or validation denial: a 403 in every mode, never overturned live.
void check_governance_denied(const admission_decision& d, const std::string& fragment) {
  check_denied(d);
  CHECK_FALSE(d.depends_on_state);
  CHECK_THAT(d.response.message, Contains(fragment));
}

void check_loosening_denied(const admission_decision& d, const std::string& how) {
  check_governance_denied(d,
                          "only --exemption-groups (system:masters) or --exemption-users may "
                          "loosen namespace \"team-a\"");
  CHECK_THAT(d.response.message, Contains(how));
  CHECK_THAT(d.response.message,
             Contains("anyone may tighten: remove the exemption or set mode=enforce."));
}

void check_warned(const admission_decision& d, const std::string& fragment) {
  CHECK(d.outcome == verdict::warned);
  CHECK(d.response.allowed);
  REQUIRE(d.response.warnings.size() == 1);
  CHECK_THAT(d.response.warnings[0], StartsWith("CIS 5.3.2") && Contains(fragment));
}

}  // namespace

TEST_CASE("a tenant may not loosen a namespace, in any mode", "[decision][governance]") {
  for (const auto& cfg : {enforce(), audit_only()}) {
    INFO("audit_only " << cfg.audit_only);
    check_loosening_denied(judge(update({}, exemption_keys("all")), cfg), "exemption");
    check_loosening_denied(judge(update({}, exemption_keys("ingress")), cfg), "ingress");
    check_loosening_denied(judge(update({}, mode("warn")), cfg), "sets mode=warn");
    // Changing an exemption, even narrowing it, is loosening: owners narrow by removing.
    check_loosening_denied(judge(update(exemption_keys("all"), exemption_keys("egress")), cfg),
                           "exemption");
    // A later expiry.
    check_loosening_denied(
        judge(update(exemption_keys("all"), exemption_keys("all", "2026-06-03T00:00:00Z")), cfg),
        "exemption");
  }
  SECTION("removing mode=enforce loosens only under --audit-only") {
    check_loosening_denied(judge(update(mode("enforce"), {}), audit_only()),
                           "removes mode=enforce");
    check_allowed(judge(update(mode("enforce"), {}), enforce()));
  }
  SECTION("a dry run is judged the same") {
    auto review = update({}, exemption_keys("all"));
    review["request"]["dryRun"] = true;
    check_loosening_denied(judge(review), "exemption");
  }
}

TEST_CASE("anyone may tighten a namespace", "[decision][governance]") {
  for (const auto& cfg : {enforce(), audit_only()}) {
    INFO("audit_only " << cfg.audit_only);
    check_allowed(judge(update({}, mode("enforce")), cfg));
    check_allowed(judge(update(mode("warn"), mode("enforce")), cfg));
    check_allowed(judge(update(mode("warn"), {}), cfg));
    check_allowed(judge(update(exemption_keys("all"), {}), cfg));
    check_allowed(judge(update(exemption_keys("all") + mode("warn"), mode("enforce")), cfg));
  }
}

TEST_CASE("members of --exemption-groups and --exemption-users may loosen, with a warning",
          "[decision][governance]") {
  SECTION("system:masters by default") {
    auto d = judge(update({}, exemption_keys("ingress"), admin));
    check_warned(d, "\"team-a\"");
    CHECK_THAT(d.response.warnings[0], Contains(tomorrow) && Contains("ingress"));
    CHECK(d.response.audit_annotations.empty());
    CHECK_FALSE(d.by_exemption);
    check_warned(judge(update({}, mode("warn"), admin), audit_only()), "mode=warn");
  }
  SECTION("a user named in --exemption-users, whatever its groups") {
    auto cfg = enforce();
    cfg.exemption_users = {"system:serviceaccount:flux-system:kustomize-controller"};
    const who flux{"system:serviceaccount:flux-system:kustomize-controller", {}};
    check_warned(judge(update({}, exemption_keys("all"), flux), cfg), "\"team-a\"");
    check_loosening_denied(judge(update({}, exemption_keys("all")), cfg), "exemption");
  }
  SECTION("a group added by --exemption-groups, beside system:masters") {
    auto cfg = enforce();
    cfg.exemption_groups.insert("platform-admins");
    const who platform{"bob", {"platform-admins"}};
    check_warned(judge(update({}, exemption_keys("all"), platform), cfg), "\"team-a\"");
    check_warned(judge(update({}, exemption_keys("all"), admin), cfg), "\"team-a\"");
    auto d = judge(update({}, mode("warn")), cfg);
    check_governance_denied(d, "only --exemption-groups (platform-admins, system:masters) or");
  }
  SECTION("may_loosen reads the username and every group") {
    auto cfg = enforce();
    cfg.exemption_users = {"carol"};
    admission_request r;
    CHECK_FALSE(may_loosen(r, cfg));
    r.groups = {"a", "system:masters"};
    CHECK(may_loosen(r, cfg));
    r.groups = {"system:master"};
    CHECK_FALSE(may_loosen(r, cfg));
    r.username = "carol";
    CHECK(may_loosen(r, cfg));
  }
}

TEST_CASE("invalid values are denied for everyone, saying what is wrong",
          "[decision][governance]") {
  struct row {
    keys after;
    std::string fragment;
  };
  const std::vector<row> rows = {
      {mode("Warn"), "mode is \"Warn\"; it must be enforce or warn."},
      {exemption_keys("both"), "exempt is \"both\"; it must be ingress, egress or all."},
      {{{exempt_key, "all"}, {until_key, tomorrow}}, "exempt-reason is required"},
      {{{exempt_key, "all"}, {reason_key, "x"}}, "exempt-until is required"},
      {exemption_keys("all", "tomorrow"), "is not an RFC 3339 time"},
      {exemption_keys("all", too_late), "--max-exemption-duration"},
  };
  for (const auto& r : rows) {
    for (const who& w : {tenant, admin}) {
      for (const auto& cfg : {enforce(), audit_only()}) {
        INFO(r.fragment << " by " << w.user << ", audit_only " << cfg.audit_only);
        auto d = judge(update({}, r.after, w), cfg);
        check_governance_denied(d, "CIS 5.3.2: namespace \"team-a\": ");
        CHECK_THAT(d.response.message, Contains(r.fragment));
      }
    }
  }
  SECTION("--max-exemption-duration is the config's") {
    auto cfg = enforce();
    cfg.max_exemption_duration = std::chrono::hours(1);
    check_governance_denied(judge(update({}, exemption_keys("all"), admin), cfg),
                            "--max-exemption-duration");
  }
}

TEST_CASE("untouched keys are not judged again", "[decision][governance]") {
  SECTION("an invalid stored value and an unrelated change") {
    auto review = update(mode("Warn"), mode("Warn"));
    review["request"]["object"]["metadata"]["annotations"]["owner"] = "team-b";
    check_allowed(judge(review));
  }
  SECTION("an exemption that was within the maximum when set") {
    auto review = update(exemption_keys("all", too_late), exemption_keys("all", too_late));
    review["request"]["object"]["metadata"]["labels"]["tier"] = "gold";
    check_allowed(judge(review));
  }
}

TEST_CASE("Namespace requests that governance skips", "[decision][governance]") {
  SECTION("a terminating namespace") {
    auto review = update({}, exemption_keys("all"));
    review["request"]["object"]["metadata"]["deletionTimestamp"] = "2026-06-01T00:00:00Z";
    check_allowed(judge(review));
  }
  SECTION("a subresource that stores no metadata") {
    auto review = update({}, exemption_keys("all"));
    review["request"]["subResource"] = "scale";
    check_allowed(decide(request_of(review), namespace_snapshot{}, enforce(), fixture_now));
  }
  SECTION("an exempt namespace") {
    auto review = update({}, exemption_keys("all"));
    review["request"]["name"] = "kube-system";
    review["request"]["object"]["metadata"]["name"] = "kube-system";
    review["request"]["oldObject"]["metadata"]["name"] = "kube-system";
    check_allowed(judge(review));
  }
  SECTION("DELETE") {
    auto review = update(exemption_keys("all"), {});
    review["request"]["operation"] = "DELETE";
    review["request"]["object"] = nullptr;
    check_allowed(judge(review));
  }
}

TEST_CASE("Namespace CREATE is judged with the keys it carries", "[decision][governance]") {
  SECTION("an admin's exemption of both directions admits it, with its annotations") {
    auto d = judge(create(exemption_keys("all"), admin));
    check_warned(d, "\"team-new\"");
    CHECK(d.response.audit_annotations.size() == 3);
    for (const auto& [k, v] : d.response.audit_annotations) CHECK(valid_audit_annotation_key(k));
    CHECK(d.subject.name == "team-new");
  }
  SECTION("an admin's mode=warn: audited as today") {
    auto d = judge(create(mode("warn"), admin));
    check_audited(d);
    CHECK_THAT(d.response.warnings[0], Contains("cannot have its default-deny"));
  }
  SECTION("the same keys from a tenant are denied") {
    auto d = judge(create(exemption_keys("all")));
    check_governance_denied(d, "may loosen namespace \"team-new\"");
    check_governance_denied(judge(create(mode("warn")), audit_only()),
                            "may loosen namespace \"team-new\"");
  }
  SECTION("mode=enforce without provisioning is denied, under --audit-only too") {
    for (const who& w : {tenant, admin}) {
      auto d = judge(create(mode("enforce"), w), audit_only());
      check_denied(d);
      CHECK_THAT(d.response.message, Contains("cannot have its default-deny"));
    }
  }
  SECTION("an admin's one-direction exemption without provisioning is denied") {
    auto d = judge(create(exemption_keys("ingress"), admin));
    check_denied(d);
    CHECK_THAT(d.response.message, Contains("cannot have its default-deny"));
  }
  SECTION("with provisioning: warned, as today") {
    auto cfg = enforce();
    cfg.provision_default_deny = true;
    auto d = judge(create({}), cfg);
    check_warned(d, "creates NetworkPolicy default-deny-all");
    auto e = judge(create(exemption_keys("all"), admin), cfg);
    CHECK(e.outcome == verdict::warned);
    CHECK_THAT(e.response.warnings[0], Contains("creates NetworkPolicy default-deny-all"));
    check_governance_denied(judge(create(exemption_keys("all")), cfg), "may loosen");
  }
  SECTION("invalid keys are denied for everyone") {
    check_governance_denied(judge(create(mode("off"), admin)), "mode is \"off\"");
  }
}

// namespaces/status and namespaces/finalize store the labels and annotations they
// carry (their strategies reset only spec, or only status), so they are a way to
// the same keys and are judged as the Namespace itself is.
TEST_CASE("Namespace status and finalize writes are governed like the Namespace",
          "[decision][governance]") {
  for (const char* sub : {"status", "finalize"}) {
    INFO(sub);
    auto loosen = update({}, exemption_keys("all"));
    loosen["request"]["subResource"] = sub;
    check_governance_denied(judge(loosen), "only --exemption-groups");

    auto warn = update({}, mode("warn"));
    warn["request"]["subResource"] = sub;
    check_governance_denied(judge(warn), "sets mode=warn");

    auto by_admin = update({}, exemption_keys("all"), admin);
    by_admin["request"]["subResource"] = sub;
    CHECK(judge(by_admin).response.allowed);

    // The namespace controller's writes carry the keys unchanged.
    auto unchanged = update(exemption_keys("all"), exemption_keys("all"));
    unchanged["request"]["subResource"] = sub;
    check_allowed(judge(unchanged));
  }
}

// Only what a request changes is validated: an expiry beyond a maximum lowered
// since it was set, or a stored invalid mode, never blocks a tightening.
TEST_CASE("a tightening is judged on the keys it changes", "[decision][governance]") {
  SECTION("a stored expiry beyond the maximum does not block mode=enforce") {
    check_allowed(judge(update(exemption_keys("all", too_late),
                               exemption_keys("all", too_late) + mode("enforce"))));
  }
  SECTION("a stored invalid mode does not block removing the exemption") {
    check_allowed(judge(update(exemption_keys("all") + mode("Warn"), mode("Warn"))));
  }
  SECTION("a changed expiry is still held to the maximum") {
    check_governance_denied(
        judge(update(exemption_keys("all"), exemption_keys("all", too_late), admin)),
        "is more than --max-exemption-duration (2160h)");
  }
  SECTION("a changed mode is still validated") {
    check_governance_denied(judge(update(exemption_keys("all", too_late),
                                         mode("Enforce") + exemption_keys("all", too_late))),
                            "it must be enforce or warn");
  }
}
