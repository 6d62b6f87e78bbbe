#pragma once

// The steady clock as a value, as client-go's reflector takes a clock.Clock:
// code that measures ages or deadlines takes one, and tests pass a fake.

#include <chrono>
#include <functional>

namespace netpol_guard::kube {

using steady_clock_fn = std::function<std::chrono::steady_clock::time_point()>;

inline steady_clock_fn real_steady_clock() {
  return [] { return std::chrono::steady_clock::now(); };
}

}  // namespace netpol_guard::kube
