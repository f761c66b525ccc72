// libFuzzer target: the INI parser and option validation must reject any
// input with a Status, never crash or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > nacre::kMaxConfigBytes + 16) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nacre::Config c("osd.1");
  (void)c.ApplyIniText(text);
  auto ini = nacre::ParseIni(text);
  if (ini.ok()) {
    for (const auto& [sec, kv] : *ini)
      for (const auto& [k, v] : kv) (void)c.Set(k, v);
  }
  (void)nacre::ParseSize(text.substr(0, 64));
  return 0;
}
