// MdsStore: the MDS's RADOS I/O other than journal appends, run on one
// worker thread with synchronous librados calls so the event loop never
// blocks; every result is posted back to the loop. The work queue is
// bounded (Submit fails when full and the caller pushes back).
//
// What it does: connect and open the pools, read a rank's state for replay
// (head, root, remote table, journal segments, directories), load one
// directory (paged omap reads), write a flush (omap set/rm per dir, the
// remote table, the root, then the head, then delete expired segments),
// and delete or truncate a file's data objects.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/config.h"
#include "common/event_loop.h"
#include "common/status.h"
#include "daemons/mds/mds_cache.h"
#include "librados/rados.h"
#include "mds.pb.h"

namespace nacre::mds {

// What replay needs, read in one go on the worker.
struct RankState {
  bool new_fs = false;  // no root object: this rank creates it
  proto::JournalHeadProto head;
  proto::InodeProto root;
  std::map<std::string, std::string> remote;
  std::vector<proto::JournalEntry> entries;
  uint64_t next_seg = 0;  // first segment number free for appending
  std::map<uint64_t, std::map<std::string, std::string>> dirs;  // every dir the entries touch
};

class MdsStore {
 public:
  MdsStore(EventLoop& loop, const Config& config);
  ~MdsStore();  // finishes the queued work, then stops

  // Runs `work` on the worker; false if the queue is full.
  bool Submit(std::function<void()> work);
  // Posts `fn` to the loop (from the worker).
  void Post(std::function<void()> fn) { loop_.Post(std::move(fn)); }

  // --- worker-thread calls (synchronous)
  Status Connect(int64_t meta_pool);
  rados::IoCtx& meta() { return meta_; }
  Result<RankState> ReadRank(int rank, int64_t now_ns);
  Result<std::map<std::string, std::string>> LoadDir(uint64_t ino);
  Status Flush(const FlushBatch& b, int rank, const proto::JournalHeadProto& head, uint64_t old_expire_seg);
  Status Purge(const proto::InodeProto& i);
  Status TruncateData(const proto::InodeProto& i, uint64_t to);
  Result<std::string> PoolName(int64_t id) const;

 private:
  void Run();
  Result<rados::IoCtx> DataPool(int64_t id);

  EventLoop& loop_;
  const Config& config_;
  rados::Rados rados_;
  rados::IoCtx meta_;
  std::map<int64_t, rados::IoCtx> data_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  bool stop_ = false;
  std::thread thread_;
  static constexpr size_t kMaxQueue = 4096;
};

}  // namespace nacre::mds
