// Size limits of a CRUSH map and of one mapping.
//
// Every map arrives from outside (a file an operator wrote, bytes from the
// monitors), so every dimension is bounded: the parsers and the decoder reject
// what exceeds these with a one-line error instead of allocating without end,
// and the mapper can keep its working sets in fixed-size stack arrays.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nacre::crush {

inline constexpr int kMaxDevices = 65536;     // device ids 0 .. kMaxDevices-1
inline constexpr int kMaxBuckets = 65536;     // bucket ids -1 .. -kMaxBuckets
inline constexpr int kMaxTypes = 64;          // type ids 0 .. kMaxTypes-1
inline constexpr int kMaxRules = 256;         // rule ids 0 .. kMaxRules-1
inline constexpr int kMaxRuleSteps = 32;
inline constexpr int kMaxClasses = 32;        // distinct device classes
inline constexpr int kMaxDepth = 16;          // levels from a root to a device
inline constexpr int kMaxNameLength = 128;
// Largest result of one rule (pool size, replicas or k+m shards), and the
// largest count a choose step may ask for.
inline constexpr int kMaxResult = 32;
// Upper bound for choose_total_tries and the set_*_tries rule steps.
inline constexpr uint32_t kMaxTries = 1000;
// Device weights are 16.16 fixed point; 65535.0 is far above any real disk
// (weights are conventionally TiB) and keeps bucket sums exact in 64 bits.
inline constexpr uint32_t kWeightOne = 0x10000;
inline constexpr uint32_t kMaxDeviceWeight = 0xFFFF0000u;
// Input sizes accepted by the text/JSON parsers and by the decoder.
inline constexpr size_t kMaxTextBytes = 4u << 20;
inline constexpr size_t kMaxEncodedBytes = 16u << 20;

// The marker for an unfilled position in an indep (erasure-coded) result.
inline constexpr int kItemNone = 0x7fffffff;

inline constexpr uint32_t kDefaultChooseTotalTries = 50;

}  // namespace nacre::crush
