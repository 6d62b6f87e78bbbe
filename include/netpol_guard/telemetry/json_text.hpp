#pragma once

// JSON text for documents built by hand (log lines, AdmissionReview answers),
// where a DOM would cost an allocation per field on the hot path.

#include <string>
#include <string_view>

namespace netpol_guard {

// Appends `s` to `out` as a JSON string: quoted, with '"', '\\' and control
// characters escaped. Other bytes pass through unchanged.
void append_json_string(std::string& out, std::string_view s);

}  // namespace netpol_guard
