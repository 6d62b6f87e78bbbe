// Times the request decoder (simdjson On-Demand) against the nlohmann decoder it
// replaced (tests/oracle) on the bodies bench/gen.py writes. Built on demand only:
//   python3 bench/gen.py bodies /tmp/bodies
//   cmake --build build --target decode_bench && build/decode_bench /tmp/bodies
// Prints, per body, the median of 5 runs of the mean time per decode.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "netpol_guard/admission/review_decoder.hpp"
#include "review_decoder_nlohmann.hpp"

namespace {

template <class Decode>
double median_us(const std::string& body, Decode decode) {
  // Enough iterations for about 50 ms a run.
  const std::size_t iterations = std::max<std::size_t>(20, (50u << 20) / (body.size() * 60 + 1));
  std::vector<double> runs;
  for (int run = 0; run < 5; ++run) {
    auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < iterations; ++i) {
      if (!decode(body)) std::abort();
    }
    std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
    runs.push_back(took.count() / static_cast<double>(iterations));
  }
  std::sort(runs.begin(), runs.end());
  return runs[2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "bench/bodies";
  std::printf("%-14s %10s %14s %14s %14s %8s\n", "body", "bytes", "nlohmann us", "simdjson us",
              "in place us", "speedup");
  for (const char* name : {"pod-1k.json", "pod-8k.json", "pod-256k.json"}) {
    std::ifstream in(dir + "/" + name);
    if (!in) {
      std::fprintf(stderr, "no %s/%s (python3 bench/gen.py bodies %s)\n", dir.c_str(), name,
                   dir.c_str());
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string body = text.str();
    body.reserve(body.size() + netpol_guard::decoder_padding);
    const double old_us = median_us(body, [](const std::string& b) {
      return netpol_guard::oracle::decode_admission_review_nlohmann(b).has_value();
    });
    const double new_us = median_us(body, [](const std::string& b) {
      return netpol_guard::decode_admission_review(std::string_view(b)).has_value();
    });
    const double in_place_us = median_us(body, [](const std::string& b) {
      return netpol_guard::decode_admission_review(b, b.capacity()).has_value();
    });
    std::printf("%-14s %10zu %14.2f %14.2f %14.2f %7.1fx\n", name, body.size(), old_us, new_us,
                in_place_us, old_us / new_us);
  }
  return 0;
}
