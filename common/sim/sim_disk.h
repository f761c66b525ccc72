// SimDisk: a node's simulated durable key-value store.
//
// It outlives the node's process: a crash destroys the process but not the
// disk, and the restarted process reads back what was made durable. Writes
// are grouped in atomic batches; a batch is durable once Sync() has run after
// it. On a crash, unsynced batches are lost except for a random prefix of
// them (what an ordered write-ahead log without fsync may keep), so code that
// forgets to sync before acting on a write loses data in the simulator as it
// would on a real machine.
//
// Invariants: reads see every batch written (synced or not) in order; a crash
// keeps a prefix of the unsynced batches, never a later batch without an
// earlier one and never part of a batch; at most kMaxPendingBatches batches are
// unsynced at once (Write fails beyond that, like a full write buffer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/sim/sim_rng.h"
#include "common/status.h"

namespace nacre::sim {

class SimDisk {
 public:
  // One operation: a put, or a delete when `value` is empty (nullopt).
  struct Op {
    std::string key;
    std::optional<std::string> value;
  };
  using Batch = std::vector<Op>;

  static constexpr size_t kMaxPendingBatches = 4096;

  // Applies `batch` atomically (visible to reads at once, durable at Sync).
  Status Write(Batch batch);
  // Makes every written batch durable.
  void Sync();

  std::optional<std::string> Get(std::string_view key) const;
  // Keys starting with `prefix`, in order, at most `limit` of them.
  std::vector<std::pair<std::string, std::string>> Scan(std::string_view prefix, size_t limit) const;

  // The crash model, called by SimWorld when the owning node crashes: keeps a
  // random prefix of the unsynced batches when `lose_unsynced`, all of them
  // otherwise.
  void OnCrash(SimRng& rng, bool lose_unsynced);

  size_t pending_batches() const { return pending_.size(); }
  uint64_t syncs() const { return syncs_; }
  uint64_t lost_batches() const { return lost_batches_; }

 private:
  static void ApplyTo(std::map<std::string, std::string, std::less<>>* m, const Batch& b);

  std::map<std::string, std::string, std::less<>> durable_;
  std::vector<Batch> pending_;  // oldest first
  uint64_t syncs_ = 0;
  uint64_t lost_batches_ = 0;
};

}  // namespace nacre::sim
