// Differential fuzzing of the request decoder: the same bytes go to the simdjson
// decoder (src/admission/review_decoder.cpp) and to the nlohmann decoder it
// replaced (tests/oracle). Both must accept the same bodies and, when they do,
// extract the same facts; when both refuse, they must agree on why, except where
// docs/decoder.md says the order of the checks differs. The new decoder runs
// under ASan+UBSan, so a crash or an overread is a finding too.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "netpol_guard/admission/review_decoder.hpp"
#include "request_compare.hpp"
#include "review_decoder_nlohmann.hpp"

using namespace netpol_guard;

namespace {

[[noreturn]] void disagree(const char* what, const std::string& detail) {
  std::fprintf(stderr, "decoders disagree: %s: %s\n", what, detail.c_str());
  std::abort();
}

// Both refused. The new decoder finds the errors of simdjson's first pass (bad
// UTF-8, a control character or an unclosed string anywhere) before any other,
// and the oracle the first error in document order: a body with two faults may
// be refused for either. Only then may the reasons differ.
bool reasons_may_differ(const codec_error& fresh, const codec_error& old) {
  return fresh.reason == "malformed_json" || old.reason == "malformed_json";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto fresh = decode_admission_review(body);
  auto old = oracle::decode_admission_review_nlohmann(body);

  // The no-copy entry point, from a string with the padding in reserve, must
  // give the same answer as the copying one.
  std::string padded(body);
  padded.reserve(size + decoder_padding);
  auto in_place = decode_admission_review(padded, padded.capacity());
  if (fresh.has_value() != in_place.has_value()) disagree("in place", "accepts differ");

  // A raw NUL byte is never JSON. The old decoder's lexer took it for the end of
  // the input and accepted `{...}\0anything`; the new one must refuse every such
  // body, whatever the oracle says (docs/decoder.md).
  if (body.find('\0') != std::string_view::npos) {
    if (fresh) disagree("raw NUL", "the simdjson decoder accepts a body with a raw NUL byte");
    if (old) {
      if (fresh.error().reason != "malformed_json") disagree("raw NUL", fresh.error().reason);
      return 0;
    }
  }

  if (fresh && old) {
    if (auto d = oracle::first_difference(*fresh, *old); !d.empty()) disagree("field", d);
    if (auto d = oracle::first_difference(*fresh, *in_place); !d.empty()) disagree("in place", d);
    return 0;
  }
  if (fresh) disagree("only the oracle refuses", old.error().reason + ": " + old.error().message);
  if (old) disagree("only simdjson refuses", fresh.error().reason + ": " + fresh.error().message);
  const auto& fe = fresh.error();
  const auto& oe = old.error();
  if (fe.reason != oe.reason && !reasons_may_differ(fe, oe)) {
    disagree("reason",
             fe.reason + " (" + fe.message + ") vs " + oe.reason + " (" + oe.message + ")");
  }
  if (fe.reason == oe.reason && fe.reason != "malformed_json" && fe.message != oe.message) {
    disagree("message", fe.message + " vs " + oe.message);
  }
  if (in_place.error().reason != fe.reason) disagree("in place", in_place.error().reason);
  return 0;
}
