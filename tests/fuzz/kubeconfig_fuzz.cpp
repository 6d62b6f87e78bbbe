// Kubeconfig reader: arbitrary text. Relative file references resolve under a
// directory that does not exist, so the fuzzer reads no files of its own.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "netpol_guard/kube/config.hpp"

using namespace netpol_guard::kube;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = parse_kubeconfig(text, "/nonexistent/netpol-guard-fuzz");
  if (config) {
    // A config that parses names an https server with a numeric port.
    if (config->host.empty() || config->port.empty() ||
        config->port.find_first_not_of("0123456789") != std::string::npos) {
      std::abort();
    }
  } else if (config.error().empty()) {
    std::abort();
  }
  (void)base64_decode(text);
  return 0;
}
