#include "netpol_guard/netpol/namespace_settings.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "netpol_guard/netpol/rules.hpp"

using namespace netpol_guard;
using namespace std::chrono;
using nlohmann::json;

namespace {

// 2026-01-01T00:00:00Z, the clock every expiry below is judged at.
const sys_seconds now = sys_days{year{2026} / January / 1};
const seconds max_duration = rules::default_max_exemption_duration;

namespace_keys exemption_keys(std::string exempt, std::string reason = "migration",
                              std::string until = "2026-02-01T00:00:00Z") {
  return {std::nullopt, std::move(exempt), std::move(reason), std::move(until)};
}

namespace_keys mode_keys(std::string mode) {
  namespace_keys k;
  k.mode = std::move(mode);
  return k;
}

std::string validation_error(const namespace_keys& keys) {
  auto r = validate_keys(keys, now, max_duration);
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_CASE("keys are read from labels and annotations; non-strings are absent",
          "[namespace_settings]") {
  json md = {{"labels", {{std::string(rules::mode_label), "warn"}, {"app", "x"}}},
             {"annotations",
              {{std::string(rules::exempt_annotation), "ingress"},
               {std::string(rules::exempt_reason_annotation), "why"},
               {std::string(rules::exempt_until_annotation), "2026-02-01T00:00:00Z"}}}};
  auto k = keys_from_metadata(md);
  CHECK(k.mode == "warn");
  CHECK(k.exempt == "ingress");
  CHECK(k.reason == "why");
  CHECK(k.until == "2026-02-01T00:00:00Z");
  CHECK(k.any());

  SECTION("the mode is a label, not an annotation") {
    json swapped = {{"annotations", {{std::string(rules::mode_label), "warn"}}},
                    {"labels", {{std::string(rules::exempt_annotation), "all"}}}};
    CHECK(keys_from_metadata(swapped) == namespace_keys{});
  }
  SECTION("non-string values, odd maps and odd metadata count as absent") {
    json odd = {{"labels", {{std::string(rules::mode_label), 1}}},
                {"annotations", {{std::string(rules::exempt_annotation), nullptr}}}};
    CHECK(keys_from_metadata(odd) == namespace_keys{});
    CHECK(keys_from_metadata(json{{"labels", "x"}, {"annotations", json::array()}}) ==
          namespace_keys{});
    CHECK(keys_from_metadata(json()) == namespace_keys{});
    CHECK(keys_from_metadata(json::array()) == namespace_keys{});
    CHECK_FALSE(keys_from_metadata(json::object()).any());
  }
}

TEST_CASE("RFC 3339 times are parsed by hand", "[namespace_settings]") {
  const sys_seconds noon = sys_days{year{2025} / September / 30} + hours{12};
  CHECK(parse_rfc3339("2025-09-30T12:00:00Z") == noon);
  // Go's time.Parse(time.RFC3339), which metav1.Time uses, takes only 'T' and 'Z'.
  CHECK_FALSE(parse_rfc3339("2025-09-30t12:00:00z"));
  CHECK_FALSE(parse_rfc3339("2025-09-30T12:00:00z"));
  CHECK(parse_rfc3339("2025-09-30T14:00:00+02:00") == noon);
  CHECK(parse_rfc3339("2025-09-30T07:30:00-04:30") == noon);
  CHECK(parse_rfc3339("2025-09-30T12:00:00.999999999Z") == noon);
  CHECK(parse_rfc3339("2025-09-30T12:00:00.5+00:00") == noon);
  CHECK(parse_rfc3339("2024-02-29T00:00:00Z") == sys_seconds{sys_days{year{2024} / 2 / 29}});
  CHECK(parse_rfc3339("2025-12-31T23:59:59Z") ==
        sys_seconds{sys_days{year{2026} / 1 / 1}} - seconds{1});

  for (const char* bad : {"2025-09-30",
                          "2025-09-30T12:00:00",
                          "2025-02-30T00:00:00Z",
                          "2025-02-29T00:00:00Z",
                          "2025-09-30T24:00:00Z",
                          "2025-09-30T23:59:60Z",
                          "2025-09-30T12:60:00Z",
                          "2025-13-01T00:00:00Z",
                          "2025-00-01T00:00:00Z",
                          "2025-09-00T00:00:00Z",
                          "2025-09-30 12:00:00Z",
                          "2025-09-30T12:00:00.Z",
                          "2025-09-30T12:00Z",
                          "2025-09-30T12:00:00+0200",
                          "2025-09-30T12:00:00+24:00",
                          "2025-9-30T12:00:00Z",
                          "2025-09-30T12:00:00Zx",
                          " 2025-09-30T12:00:00Z",
                          "",
                          "tomorrow"}) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339(bad).has_value());
  }
}

TEST_CASE("validate_keys: modes and directions", "[namespace_settings]") {
  CHECK(validate_keys({}, now, max_duration)->mode == namespace_mode::unset);
  CHECK(validate_keys(mode_keys("enforce"), now, max_duration)->mode == namespace_mode::enforce);
  CHECK(validate_keys(mode_keys("warn"), now, max_duration)->mode == namespace_mode::warn);
  CHECK(validation_error(mode_keys("Warn")) ==
        "label netpol-guard.k8s-security-pro.io/mode is \"Warn\"; it must be enforce or warn.");
  CHECK_THAT(validation_error(mode_keys("")),
             Catch::Matchers::EndsWith("is \"\"; it must be enforce or warn."));

  auto ingress = validate_keys(exemption_keys("ingress"), now, max_duration);
  REQUIRE(ingress.has_value());
  REQUIRE(ingress->exempt.has_value());
  CHECK(ingress->exempt->directions == deny_all_coverage{true, false});
  CHECK(ingress->exempt->reason == "migration");
  CHECK(ingress->exempt->until_text == "2026-02-01T00:00:00Z");
  CHECK(ingress->exempt->until == sys_seconds{sys_days{year{2026} / February / 1}});
  CHECK(ingress->invalid.empty());
  CHECK(validate_keys(exemption_keys("egress"), now, max_duration)->exempt->directions ==
        deny_all_coverage{false, true});
  CHECK(validate_keys(exemption_keys("all"), now, max_duration)->exempt->directions ==
        deny_all_coverage{true, true});
  CHECK(validation_error(exemption_keys("both")) ==
        "annotation netpol-guard.k8s-security-pro.io/exempt is \"both\"; it must be ingress, "
        "egress or all.");
  CHECK_FALSE(validate_keys(exemption_keys("Ingress"), now, max_duration).has_value());
  CHECK_FALSE(validate_keys(exemption_keys("ingress,egress"), now, max_duration).has_value());

  SECTION("a reason or an expiry without exempt is no exemption, and valid") {
    namespace_keys k{std::nullopt, std::nullopt, "", "not a time"};
    auto r = validate_keys(k, now, max_duration);
    REQUIRE(r.has_value());
    CHECK_FALSE(r->exempt.has_value());
  }
}

TEST_CASE("validate_keys: the reason", "[namespace_settings]") {
  const std::string required =
      "netpol-guard.k8s-security-pro.io/exempt-reason is required with "
      "netpol-guard.k8s-security-pro.io/exempt and must not be empty or blank.";
  CHECK(validation_error(exemption_keys("all", "")) == required);
  CHECK(validation_error(exemption_keys("all", " \t ")) == required);
  CHECK(validation_error({std::nullopt, "all", std::nullopt, "2026-02-01T00:00:00Z"}) == required);
  CHECK(validate_keys(exemption_keys("all", repeat("a", 256)), now, max_duration).has_value());
  CHECK(validation_error(exemption_keys("all", repeat("a", 257))) ==
        "netpol-guard.k8s-security-pro.io/exempt-reason has 257 characters; at most 256.");
  // 256 code points of two, three and four bytes: characters, not bytes, count.
  for (const char* c : {"é", "€", "😀"}) {
    INFO(c);
    CHECK(validate_keys(exemption_keys("all", repeat(c, 256)), now, max_duration).has_value());
    CHECK(validation_error(exemption_keys("all", repeat(c, 257))).find("has 257 characters") !=
          std::string::npos);
  }
}

TEST_CASE("validate_keys: the expiry", "[namespace_settings]") {
  CHECK(validation_error({std::nullopt, "all", "why", std::nullopt}) ==
        "netpol-guard.k8s-security-pro.io/exempt-until is required with "
        "netpol-guard.k8s-security-pro.io/exempt (RFC 3339, e.g. 2025-09-30T00:00:00Z).");
  auto unparseable = validation_error(exemption_keys("all", "why", "2026-02-01"));
  CHECK(unparseable.starts_with(
      "netpol-guard.k8s-security-pro.io/exempt-until \"2026-02-01\" is not an RFC 3339 time"));

  SECTION("exactly the maximum is accepted, one second more is refused") {
    CHECK(validate_keys(exemption_keys("all", "why", "2026-04-01T00:00:00Z"), now, max_duration)
              .has_value());
    CHECK(
        validate_keys(exemption_keys("all", "why", "2026-04-01T02:00:00+02:00"), now, max_duration)
            .has_value());
    CHECK(validation_error(exemption_keys("all", "why", "2026-04-01T00:00:01Z")) ==
          "netpol-guard.k8s-security-pro.io/exempt-until 2026-04-01T00:00:01Z is more than "
          "--max-exemption-duration (2160h) after now (latest 2026-04-01T00:00:00Z).");
    auto short_max =
        validate_keys(exemption_keys("all", "why", "2026-01-01T00:10:01Z"), now, minutes{10});
    REQUIRE_FALSE(short_max.has_value());
    CHECK(short_max.error().find("(10m)") != std::string::npos);
  }
  SECTION("a past expiry is valid (and inert)") {
    auto r = validate_keys(exemption_keys("all", "why", "2020-01-01T00:00:00Z"), now, max_duration);
    REQUIRE(r.has_value());
    CHECK_FALSE(r->exempt->active(now));
  }
  SECTION("every problem is named") {
    auto e = validation_error({"Warn", "both", "", "x"});
    CHECK(e.find("is \"Warn\"") != std::string::npos);
    CHECK(e.find("is \"both\"") != std::string::npos);
    CHECK(e.find("must not be empty") != std::string::npos);
    CHECK(e.find("\"x\" is not an RFC 3339 time") != std::string::npos);
  }
}

TEST_CASE("settings_from_keys is lenient and says what it ignored", "[namespace_settings]") {
  auto valid = settings_from_keys({"warn", "egress", "why", "2099-01-01T00:00:00Z"});
  CHECK(valid.mode == namespace_mode::warn);
  REQUIRE(valid.exempt.has_value());
  CHECK(valid.exempt->directions == deny_all_coverage{false, true});
  CHECK(valid.invalid.empty());

  // Stored exemptions are honoured without the maximum (set before install).
  CHECK(settings_from_keys(exemption_keys("all", "why", "2099-01-01T00:00:00Z")).exempt);

  auto bad_mode = settings_from_keys({"Enforce", "all", "why", "2026-02-01T00:00:00Z"});
  CHECK(bad_mode.mode == namespace_mode::unset);
  CHECK(bad_mode.exempt.has_value());
  CHECK(bad_mode.invalid.find("is \"Enforce\"") != std::string::npos);

  auto bad_exemption = settings_from_keys({"enforce", "all", "why", "soon"});
  CHECK(bad_exemption.mode == namespace_mode::enforce);
  CHECK_FALSE(bad_exemption.exempt.has_value());
  CHECK(bad_exemption.invalid.find("\"soon\" is not an RFC 3339 time") != std::string::npos);

  CHECK(settings_from_keys({}) == namespace_settings{});
}

TEST_CASE("loosening: what needs --exemption-groups, under both global modes",
          "[namespace_settings]") {
  const namespace_keys none;
  const namespace_keys enforce = mode_keys("enforce");
  const namespace_keys warn = mode_keys("warn");
  const namespace_keys invalid = mode_keys("Warn");
  const auto ex_in = exemption_keys("ingress");
  const auto ex_all = exemption_keys("all");

  for (bool audit_only : {false, true}) {
    INFO("audit_only=" << audit_only);
    // (a) Any add or change of the three annotations, narrowing included.
    CHECK(loosening(none, ex_in, audit_only) ==
          "adds an exemption of ingress until 2026-02-01T00:00:00Z");
    CHECK(loosening(none, ex_all, audit_only) ==
          "adds an exemption of ingress and egress until 2026-02-01T00:00:00Z");
    CHECK(loosening(ex_in, ex_all, audit_only)
              .starts_with("changes the exemption to ingress and "
                           "egress"));
    CHECK(loosening(ex_all, ex_in, audit_only).starts_with("changes the exemption to ingress"));
    CHECK(loosening(ex_in, exemption_keys("ingress", "other"), audit_only) ==
          "changes the exemption's reason");
    CHECK(loosening(ex_in, exemption_keys("ingress", "migration", "2026-01-15T00:00:00Z"),
                    audit_only) == "changes the exemption's expiry to 2026-01-15T00:00:00Z");
    CHECK_FALSE(
        loosening(none, {std::nullopt, std::nullopt, "why", std::nullopt}, audit_only).empty());
    CHECK_FALSE(loosening(none, {std::nullopt, std::nullopt, std::nullopt, "2026-02-01T00:00:00Z"},
                          audit_only)
                    .empty());
    // (c) The label becoming warn loosens whatever the global mode.
    CHECK(loosening(none, warn, audit_only) == "sets mode=warn");
    CHECK(loosening(enforce, warn, audit_only) == "sets mode=warn");
    CHECK(loosening(invalid, warn, audit_only) == "sets mode=warn");
    // Tightening, and no change, never loosen.
    CHECK(loosening(ex_all, none, audit_only).empty());
    CHECK(loosening(ex_all, {std::nullopt, "all", std::nullopt, std::nullopt}, audit_only).empty());
    CHECK(loosening(warn, none, audit_only).empty());
    CHECK(loosening(none, enforce, audit_only).empty());
    CHECK(loosening(warn, enforce, audit_only).empty());
    CHECK(loosening(ex_in, ex_in, audit_only).empty());
    CHECK(loosening(warn, warn, audit_only).empty());
    CHECK(loosening(none, none, audit_only).empty());
    // Both at once: each is named.
    namespace_keys both = ex_in;
    both.mode = "warn";
    CHECK(loosening(none, both, audit_only) ==
          "adds an exemption of ingress until 2026-02-01T00:00:00Z and sets mode=warn");
  }

  SECTION("removing the labels: depends on the global mode") {
    // Enforcing cluster: removing mode=enforce or mode=warn leaves enforce.
    CHECK(loosening(enforce, none, false).empty());
    CHECK(loosening(warn, none, false).empty());
    // (b) --audit-only: removing mode=enforce moves the namespace to warn.
    CHECK(loosening(enforce, none, true) == "removes mode=enforce");
    CHECK(loosening(warn, none, true).empty());
    // An invalid label falls back to the global mode.
    CHECK(loosening(enforce, invalid, true) == "changes mode=enforce to mode=Warn");
    CHECK(loosening(enforce, invalid, false).empty());
    CHECK(loosening(none, invalid, true).empty());
  }
}
