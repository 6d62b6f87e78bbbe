// The simdjson decoder against the nlohmann decoder it replaced (tests/oracle):
// same facts from every fixture, same answers on the edge cases of the JSON
// grammar that the two parsers implement separately.
#include <string>

#include "request_compare.hpp"
#include "review_decoder_nlohmann.hpp"
#include "review_fixtures.hpp"

using namespace review_fixtures;

namespace {

// Both decoders on `body`: the same acceptance, the same facts, the same reason.
void check_agree(const std::string& body) {
  INFO(body.substr(0, 200));
  auto fresh = decode_admission_review(body);
  auto old = oracle::decode_admission_review_nlohmann(body);
  REQUIRE(fresh.has_value() == old.has_value());
  if (fresh) {
    CHECK(oracle::first_difference(*fresh, *old) == "");
  } else {
    CHECK(fresh.error().reason == old.error().reason);
  }
}

std::string with_uid(const std::string& raw) {
  auto body = fixture("pod-create.json").dump();
  const std::string uid = R"("uid":"705ab4f5-6393-11e8-b7cc-42010a800002")";
  auto at = body.find(uid);
  REQUIRE(at != std::string::npos);
  return body.replace(at, uid.size(), "\"uid\":" + raw);
}

std::string in_unread_field(const std::string& raw) {
  auto body = fixture("pod-create.json").dump();
  return body.insert(body.size() - 1, ",\"extra\":" + raw);
}

}  // namespace

TEST_CASE("the simdjson decoder reads every fixture as the oracle does", "[decoder][oracle]") {
  for (const char* name :
       {"deployment-create.json", "namespace-create.json", "namespace-update.json",
        "networkpolicy-delete.json", "networkpolicy-update.json", "pod-create.json"}) {
    SECTION(name) {
      const std::string body = fixture(name).dump();
      auto fresh = decode_admission_review(body);
      REQUIRE(fresh.has_value());
      auto old = oracle::decode_admission_review_nlohmann(body);
      REQUIRE(old.has_value());
      CHECK(oracle::first_difference(*fresh, *old) == "");
      CHECK(fresh->uid == fixture(name)["request"]["uid"].get<std::string>());
      // Pretty-printed, the same.
      auto pretty = decode_admission_review(fixture(name).dump(2));
      REQUIRE(pretty.has_value());
      CHECK(oracle::first_difference(*pretty, *old) == "");
    }
  }
}

TEST_CASE("malformed values inside a subtree nobody reads are refused", "[decoder][oracle]") {
  const std::string bad[] = {
      "tru",       "nul",         "fals",
      "01",        "1.",          "-",
      "1e",        "+1",          ".5",
      "1e400",     "-1e400",      "[1 2]",
      "[1,]",      "{\"a\"}",     "{\"a\" 1}",
      "{1:2}",     "[}",          "\"\\x\"",
      "\"\\u12\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
      "[[[[]]]",   "\"\\u00\"",
  };
  for (std::size_t i = 0; i < std::size(bad); ++i) {
    SECTION("case " + std::to_string(i)) {
      auto err = decode_fails(in_unread_field(bad[i]));
      CHECK(err.reason == "malformed_json");
      CHECK(err.message.find(bad[i]) == std::string::npos);
      check_agree(in_unread_field(bad[i]));
    }
  }
}

TEST_CASE("valid JSON the two parsers could read differently", "[decoder][oracle]") {
  const std::string good[] = {
      "123456789012345678901234567890",
      "-123456789012345678901234567890",
      "18446744073709551615",
      "9223372036854775808",
      "-9223372036854775808",
      "-0",
      "1E+2",
      "0.000001e-300",
      "\"\\ud83d\\ude00\"",
      "\"\\u0000\"",
      "\"\\/\\b\\f\\n\\r\\t\"",
      "{\"a\":1,\"a\":2}",
  };
  for (std::size_t i = 0; i < std::size(good); ++i) {
    SECTION("case " + std::to_string(i)) {
      CHECK(decode_body(in_unread_field(good[i])).operation == "CREATE");
      check_agree(in_unread_field(good[i]));
      check_agree(with_uid(good[i]));
    }
  }
  SECTION("a byte order mark before the body") {
    const std::string body = "\xEF\xBB\xBF" + fixture("pod-create.json").dump();
    CHECK(decode_body(body).operation == "CREATE");
    check_agree(body);
  }
  SECTION("escaped keys match the fields they spell") {
    auto body = fixture("pod-create.json").dump();
    body.replace(body.find("\"operation\""), 11, "\"\\u006fperation\"");
    CHECK(decode_body(body).operation == "CREATE");
    check_agree(body);
  }
  SECTION("numbers in a NetworkPolicy's spec keep their content") {
    auto review = fixture("networkpolicy-update.json");
    review["request"]["object"]["spec"]["ingress"] =
        json::parse(R"([{"ports":[{"port":80},{"port":-1},{"port":1.5},{"port":1e2}]}])");
    check_agree(review.dump());
  }
}

// The old decoder's lexer took a raw NUL byte for the end of the input, so it read
// `{...}\0anything` as `{...}` (the one body it accepted that the new one refuses;
// found by decoder_diff_fuzz). A raw NUL is never JSON: not whitespace, and not
// allowed unescaped in a string. The apiserver never sends one.
TEST_CASE("a raw NUL byte after the body is refused, where the old decoder stopped reading",
          "[decoder][oracle]") {
  const std::string body = fixture("pod-create.json").dump();
  const std::string tails[] = {
      std::string(1, '\0'),
      std::string(1, '\0') + "x",
      std::string(40, '\0') + "\n=",
      " " + std::string(1, '\0') + "{}",
  };
  for (std::size_t i = 0; i < std::size(tails); ++i) {
    SECTION("tail " + std::to_string(i)) {
      CHECK(oracle::decode_admission_review_nlohmann(body + tails[i]).has_value());
      auto err = decode_fails(body + tails[i]);
      CHECK(err.reason == "malformed_json");
    }
  }
  SECTION("inside the body, both refuse") {
    auto inner = body;
    inner.insert(inner.size() - 1, std::string(1, '\0'));
    CHECK(decode_fails(inner).reason == "malformed_json");
    check_agree(inner);
  }
}

TEST_CASE("the no-copy entry point needs the padding in reserve", "[decoder][oracle]") {
  std::string body = fixture("pod-create.json").dump();
  body.reserve(body.size() + decoder_padding);
  auto in_place = decode_admission_review(body, body.capacity());
  REQUIRE(in_place.has_value());
  CHECK(in_place->uid == "705ab4f5-6393-11e8-b7cc-42010a800002");
  // Too little slack: copied, same answer.
  auto copied = decode_admission_review(body, body.size());
  REQUIRE(copied.has_value());
  CHECK(oracle::first_difference(*in_place, *copied) == "");
}
