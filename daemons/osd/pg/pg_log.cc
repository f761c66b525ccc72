#include "daemons/osd/pg/pg_log.h"

#include <algorithm>

namespace nacre::osd::pg {

ReqId EntryReqId(const proto::PgLogEntryProto& e) { return {e.client(), e.client_inc(), e.tid()}; }

void PgLog::Add(const proto::PgLogEntryProto& e) {
  EVersion v = FromProto(e.version());
  entries_.push_back(e);
  head_ = v;
  if (!e.client().empty()) reqs_[EntryReqId(e)] = v;
  newest_[EntryObject(e)] = v;
}

void PgLog::Reset(EVersion tail, const std::vector<proto::PgLogEntryProto>& entries) {
  entries_.clear();
  reqs_.clear();
  newest_.clear();
  tail_ = tail;
  head_ = tail;
  for (const auto& e : entries) Add(e);
}

std::vector<EVersion> PgLog::Trim(size_t max_entries) {
  std::vector<EVersion> out;
  while (entries_.size() > max_entries) {
    const auto& e = entries_.front();
    EVersion v = FromProto(e.version());
    auto r = reqs_.find(EntryReqId(e));
    if (r != reqs_.end() && r->second == v) reqs_.erase(r);
    auto n = newest_.find(EntryObject(e));
    if (n != newest_.end() && n->second == v) newest_.erase(n);
    tail_ = v;
    out.push_back(v);
    entries_.pop_front();
  }
  return out;
}

EVersion PgLog::Find(const ReqId& r) const {
  auto it = reqs_.find(r);
  return it == reqs_.end() ? EVersion{} : it->second;
}

const proto::PgLogEntryProto* PgLog::Newest(const ObjectId& o) const {
  auto it = newest_.find(o);
  if (it == newest_.end()) return nullptr;
  // Entries are sorted by version: binary search for it.
  auto e = std::lower_bound(entries_.begin(), entries_.end(), it->second,
                            [](const proto::PgLogEntryProto& a, const EVersion& v) { return FromProto(a.version()) < v; });
  return e == entries_.end() ? nullptr : &*e;
}

bool PgLog::Contains(EVersion v) const {
  auto e = std::lower_bound(entries_.begin(), entries_.end(), v,
                            [](const proto::PgLogEntryProto& a, const EVersion& x) { return FromProto(a.version()) < x; });
  return e != entries_.end() && FromProto(e->version()) == v;
}

}  // namespace nacre::osd::pg
