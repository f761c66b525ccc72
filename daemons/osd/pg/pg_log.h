// PgLog: the ordered record of a PG's recent writes.
//
// Every write the primary orders gets the next version and a log entry
// naming the object and the client request. The log serves two purposes:
//  - Exactly-once: a client resending a request (after a reset or a map
//    change) is answered from the log instead of applying it again.
//  - Recovery: comparing two members' logs tells which objects one lacks
//    (peering.h), so a member that was briefly away copies only those.
// It holds at most `max_entries`; older entries are trimmed (a member whose
// log ends before the authoritative log's tail is backfilled instead).
//
// In memory only: the OSD persists entries as collection kv pairs (LogKey)
// in the same transaction as the write they describe.
#pragma once

#include <deque>
#include <map>
#include <vector>

#include "daemons/osd/pg/pg_types.h"

namespace nacre::osd::pg {

class PgLog {
 public:
  const std::deque<proto::PgLogEntryProto>& entries() const { return entries_; }
  EVersion head() const { return head_; }
  EVersion tail() const { return tail_; }
  size_t size() const { return entries_.size(); }

  // Appends an entry newer than head().
  void Add(const proto::PgLogEntryProto& e);
  // Replaces the whole log (peering adopts the authoritative one).
  void Reset(EVersion tail, const std::vector<proto::PgLogEntryProto>& entries);
  // Drops the oldest entries beyond `max_entries`; returns their versions so
  // the caller can delete them from the store.
  std::vector<EVersion> Trim(size_t max_entries);

  // The version of a request the log holds, or zero.
  EVersion Find(const ReqId& r) const;
  // The newest entry for an object, or nullptr.
  const proto::PgLogEntryProto* Newest(const ObjectId& o) const;
  bool Contains(EVersion v) const;

 private:
  std::deque<proto::PgLogEntryProto> entries_;
  EVersion head_, tail_;
  std::map<ReqId, EVersion> reqs_;
  std::map<ObjectId, EVersion> newest_;
};

ReqId EntryReqId(const proto::PgLogEntryProto& e);

}  // namespace nacre::osd::pg
