#pragma once

// Helpers the AdmissionReview decoder and encoder tests share.

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>

#include "netpol_guard/admission/failure_answer.hpp"
#include "netpol_guard/admission/review_decoder.hpp"

namespace review_fixtures {

using namespace netpol_guard;
using nlohmann::json;

// tests/fixtures/admission/NAME, parsed.
inline json fixture(const std::string& name) {
  std::ifstream in(std::string(NETPOL_GUARD_FIXTURES) + "/admission/" + name);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

// Requests come from the decoder, as the webhook's do.
inline admission_request decode_body(std::string_view body) {
  auto decoded = decode_admission_review(body);
  if (!decoded) {
    FAIL("decode failed: " << decoded.error().reason << ": " << decoded.error().message);
  }
  return *std::move(decoded);
}

inline admission_request decode_ok(const json& review) {
  const std::string body = review.dump();
  return decode_body(body);
}

// The decoder refuses `body`, with a reason and a message, answered 400.
inline codec_error decode_fails(std::string_view body) {
  auto decoded = decode_admission_review(body);
  REQUIRE(decoded.has_error());
  auto err = decoded.error();
  CHECK(answer_failure(err.reason, err.message).status == 400);
  CHECK_FALSE(err.reason.empty());
  CHECK_FALSE(err.message.empty());
  return err;
}

// `body` with `text` inserted right after the first `marker` (found after `after`).
inline std::string insert_after(std::string body, std::string_view marker, std::string_view text,
                                std::string_view after = {}) {
  std::size_t from = 0;
  if (!after.empty()) {
    from = body.find(after);
    REQUIRE(from != std::string::npos);
  }
  auto at = body.find(marker, from);
  REQUIRE(at != std::string::npos);
  body.insert(at + marker.size(), text);
  return body;
}

}  // namespace review_fixtures
