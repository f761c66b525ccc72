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
//  - Files are never rewritten in place. Only the tail file (tail().file)
//    is appended to; every lower id is sealed and, since no path copies a
//    file reference, never gains a reference again. Extents freed by
//    overwrites or removals are dead space; the reclaimer (reclaim.h) copies
//    live blocks out of mostly-dead sealed files and deletes sealed files
//    without live blocks.
//  - A deleted file is unlinked at once but its descriptor stays usable by
//    ReadAt until Close(): a reader holding an older RocksDB snapshot may
//    still resolve a reference to it. Descriptors are reference counted, so
//    a Close() racing a read never lets the read hit a reused fd number.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
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

  // --- reclaim (any thread; see reclaim.h)
  struct FileInfo {
    uint32_t id = 0;
    uint64_t size = 0;  // bytes on disk now
  };
  // Files present on disk (not unlinked), by id.
  Result<std::vector<FileInfo>> Files() const;
  // Removes a sealed file's name (and syncs the directory); reads through
  // the open descriptor keep working until Close(file). Refuses the tail.
  Status Unlink(uint32_t file);
  // Drops the descriptor of an unlinked file; in-flight reads finish first.
  void Close(uint32_t file);
  size_t open_files() const;

 private:
  // One open data file; the descriptor closes with the last reference.
  struct Handle {
    explicit Handle(int f) : fd(f) {}
    ~Handle();
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    const int fd;
    bool unlinked = false;  // guarded by mu_
  };
  using HandlePtr = std::shared_ptr<Handle>;

  Status OpenFile(uint32_t file, bool create, int* fd);
  Status Roll();
  HandlePtr Get(uint32_t file) const;

  std::string dir_;
  uint64_t max_file_size_ = 0;
  DataTail tail_;
  // Files appended to since the last Sync, with the appended byte range.
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> dirty_;
  std::atomic<uint64_t> syncs_{0};  // read by stats() from any thread
  // The tail's file id for threads other than the commit thread.
  std::atomic<uint32_t> tail_file_{0};
  mutable std::shared_mutex mu_;  // guards fds_ (readers vs. Roll, Unlink, Close)
  std::map<uint32_t, HandlePtr> fds_;
};

}  // namespace nacre::osd::store
