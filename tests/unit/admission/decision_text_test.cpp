#include <cstdint>

#include "decision_fixtures.hpp"
#include "netpol_guard/admission/decision.hpp"

// The texts the apiserver receives: warnings, annotation keys, verdict names.

using namespace decision_fixtures;

// ---------------------------------------------------------------------------
// Helpers bound by the apiserver's rules
// ---------------------------------------------------------------------------

namespace {

// Whether `s` is valid UTF-8 with no C0 or C1 control characters, as the
// apiserver requires of a warning (utf8.ValidString, unicode.IsControl).
bool valid_warning_text(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    if (len == 0 || i + len > s.size()) return false;
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) {
      return false;  // overlong
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return false;
    i += len;
  }
  return true;
}

}  // namespace

TEST_CASE("to_warning: at most 256 bytes, no control characters", "[decision]") {
  CHECK(to_warning("CIS 5.3.2: short") == "CIS 5.3.2: short");
  CHECK(to_warning("a\nb\rc\td\x01"
                   "e\x7f") == "a b c d e ");

  const std::string long_text = "CIS 5.3.2: " + std::string(1000, 'x');
  auto w = to_warning(long_text);
  CHECK(w.size() <= 256);
  CHECK_THAT(w, StartsWith("CIS 5.3.2: xxx"));

  SECTION("cutting never splits a UTF-8 sequence") {
    for (std::size_t pad = 240; pad < 256; ++pad) {
      std::string text = std::string(pad, 'a');
      for (int i = 0; i < 20; ++i) text += "\u00e9\u4e2d\U0001F600";
      auto cut = to_warning(text);
      INFO("pad " << pad);
      CHECK(cut.size() <= 256);
      CHECK(valid_warning_text(cut));
    }
  }
}

TEST_CASE("to_warning removes C1 control characters, which the apiserver rejects", "[decision]") {
  // U+0085 (NEL) and U+009B (CSI) are unicode.IsControl: kubectl never sees a
  // warning containing them.
  auto w = to_warning("CIS 5.3.2: a\u0085b\u009b[31mc");
  CHECK(valid_warning_text(w));
}

TEST_CASE("to_warning output is valid UTF-8 for any input", "[decision]") {
  auto w = to_warning(std::string("CIS 5.3.2: bad \xff\xfe bytes \xc3"));
  CHECK(valid_warning_text(w));
}

TEST_CASE("valid_audit_annotation_key follows the apiserver's rule", "[decision]") {
  for (const char* good : {"a", "Z9", "cis-5.3.2-violation", "cis-5.3.2-missing", "a_b.c-d", "0"}) {
    INFO(good);
    CHECK(valid_audit_annotation_key(good));
  }
  CHECK(valid_audit_annotation_key(std::string(63, 'k')));
  for (const char* bad :
       {"", "-a", "a-", ".a", "a.", "_a", "a_", "a/b", "netpol-guard/x", "a b", "a:b", "é"}) {
    INFO(bad);
    CHECK_FALSE(valid_audit_annotation_key(bad));
  }
  CHECK_FALSE(valid_audit_annotation_key(std::string(64, 'k')));
}

TEST_CASE("verdict names used in metrics and logs", "[decision]") {
  CHECK(std::string(to_string(verdict::allowed)) == "allowed");
  CHECK(std::string(to_string(verdict::denied)) == "denied");
  CHECK(std::string(to_string(verdict::audited)) == "audit");
  CHECK(std::string(to_string(verdict::warned)) == "warned");
}
