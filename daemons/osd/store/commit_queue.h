// CommitQueue: bounded queue of transactions and the one thread that commits
// them in groups.
//
// Submitters from any thread enqueue (blocking while the queue is full, which
// is the store's back-pressure). The commit thread takes everything queued,
// up to max_group transactions, and hands the group to the committer, which
// applies it with one data-file fdatasync and one synced RocksDB write. While
// one group syncs the next one accumulates, so concurrent submitters share
// syncs: that is the group commit.
//
// Besides transactions the queue runs tasks: store-internal work (the
// reclaimer's block moves) that must be serialized with every transaction.
// A task runs alone on the commit thread, between two groups, in its place
// in the submission order.
//
// Invariants: callbacks run on the commit thread, in submission order, only
// after the committer has reported each item's final status; they must not
// block on the store. After Stop() returns, every accepted item has had its
// callback invoked exactly once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"
#include "daemons/osd/store/transaction.h"

namespace nacre::osd::store {

using CommitCallback = std::function<void(Status)>;
using CommitTask = std::function<Status()>;

struct CommitItem {
  Transaction txn;
  CommitCallback done;
  Status result;    // set by the committer (or the task's return)
  CommitTask task;  // set: this item is a task, not a transaction
};

class CommitQueue {
 public:
  // Commits a whole group, setting every item's result.
  using Committer = std::function<void(std::vector<CommitItem>& group)>;

  CommitQueue(size_t max_queued, size_t max_group, Committer committer);
  ~CommitQueue();
  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  void Start();
  // Drains what is queued, then joins the thread.
  void Stop();

  // kShutdown once stopping; otherwise waits for room and enqueues.
  Status Submit(Transaction txn, CommitCallback done);
  // Same for a task; `done` gets what the task returned.
  Status SubmitTask(CommitTask task, CommitCallback done);

  uint64_t groups() const;       // committer calls (one sync each)
  uint64_t committed() const;    // transactions through the committer (tasks not counted)

 private:
  void Run();
  Status Enqueue(CommitItem item);

  const size_t max_queued_;
  const size_t max_group_;
  Committer committer_;
  mutable std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<CommitItem> queue_;
  bool stopping_ = false;
  uint64_t groups_ = 0, committed_ = 0;
  std::thread thread_;
};

}  // namespace nacre::osd::store
