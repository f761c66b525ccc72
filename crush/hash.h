// The integer hash CRUSH draws from.
//
// Placement must be identical on every machine and in every release, so the
// hash is pure 32-bit integer arithmetic with fixed constants: a
// multiply-rotate mix per input word followed by an avalanche finalizer, so
// flipping any input bit flips each output bit with probability close to
// 1/2. The result equals MurmurHash3_x86_32 (public domain) of the words in
// little-endian byte order with seed kSeed, which gives other languages'
// clients a reference to check against. Changing anything here moves data
// in every cluster: treat the constants as part of the on-disk format.
#pragma once

#include <cstdint>

namespace nacre::crush {

namespace hash_detail {

inline constexpr uint32_t kSeed = 0x6e616372u;  // "nacr"

constexpr uint32_t Rotl(uint32_t v, int s) { return (v << s) | (v >> (32 - s)); }

// Absorbs one input word into the running state.
constexpr uint32_t Absorb(uint32_t h, uint32_t k) {
  k *= 0xcc9e2d51u;
  k = Rotl(k, 15);
  k *= 0x1b873593u;
  h ^= k;
  h = Rotl(h, 13);
  return h * 5u + 0xe6546b64u;
}

// Spreads every state bit over the whole output word.
constexpr uint32_t Avalanche(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

}  // namespace hash_detail

// The word count is folded in so Hash2(a, b) and Hash3(a, b, 0) differ.
constexpr uint32_t Hash2(uint32_t a, uint32_t b) {
  using namespace hash_detail;
  return Avalanche(Absorb(Absorb(kSeed, a), b) ^ 8u);
}

constexpr uint32_t Hash3(uint32_t a, uint32_t b, uint32_t c) {
  using namespace hash_detail;
  return Avalanche(Absorb(Absorb(Absorb(kSeed, a), b), c) ^ 12u);
}

}  // namespace nacre::crush
