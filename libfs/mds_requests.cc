// RequestTable (see mds_requests.h).
#include "libfs/mds_requests.h"

namespace nacre::fs {

std::shared_ptr<PendingRequest> RequestTable::Add(proto::MdsRequest req) {
  auto p = std::make_shared<PendingRequest>();
  req.set_tid(next_tid_++);
  req.set_attempt(0);
  p->req = std::move(req);
  pending_[p->req.tid()] = p;
  return p;
}

bool RequestTable::MarkSent(PendingRequest* p, uint64_t gen) {
  if (p->done || !pending_.count(p->req.tid()) || p->sent_gen == gen) return false;
  if (p->sent_gen != 0) p->req.set_attempt(p->req.attempt() + 1);
  p->sent_gen = gen;
  return true;
}

std::vector<std::shared_ptr<PendingRequest>> RequestTable::All() const {
  std::vector<std::shared_ptr<PendingRequest>> out;
  for (const auto& [tid, p] : pending_) out.push_back(p);
  return out;
}

bool RequestTable::Complete(const proto::MdsReply& r) {
  auto it = pending_.find(r.tid());
  if (it == pending_.end()) return false;
  it->second->reply = r;
  it->second->done = true;
  pending_.erase(it);
  return true;
}

std::shared_ptr<PendingRequest> RequestTable::Find(uint64_t tid) const {
  auto it = pending_.find(tid);
  return it == pending_.end() ? nullptr : it->second;
}

void RequestTable::FailAll(const Status& s) {
  for (auto& [tid, p] : pending_) {
    p->done = true;
    p->status = s;
  }
  pending_.clear();
}

}  // namespace nacre::fs
