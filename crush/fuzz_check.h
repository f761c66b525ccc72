// Shared by the crush fuzz targets: whatever map an input produced must map
// every rule without trouble and survive the text round trip unchanged.
#pragma once

#include <cstdlib>
#include <vector>

#include "crush/crush_map.h"
#include "crush/formats.h"

namespace nacre::crush {

inline void FuzzCheckMap(const CrushMap& m) {
  std::vector<uint32_t> rw = m.AllIn();
  if (!rw.empty()) rw[0] = 0x8000;  // one device half out exercises the reweight path
  std::vector<int> out;
  for (const Rule& r : m.rules()) {
    for (uint32_t x = 0; x < 8; ++x) {
      for (int size : {1, 3, 6}) {
        if (!m.DoRule(r.id, x, size, rw, &out).ok()) std::abort();
        if (out.size() > static_cast<size_t>(size)) std::abort();
      }
    }
  }
  const std::string text = FormatCrushText(m);
  Result<CrushMap> again = ParseCrushText(text);
  if (!again.ok() || FormatCrushText(*again) != text) std::abort();
}

}  // namespace nacre::crush
