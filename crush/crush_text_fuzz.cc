// libFuzzer target: the text and JSON map parsers on arbitrary bytes must
// return an error or a map that maps and round-trips (never crash or hang).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crush/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nacre::crush;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto m = ParseCrushText(text); m.ok()) FuzzCheckMap(*m);
  if (auto m = ParseCrushJson(text); m.ok()) FuzzCheckMap(*m);
  return 0;
}
