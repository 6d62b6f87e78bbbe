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

// The wall clock, for what is written into objects (a Lease's renewTime, a
// report's timestamps, an Event's eventTime). Ages are never measured with it.
using wall_clock_fn = std::function<std::chrono::system_clock::time_point()>;

inline wall_clock_fn real_wall_clock() {
  return [] { return std::chrono::system_clock::now(); };
}

}  // namespace netpol_guard::kube
