// Trace: the record of everything that happened in a simulation run.
//
// Every send, delivery, drop, timer, crash and restart is folded into a
// running 64-bit hash (FNV-1a over a fixed little-endian encoding of the
// event), so two runs can be compared with one integer: same seed, same code
// => same hash. Optionally the last `keep_lines` events are also kept as text,
// bounded, for printing when a seed fails.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "common/event_loop.h"

namespace nacre::sim {

enum class TraceKind : uint8_t {
  kSend = 1,
  kDeliver,
  kDropLoss,
  kDropPartition,
  kDropCrash,
  kDuplicate,
  kHold,        // a lossless connection waits for its peer (down or partitioned)
  kRetransmit,  // a lossless connection resends a message the network lost
  kTimer,
  kCrash,
  kRestart,
  kPartition,
  kHeal,
  kNote,
};

const char* TraceKindName(TraceKind k);

// FNV-1a over bytes; also used to fingerprint message contents.
uint64_t HashBytes(std::string_view bytes, uint64_t h = 0xcbf29ce484222325ULL);

class Trace {
 public:
  explicit Trace(size_t keep_lines = 0) : keep_lines_(keep_lines) {}

  // `node` and `peer` are node ids (-1 when not applicable); `detail` is a
  // kind-specific number (message fingerprint, timer id, ...). `label` only
  // decorates the kept text line; it is not part of the hash.
  void Record(TraceKind kind, EventLoop::Duration at, int node, int peer, uint64_t detail,
              std::string_view label = {});
  // Free text (hashed too), for test-level events worth comparing.
  void Note(EventLoop::Duration at, std::string_view text);

  bool keeps_lines() const { return keep_lines_ > 0; }
  uint64_t hash() const { return hash_; }
  uint64_t events() const { return events_; }
  const std::deque<std::string>& recent() const { return recent_; }
  // The kept lines, one per line.
  std::string Dump() const;

 private:
  void Keep(std::string line);

  size_t keep_lines_;
  uint64_t hash_ = 0xcbf29ce484222325ULL;
  uint64_t events_ = 0;
  std::deque<std::string> recent_;  // at most keep_lines_
};

}  // namespace nacre::sim
