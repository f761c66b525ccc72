// A deterministic fixed-point logarithm for straw2 draws.
//
// straw2 gives each item the draw ln(u)/weight for a uniform u in (0, 1] and
// picks the largest. Floating point would make the choice depend on the
// machine's libm, so the logarithm is computed with integers only: a
// 257-entry table of log2(1 + i/256) built at compile time by exact integer
// arithmetic, with linear interpolation between entries. The result is
// strictly increasing in u, so equal hashes are the only ties, and its error
// (below 3e-6 in log2 units) shifts selection probabilities by about a
// millionth.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace nacre::crush {

// Bits of hash used for u; u = (h & mask) + 1 lies in [1, 2^24].
inline constexpr int kDrawBits = 24;

namespace log_detail {

// floor(log2(1 + i/256) * 2^32) for i in [0, 256], by repeated squaring of
// the mantissa: each squaring that reaches 2 yields a 1 bit.
consteval std::array<uint64_t, 257> MakeTable() {
  std::array<uint64_t, 257> t{};
  for (int i = 0; i < 256; ++i) {
    unsigned __int128 m = (static_cast<unsigned __int128>(256 + i) << 62) / 256;  // Q2.62 in [1, 2)
    uint64_t bits = 0;
    for (int k = 0; k < 32; ++k) {
      m = (m * m) >> 62;
      bits <<= 1;
      if (m >= (static_cast<unsigned __int128>(2) << 62)) {
        bits |= 1;
        m >>= 1;
      }
    }
    t[i] = bits;
  }
  t[256] = uint64_t{1} << 32;
  return t;
}

inline constexpr std::array<uint64_t, 257> kLog2Table = MakeTable();

}  // namespace log_detail

// log2(u / 2^24) scaled by 2^32 for u in [1, 2^24]: a value in
// [-24 * 2^32, 0].
constexpr int64_t FixedLog2(uint32_t u) {
  const int msb = 31 - std::countl_zero(u);
  const uint32_t frac = (u << (31 - msb)) - 0x80000000u;  // 31-bit mantissa fraction
  const uint32_t i = frac >> 23;
  const uint64_t rem = frac & 0x7FFFFFu;
  const uint64_t lo = log_detail::kLog2Table[i];
  const uint64_t hi = log_detail::kLog2Table[i + 1];
  const uint64_t mant = lo + (((hi - lo) * rem) >> 23);
  return (static_cast<int64_t>(msb) << 32) + static_cast<int64_t>(mant) -
         (static_cast<int64_t>(kDrawBits) << 32);
}

// The straw2 log for a hash value: uses its low kDrawBits bits.
constexpr int64_t DrawLog(uint32_t hash) {
  return FixedLog2((hash & ((1u << kDrawBits) - 1)) + 1);
}

}  // namespace nacre::crush
