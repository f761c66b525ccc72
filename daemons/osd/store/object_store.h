// ObjectStore: the OSD's local, transactional object store.
//
// Collections (one per PG, an opaque id such as "1.a3") hold objects (a
// namespace and a name) with data, xattrs and an omap, plus a per-collection
// key space for the PG log and PG info. Mutations are grouped in a
// Transaction (transaction.h) and applied atomically and durably.
//
// Where bytes go (layout in keys.h): metadata, omap, xattrs and small writes
// live in RocksDB; a write of at least osd_store_inline_max bytes is appended
// once to the store's data files (data_file.h) and RocksDB holds references.
// Data is kept as 64 KiB blocks, each with its crc32c, checked on every read.
//
// Guarantees:
//  - Atomic: a transaction applies entirely or not at all.
//  - Durable before reported: a callback sees OK only after the data files
//    were fdatasync'ed and the RocksDB batch was written with sync=true.
//  - Ordered: transactions apply in submission order; a transaction queued
//    after another one's callback fired sees its effects.
//  - Reads see committed state only, from a RocksDB snapshot, and never
//    return bytes whose checksum does not match (kCorruption instead).
//  - Crash-safe at every point: data beyond the committed data-file tail is
//    discarded on open.
//  - Disk full gives kNoSpace for the transactions it hit and leaves the
//    store consistent (RocksDB may go read-only until reopened).
//  - Space of overwritten and removed data-file extents comes back: a
//    background reclaimer (reclaim.h) deletes dead data files and compacts
//    mostly-dead ones, without ever changing what a read returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/config.h"
#include "common/status.h"
#include "daemons/osd/store/commit_queue.h"
#include "daemons/osd/store/data_file.h"
#include "daemons/osd/store/reclaim.h"
#include "daemons/osd/store/transaction.h"

namespace rocksdb {
class DB;
class WriteBatchWithIndex;
}  // namespace rocksdb

namespace nacre {
class Counter;
class Histogram;
}  // namespace nacre

namespace nacre::osd::store {

struct StoreOptions {
  std::string path;                  // directory: db/ and data/ inside
  StoreLimits limits;
  uint64_t inline_max = 64 << 10;    // writes smaller than this stay in RocksDB
  uint64_t data_file_max = 1ull << 30;
  size_t max_queued_txns = 1024;
  size_t max_group_txns = 256;
  size_t max_list = 10000;           // cap on any listing's limit
  double reclaim_interval = 5;       // seconds between reclaim rounds; 0: only on Reclaim()
  double compact_ratio = 0.5;        // compact sealed data files with less live data than this
  uint64_t compact_chunk = 4 << 20;  // bytes a compaction step holds the commit thread for

  static Result<StoreOptions> FromConfig(const Config& c);
};

struct ObjectStat {
  uint64_t size = 0;
  uint64_t mtime_ns = 0;  // wall clock of the last mutation
};

// A page of a listing; `next` is the cursor to continue from (start_after)
// when `more` is true.
struct ObjectList {
  std::vector<ObjectId> objects;
  bool more = false;
};
using KvList = std::vector<std::pair<std::string, std::string>>;

class ObjectStore {
 public:
  static Result<std::unique_ptr<ObjectStore>> Open(const StoreOptions& opts);
  ~ObjectStore();  // drains the commit queue, then closes
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  // --- mutations
  // Validates and enqueues; `done` runs on the commit thread once the
  // transaction is durable or has failed (then nothing of it was applied).
  // A non-OK return means it was refused up front and `done` is not called.
  Status Queue(Transaction txn, CommitCallback done);
  // Queue and wait.
  Status Apply(Transaction txn);

  // --- reads (committed state)
  std::vector<std::string> ListCollections() const;
  bool CollectionExists(const std::string& coll) const;
  // Objects sorted by (namespace, name), strictly after `start_after`.
  Result<ObjectList> ListObjects(const std::string& coll, const std::optional<ObjectId>& start_after,
                                 size_t limit) const;
  Result<ObjectStat> Stat(const std::string& coll, const ObjectId& oid) const;
  // Up to `len` bytes from `off` (len 0: to the end); holes read as zeros;
  // shorter at the end of the object.
  Result<Bytes> Read(const std::string& coll, const ObjectId& oid, uint64_t off, uint64_t len) const;
  Result<std::string> GetXattr(const std::string& coll, const ObjectId& oid, const std::string& name) const;
  Result<KvList> GetXattrs(const std::string& coll, const ObjectId& oid) const;
  // Omap keys in [first, last) ("" last: to the end), at most `limit`.
  Result<KvList> OmapGetRange(const std::string& coll, const ObjectId& oid, const std::string& first,
                              const std::string& last, size_t limit) const;
  Result<KvList> OmapGetAll(const std::string& coll, const ObjectId& oid) const;
  // Only the keys present are returned.
  Result<KvList> OmapGetKeys(const std::string& coll, const ObjectId& oid,
                             const std::vector<std::string>& keys) const;
  Result<std::string> CollGet(const std::string& coll, const std::string& key) const;
  Result<KvList> CollScan(const std::string& coll, const std::string& first, const std::string& last,
                          size_t limit) const;

  // --- space reclaim
  // Runs one reclaim round now (the background thread runs the same every
  // reclaim_interval): deletes dead sealed data files, compacts mostly-dead
  // ones. Waits for a round already running.
  Result<ReclaimRound> Reclaim();

  // --- introspection (tests, benchmarks, admin)
  struct Stats {
    uint64_t txns = 0;          // transactions through the commit thread
    uint64_t groups = 0;        // commit groups = synced RocksDB writes
    uint64_t data_syncs = 0;    // fdatasync calls on data files
    uint64_t csum_errors = 0;   // reads and reclaim copies refused
    // Data files as of the last reclaim scan.
    uint64_t data_files = 0;
    uint64_t data_live_bytes = 0;
    uint64_t data_dead_bytes = 0;
    // Reclaim totals since open.
    uint64_t reclaim_rounds = 0;
    uint64_t data_files_deleted = 0;
    uint64_t data_files_compacted = 0;
    uint64_t data_bytes_compacted = 0;
  };
  Stats stats() const;
  const StoreOptions& options() const { return opts_; }
  const DataFiles& data_files() const { return data_; }

 private:
  explicit ObjectStore(StoreOptions opts);
  Status Init();

  // txn_apply.cc: runs on the commit thread.
  void CommitGroup(std::vector<CommitItem>& group);
  class TxnApplier;

  // Reads a block's bytes (verified) into `out` (kBlockSize zero-filled).
  Status ReadBlock(std::string_view key, std::string_view value, char* out, uint32_t* len) const;
  Status CheckCollection(const std::string& coll) const;

  StoreOptions opts_;
  std::unique_ptr<rocksdb::DB> db_;
  DataFiles data_;
  std::unique_ptr<CommitQueue> queue_;
  std::unique_ptr<Reclaimer> reclaimer_;
  mutable std::atomic<uint64_t> csum_errors_{0};
  Counter* m_txns_ = nullptr;
  Counter* m_groups_ = nullptr;
  Counter* m_csum_ = nullptr;
  Histogram* m_commit_lat_ = nullptr;
};

}  // namespace nacre::osd::store
