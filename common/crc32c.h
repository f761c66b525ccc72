// crc32c (Castagnoli) through isa-l's hardware-accelerated implementation.
// Used for frame checksums on the wire and per-chunk checksums on disk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nacre {

// Standard crc32c: Crc32c("123456789") == 0xE3069283. Chain calls by passing
// the previous result as `crc`.
uint32_t Crc32c(const void* data, size_t len, uint32_t crc = 0);
inline uint32_t Crc32c(std::string_view s, uint32_t crc = 0) { return Crc32c(s.data(), s.size(), crc); }

}  // namespace nacre
