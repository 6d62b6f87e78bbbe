// Manifest loader: arbitrary YAML/JSON text to objects, then to the namespace
// index. Errors come back as values; nothing may throw or crash.
#include "netpol_guard/manifest.hpp"

#include <cstdint>
#include <string_view>

using namespace netpol_guard;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  manifest_error error;
  auto objects = parse_manifests(text, "fuzz.yaml", error);
  if (!objects) return 0;
  for (const auto& o : *objects) {
    (void)object_namespace(o.object);
    (void)object_name(o.object);
  }
  (void)index_manifests(*objects, error);
  return 0;
}
