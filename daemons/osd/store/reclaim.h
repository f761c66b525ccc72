// Reclaimer: gives back the space of dead extents in the data files.
//
// Overwrites and removals leave the old extents in data/<n>.dat unreferenced
// (data_file.h). A reclaim round:
//  1. Scans the 'D' key space (keys.h) from one RocksDB snapshot and sums the
//     live (referenced) bytes of every data file.
//  2. Deletes every sealed file (id below the snapshot's data tail) that has
//     no live bytes. Sealed files never gain references, so a file dead in
//     the snapshot is dead for good.
//  3. Compacts sealed files whose live ratio is below compact_ratio: their
//     live blocks are copied to the tail and their records repointed by
//     tasks on the commit thread (commit_queue.h), at most compact_chunk
//     bytes per task so client commits interleave. A task repoints a block
//     only if its record still equals the scanned one (otherwise it was
//     overwritten or removed since) and only after the copy's crc32c
//     matched; a block that fails is left where it is and logged. The copy
//     is fdatasync'ed before the new references and data tail are written
//     in one synced batch, as for a client commit, so a crash at any point
//     leaves either the old or the new reference, both valid.
//  4. If anything moved, scans again and deletes the files that emptied.
//
// A deleted file is unlinked at once; its descriptor is closed only when no
// RocksDB snapshot older than the scan that found it dead remains. Readers
// resolve block references under a snapshot (object_store.cc), so a read
// racing a deletion still succeeds.
//
// Rounds run on the reclaimer's thread every interval, but only after the
// store committed something (or work was left over) and no more often than
// ten times the last round's duration, so scanning a large store costs at
// most ~10% of a core; and on demand through RunRound(). Never two at once.
// A failing round is logged and retried; it never stops the store.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"
#include "daemons/osd/store/commit_queue.h"
#include "daemons/osd/store/data_file.h"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace nacre {
class Counter;
class Gauge;
}  // namespace nacre

namespace nacre::osd::store {

struct ReclaimOptions {
  double interval_sec = 5;                 // 0: no background rounds
  double compact_ratio = 0.5;              // compact a sealed file below this live ratio
  uint64_t compact_chunk = 4 << 20;        // bytes moved per commit-thread task
  uint64_t round_max_bytes = 256ull << 20; // live bytes chosen for compaction per round
  uint64_t data_file_max = 1ull << 30;     // a chunk never exceeds one data file
};

// What one round did.
struct ReclaimRound {
  uint64_t files_deleted = 0;
  uint64_t files_compacted = 0;  // every live block moved (or gone meanwhile)
  uint64_t blocks_moved = 0;
  uint64_t bytes_moved = 0;
  uint64_t blocks_skipped = 0;   // overwritten or removed since the scan
  uint64_t blocks_bad = 0;       // unreadable or failing their checksum: left in place
  bool more = false;             // compaction candidates left for a later round
};

struct ReclaimStats {
  uint64_t rounds = 0;
  uint64_t files_deleted = 0;
  uint64_t files_compacted = 0;
  uint64_t bytes_moved = 0;
  uint64_t csum_errors = 0;
  // As of the last scan (the tail file's dead bytes include appends newer
  // than the scan).
  uint64_t data_files = 0;
  uint64_t live_bytes = 0;
  uint64_t dead_bytes = 0;
};

class Reclaimer {
 public:
  Reclaimer(rocksdb::DB* db, DataFiles* data, CommitQueue* queue, ReclaimOptions opts);
  ~Reclaimer();  // Stop()
  Reclaimer(const Reclaimer&) = delete;
  Reclaimer& operator=(const Reclaimer&) = delete;

  // Starts the background thread (if interval_sec > 0).
  void Start();
  // Ends the current round at its next chunk and joins the thread. Must
  // run before the commit queue stops.
  void Stop();

  // One whole round, synchronously.
  Result<ReclaimRound> RunRound();
  ReclaimStats stats() const;

 private:
  enum class Outcome : uint8_t { kPending, kMoved, kSkipped, kBad };
  struct LiveBlock {
    std::string key, value;  // the record as scanned
    uint32_t file = 0, len = 0, crc = 0;
    uint64_t offset = 0;
    Outcome outcome = Outcome::kPending;
  };
  struct Scan {
    DataTail tail;
    uint64_t seq = 0;                 // the snapshot's sequence number
    std::vector<DataFiles::FileInfo> dead;  // sealed, no live bytes
    std::vector<uint32_t> chosen;     // to compact this round
    std::vector<LiveBlock> blocks;    // live blocks of `chosen`, key order
    bool more = false;
  };

  Result<Scan> ScanLive(bool choose);
  void DeleteDead(const Scan& scan, ReclaimRound* r);
  Status Compact(Scan* scan, ReclaimRound* r);
  // Commit thread: moves blocks [begin, end).
  Status MoveChunk(std::vector<LiveBlock>* blocks, size_t begin, size_t end);
  // Closes deleted files no snapshot can still reach.
  void CloseRetired();
  void Loop();

  rocksdb::DB* const db_;
  DataFiles* const data_;
  CommitQueue* const queue_;
  const ReclaimOptions opts_;

  std::mutex round_mu_;  // one round at a time; guards retired_, bad_
  std::vector<std::pair<uint32_t, uint64_t>> retired_;  // (file, scan seq)
  // Extents that failed a checksum: not re-read (and re-logged) every round.
  std::set<std::pair<uint32_t, uint64_t>> bad_;

  mutable std::mutex stats_mu_;
  ReclaimStats stats_;

  std::mutex mu_;  // guards the wait below
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  std::thread thread_;

  Counter* m_deleted_ = nullptr;
  Counter* m_compacted_ = nullptr;
  Counter* m_moved_ = nullptr;
  Counter* m_csum_ = nullptr;
  Gauge* m_live_ = nullptr;
  Gauge* m_dead_ = nullptr;
  Gauge* m_files_ = nullptr;
};

}  // namespace nacre::osd::store
