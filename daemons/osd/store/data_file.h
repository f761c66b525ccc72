// DataFiles: the store's append-only files for large extents (data/<n>.dat).
//
// Large writes go here once instead of through RocksDB's WAL (which would
// write them twice); RocksDB holds only (file, offset, len, crc) references.
//
// Invariants:
//  - Only the commit thread appends (Append/Sync/tail); readers may call
//    ReadAt from any thread at any time.
//  - Bytes are referenced from RocksDB only after Sync() has returned OK for
//    them, and every commit that appended also records tail() in the same
//    RocksDB batch. On Open the recorded tail is authoritative: the tail file
//    is truncated to it and newer files are deleted, so a torn or
//    unreferenced append left by a crash is discarded.
//  - Files are never rewritten in place. Extents freed by overwrites or
//    removals stay as dead space until a (not yet written) compaction copies
//    live extents out of a sealed file.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "daemons/osd/store/keys.h"

namespace nacre::osd::store {

class DataFiles {
 public:
  DataFiles() = default;
  ~DataFiles();
  DataFiles(const DataFiles&) = delete;
  DataFiles& operator=(const DataFiles&) = delete;

  // Opens `dir` (created if missing), recovering to `tail`.
  Status Open(const std::string& dir, const DataTail& tail, uint64_t max_file_size);

  // Appends the buffers contiguously; returns where they start. Rolls to a
  // new file first when they would not fit in the current one. On failure
  // (ENOSPC -> kNoSpace) the tail is unchanged, so nothing is referenced.
  Result<DataTail> Append(const std::vector<iovec>& iov, uint64_t total);

  // fdatasync of every file appended to since the last Sync.
  Status Sync();
  uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }
  DataTail tail() const { return tail_; }

  // Reads exactly `len` bytes at (file, offset) into `out`.
  Status ReadAt(uint32_t file, uint64_t offset, uint64_t len, char* out) const;

  std::string PathOf(uint32_t file) const;

 private:
  Status OpenFile(uint32_t file, bool create, int* fd);
  Status Roll();

  std::string dir_;
  uint64_t max_file_size_ = 0;
  DataTail tail_;
  // Files appended to since the last Sync, with the appended byte range.
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> dirty_;
  std::atomic<uint64_t> syncs_{0};  // read by stats() from any thread
  mutable std::shared_mutex mu_;  // guards fds_ (readers vs. Roll)
  std::map<uint32_t, int> fds_;
};

}  // namespace nacre::osd::store
