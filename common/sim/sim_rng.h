// SimRng: the one source of randomness of a simulation run.
//
// xoshiro256** seeded through splitmix64. It is written out here rather than
// taken from <random> because std distributions may produce different values
// on another libstdc++ version, and a failing seed must replay identically on
// every machine. All helpers (Uniform, Chance, ...) are defined on top of
// Next() with integer arithmetic or exactly-representable doubles, so the
// whole stream is a pure function of the seed.
//
// Invariant: the state is never all zero (splitmix64 cannot produce four zero
// words in a row from any seed, and xoshiro never reaches zero from non-zero).
#pragma once

#include <cassert>
#include <cstdint>

namespace nacre::sim {

class SimRng {
 public:
  explicit SimRng(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t& w : s_) w = SplitMix64(&x);
    assert((s_[0] | s_[1] | s_[2] | s_[3]) != 0);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); n must be > 0. Rejection sampling removes the modulo
  // bias; each round rejects with probability < 1/2, so the loop is bounded
  // in practice and capped at 64 rounds (then falls back to plain modulo).
  uint64_t Uniform(uint64_t n) {
    assert(n > 0);
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    for (int i = 0; i < 64; ++i) {
      uint64_t r = Next();
      if (r >= threshold) return r % n;
    }
    return Next() % n;
  }

  // Uniform in [lo, hi] (inclusive); requires lo <= hi.
  uint64_t Range(uint64_t lo, uint64_t hi) {
    assert(lo <= hi);
    if (hi - lo == UINT64_MAX) return Next();
    return lo + Uniform(hi - lo + 1);
  }

  // A double in [0, 1) from the top 53 bits: exact, so identical everywhere.
  double NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // True with probability p (p <= 0: never; p >= 1: always, without drawing).
  bool Chance(double p) {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return NextDouble() < p;
  }

  // An independent stream derived from this one (for a component that must
  // not shift the draws of others when it draws more or less).
  SimRng Fork() { return SimRng(Next()); }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix64(uint64_t* x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t s_[4];
};

}  // namespace nacre::sim
