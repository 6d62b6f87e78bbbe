#pragma once

// What becomes of an exception that escapes a detached coroutine.

#include <exception>
#include <string>

#include "netpol_guard/telemetry/log.hpp"

namespace netpol_guard {

// Completion handler for a detached coroutine: an exception that escapes it
// (a bug, not bad input) is logged as "<what> failed" rather than lost.
inline auto log_escaped(std::string what) {
  return [what = std::move(what)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      log::error(what, {{"error", x.what()}});
    }
  };
}

}  // namespace netpol_guard
