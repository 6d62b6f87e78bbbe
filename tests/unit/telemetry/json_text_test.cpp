#include "netpol_guard/telemetry/json_text.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

using namespace netpol_guard;

TEST_CASE("append_json_string escapes quotes, backslashes and control characters", "[json_text]") {
  std::string s;
  append_json_string(s, "a\"b\\c\nd\x02");
  CHECK(s == "\"a\\\"b\\\\c\\nd\\u0002\"");
}

TEST_CASE("append_json_string output parses back to the input", "[json_text]") {
  const std::string nasty = std::string("tab\t cr\r ") + '\x01' + '\x1f' + " \u00e9\u2028 \x7f";
  std::string s = "[";
  append_json_string(s, nasty);
  s += "]";
  for (char c : s) CHECK(static_cast<unsigned char>(c) >= 0x20);
  CHECK(nlohmann::json::parse(s).at(0) == nasty);
}

TEST_CASE("append_json_string appends, keeping what was there", "[json_text]") {
  std::string s = "{\"k\":";
  append_json_string(s, "");
  CHECK(s == "{\"k\":\"\"");
}
