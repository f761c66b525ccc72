// RequestTable: the MDS requests a client has sent and not yet had answered.
//
// Invariants (what makes resending after an MDS failover safe):
//  - every request gets a tid once, increasing, and keeps it across resends,
//    so the MDS (which journals the tid with the result) answers a resend of
//    a request it already did from its journal instead of doing it twice;
//  - a request is sent at most once per session generation (a generation
//    is one opened session: OPEN or RECONNECT), and each resend bumps
//    `attempt`;
//  - a reply completes its request once; a second reply to the same tid
//    (to a resend) is ignored;
//  - the table is bounded: callers wait while Full().
// Not thread-safe: MdsSession guards it with its mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "common/status.h"
#include "mds.pb.h"

namespace nacre::fs {

struct PendingRequest {
  proto::MdsRequest req;
  bool done = false;
  Status status;
  proto::MdsReply reply;
  uint64_t sent_gen = 0;  // the generation it was last sent on (0: never)
};

class RequestTable {
 public:
  explicit RequestTable(size_t max_pending) : max_(max_pending) {}

  bool Full() const { return pending_.size() >= max_; }
  size_t size() const { return pending_.size(); }
  // Assigns the next tid (attempt 0) and keeps the request until answered.
  std::shared_ptr<PendingRequest> Add(proto::MdsRequest req);
  // True if p should be sent now on generation gen (then it is marked sent
  // there, with attempt bumped if it was sent before); false if it already
  // went out on gen or is finished.
  bool MarkSent(PendingRequest* p, uint64_t gen);
  // Lets p be sent again on the current generation (the MDS asked us to
  // retry); the next MarkSent counts it as a resend.
  void Unsend(PendingRequest* p) { p->sent_gen = kRetry; }
  // Every unanswered request, in tid order.
  std::vector<std::shared_ptr<PendingRequest>> All() const;
  // Completes the request r answers; false for an unknown tid (a duplicate).
  bool Complete(const proto::MdsReply& r);
  std::shared_ptr<PendingRequest> Find(uint64_t tid) const;
  // Completes every request with s (shutdown).
  void FailAll(const Status& s);

 private:
  static constexpr uint64_t kRetry = ~0ull;
  size_t max_;
  uint64_t next_tid_ = 1;
  std::map<uint64_t, std::shared_ptr<PendingRequest>> pending_;
};

}  // namespace nacre::fs
