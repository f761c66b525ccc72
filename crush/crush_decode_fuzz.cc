// libFuzzer target: CrushMap::DecodeFromString on arbitrary bytes must
// return an error or a map that maps and round-trips (never crash or hang).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crush/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nacre::crush::CrushMap;
  nacre::Result<CrushMap> m = CrushMap::DecodeFromString(std::string_view(reinterpret_cast<const char*>(data), size));
  if (m.ok()) nacre::crush::FuzzCheckMap(*m);
  return 0;
}
