#include "common/crc32c.h"

#include <isa-l.h>

#include <climits>

namespace nacre {

uint32_t Crc32c(const void* data, size_t len, uint32_t crc) {
  // isa-l works on the un-inverted register; invert on the way in and out so
  // callers see the standard value and can chain.
  uint32_t reg = ~crc;
  auto* p = static_cast<const unsigned char*>(data);
  while (len > 0) {
    int n = len > static_cast<size_t>(INT_MAX) ? INT_MAX : static_cast<int>(len);
    reg = crc32_iscsi(const_cast<unsigned char*>(p), n, reg);
    p += n;
    len -= static_cast<size_t>(n);
  }
  return ~reg;
}

}  // namespace nacre
