#include "daemons/osd/store/commit_queue.h"

#include <cassert>

namespace nacre::osd::store {

CommitQueue::CommitQueue(size_t max_queued, size_t max_group, Committer committer)
    : max_queued_(max_queued < 1 ? 1 : max_queued),
      max_group_(max_group < 1 ? 1 : max_group),
      committer_(std::move(committer)) {}

CommitQueue::~CommitQueue() { Stop(); }

void CommitQueue::Start() {
  assert(!thread_.joinable());
  thread_ = std::thread([this] { Run(); });
}

void CommitQueue::Stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  not_empty_.notify_all();
  not_full_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status CommitQueue::Submit(Transaction txn, CommitCallback done) {
  return Enqueue(CommitItem{std::move(txn), std::move(done), Status::OK(), nullptr});
}

Status CommitQueue::SubmitTask(CommitTask task, CommitCallback done) {
  assert(task);
  return Enqueue(CommitItem{Transaction(), std::move(done), Status::OK(), std::move(task)});
}

Status CommitQueue::Enqueue(CommitItem item) {
  std::unique_lock lk(mu_);
  not_full_.wait(lk, [&] { return stopping_ || queue_.size() < max_queued_; });
  if (stopping_) return ShuttingDown("object store is stopping");
  queue_.push_back(std::move(item));
  lk.unlock();
  not_empty_.notify_one();
  return Status::OK();
}

uint64_t CommitQueue::groups() const {
  std::lock_guard lk(mu_);
  return groups_;
}

uint64_t CommitQueue::committed() const {
  std::lock_guard lk(mu_);
  return committed_;
}

void CommitQueue::Run() {
  std::vector<CommitItem> group;
  for (;;) {
    {
      std::unique_lock lk(mu_);
      not_empty_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      // A task goes alone; a group of transactions stops before a task.
      bool task = static_cast<bool>(queue_.front().task);
      while (!queue_.empty() && group.size() < max_group_ && static_cast<bool>(queue_.front().task) == task) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
        if (task) break;
      }
    }
    not_full_.notify_all();
    bool task = static_cast<bool>(group.front().task);
    if (task)
      group.front().result = group.front().task();
    else
      committer_(group);
    if (!task) {
      std::lock_guard lk(mu_);
      ++groups_;
      committed_ += group.size();
    }
    for (auto& item : group)
      if (item.done) item.done(item.result);
    group.clear();
  }
}

}  // namespace nacre::osd::store
