// MdsJournal: appends JournalEntry records to the rank's journal segments
// in the metadata pool, with group commit.
//
// Entries appended while one RADOS append is in flight wait and go together
// in the next one; each entry's callback runs (on the loop) once the append
// holding it is acknowledged, in append order. A segment is closed once it
// passes `segment_bytes`, and Roll() starts a new one at a point where
// nothing is in flight (the flush needs that boundary: everything before it
// is in the older segments). The pending batch is bounded by max_pending;
// Full() tells the shell to push back.
//
// A failed append leaves the MDS unable to promise durability: the shell's
// on_error exits the process (a standby replays what did land).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "common/event_loop.h"
#include "common/status.h"
#include "librados/rados.h"
#include "mds.pb.h"

namespace nacre::mds {

class MdsJournal {
 public:
  MdsJournal(EventLoop& loop, rados::IoCtx meta, int rank, uint64_t first_seg, uint64_t segment_bytes,
             std::function<void(const Status&)> on_error);

  // Appends `e`; `on_safe` runs once it is durable.
  void Append(const proto::JournalEntry& e, std::function<void()> on_safe);
  // Runs `fn` once everything appended so far is durable.
  void AfterSafe(std::function<void()> fn);
  // Starts a new segment once nothing is in flight; `fn(new_seg)` runs then.
  void Roll(std::function<void(uint64_t)> fn);

  uint64_t current_seg() const { return seg_; }
  size_t pending() const { return pending_.size(); }
  bool Full() const { return pending_.size() >= kMaxPending; }
  uint64_t appends() const { return appends_; }

  static constexpr size_t kMaxPending = 65536;

 private:
  struct Item {
    std::string record;  // framed; empty for a barrier
    std::function<void()> on_safe;
  };
  void Kick();
  void Done(const Status& s, std::vector<std::function<void()>> cbs);

  EventLoop& loop_;
  rados::IoCtx meta_;
  int rank_;
  uint64_t seg_;
  uint64_t seg_size_ = 0;
  uint64_t segment_bytes_;
  std::function<void(const Status&)> on_error_;
  std::deque<Item> pending_;
  bool inflight_ = false;
  std::vector<std::function<void(uint64_t)>> roll_waiters_;
  uint64_t appends_ = 0;
};

}  // namespace nacre::mds
