// Manifest loader: arbitrary YAML/JSON text (YAML documents, JSON streams,
// byte-order marks, merge keys) to objects, then validation and the namespace
// index. Errors come back as values; nothing may throw or crash.
#include <cstdint>
#include <string_view>

#include "netpol_guard/netpol/manifest_loader.hpp"
#include "netpol_guard/netpol/object.hpp"
#include "netpol_guard/netpol/policy_validation.hpp"

using namespace netpol_guard;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto objects = parse_manifests(text, "fuzz.yaml");
  if (!objects) {
    (void)objects.error().what();
    return 0;
  }
  for (const auto& o : *objects) {
    (void)object_namespace(o.object);
    (void)object_name(o.object);
    (void)describe_object(o.object);
    (void)validate_manifest_object(o.object);
  }
  if (auto index = index_manifests(*objects); !index) (void)index.error().what();
  return 0;
}
