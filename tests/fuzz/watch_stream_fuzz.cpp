// Watch-stream parser: the same bytes fed whole and in arbitrary chunks must
// give the same events and the same verdict. The first input byte seeds the
// chunk sizes; the rest is the stream.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "netpol_guard/kube/watch_stream.hpp"

using netpol_guard::kube::watch_event;
using netpol_guard::kube::watch_stream_parser;

namespace {

// Small so that the size limit is reached too.
constexpr std::size_t max_event_bytes = 4096;

struct run_result {
  std::vector<watch_event> events;
  bool ok = true;
};

run_result feed_in_chunks(std::string_view stream, std::uint32_t seed) {
  watch_stream_parser parser(max_event_bytes);
  run_result r;
  auto sink = [&r](watch_event&& e) {
    r.events.push_back(std::move(e));
    return true;
  };
  while (!stream.empty() && r.ok) {
    std::size_t n = stream.size();
    if (seed != 0) {
      seed = seed * 1103515245u + 12345u;  // a fixed LCG: reproducible cuts
      n = std::min<std::size_t>(n, 1 + (seed >> 16) % 64);
    }
    r.ok = parser.feed(stream.substr(0, n), sink).has_value();
    stream.remove_prefix(n);
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint32_t seed = data[0] | 1u;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  auto whole = feed_in_chunks(stream, 0);
  auto chunked = feed_in_chunks(stream, seed);
  // A malformed stream may be noticed at different points, but the events
  // before the error are the same and both runs fail.
  if (whole.ok != chunked.ok) std::abort();
  const std::size_t common = std::min(whole.events.size(), chunked.events.size());
  if (whole.ok && whole.events.size() != chunked.events.size()) std::abort();
  for (std::size_t i = 0; i < common; ++i) {
    if (whole.events[i].type != chunked.events[i].type ||
        whole.events[i].object != chunked.events[i].object) {
      std::abort();
    }
  }
  return 0;
}
