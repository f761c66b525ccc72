#include "daemons/mon/paxos_log.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstdio>

#include "common/log.h"

namespace nacre::mon {

std::string paxos_keys::Value(uint64_t version) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "paxos/v/%020llu", static_cast<unsigned long long>(version));
  return buf;
}

Result<uint64_t> ReadU64(const PaxosStorage& s, const std::string& key, uint64_t dflt) {
  auto r = s.Get(key);
  if (!r.ok()) return r.status();
  if (!r->has_value()) return dflt;
  const std::string& v = **r;
  uint64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) return Corruption("bad integer at " + key);
  return out;
}

PaxosLog::PaxosLog(const PaxosOptions& opts, const PaxosStorage* storage, std::vector<StoreWrite>* out)
    : opts_(opts),
      storage_(storage),
      out_(out),
      cache_limit_(std::max(kMinCacheVersions, 2 * opts.max_catchup_versions + 2)) {
  assert(storage_ && out_);
}

void PaxosLog::Put(const std::string& key, std::string value) { out_->push_back(StoreWrite{key, std::move(value)}); }
void PaxosLog::Delete(const std::string& key) { out_->push_back(StoreWrite{key, std::nullopt}); }

Status PaxosLog::Load() {
  const PaxosStorage& s = *storage_;
  NACRE_ASSIGN_OR_RETURN(last_committed_, ReadU64(s, paxos_keys::kLastCommitted, 0));
  NACRE_ASSIGN_OR_RETURN(first_committed_, ReadU64(s, paxos_keys::kFirstCommitted, last_committed_ + 1));
  NACRE_ASSIGN_OR_RETURN(accepted_pn_, ReadU64(s, paxos_keys::kAcceptedPn, 0));
  NACRE_ASSIGN_OR_RETURN(last_pn_, ReadU64(s, paxos_keys::kLastPn, 0));
  NACRE_ASSIGN_OR_RETURN(boot_nonce_, ReadU64(s, paxos_keys::kBootNonce, 0));
  if (first_committed_ == 0 || first_committed_ > last_committed_ + 1)
    return Corruption("paxos: first_committed " + std::to_string(first_committed_) + " beyond last_committed " +
                      std::to_string(last_committed_));
  if (last_committed_ >= first_committed_) {
    auto top = Read(last_committed_);
    if (!top.ok()) return top.status().Annotate("paxos: last committed value");
  }
  uncommitted_.reset();
  NACRE_ASSIGN_OR_RETURN(auto u, s.Get(paxos_keys::kUncommitted));
  if (u) {
    proto::PaxosEntry e;
    if (!e.ParseFromString(*u)) return Corruption("paxos: undecodable uncommitted value");
    if (e.version() != last_committed_ + 1) return Corruption("paxos: uncommitted value at the wrong version");
    uncommitted_ = std::move(e);
  }
  cache_.clear();
  ++boot_nonce_;
  PutU64(paxos_keys::kBootNonce, boot_nonce_);
  return Status::OK();
}

void PaxosLog::SetAcceptedPn(uint64_t pn) {
  assert(pn >= accepted_pn_);
  if (pn == accepted_pn_) return;
  accepted_pn_ = pn;
  PutU64(paxos_keys::kAcceptedPn, pn);
}

void PaxosLog::SetLastPn(uint64_t pn) {
  assert(pn >= last_pn_);
  last_pn_ = pn;
  PutU64(paxos_keys::kLastPn, pn);
}

void PaxosLog::SetUncommitted(const proto::PaxosEntry& e) {
  assert(e.version() == last_committed_ + 1);
  assert(e.pn() <= accepted_pn_);
  uncommitted_ = e;
  Put(paxos_keys::kUncommitted, e.SerializeAsString());
}

void PaxosLog::Append(const proto::PaxosEntry& e) {
  assert(e.version() == last_committed_ + 1);
  const bool was_empty = first_committed_ > last_committed_;
  Put(paxos_keys::Value(e.version()), e.SerializeAsString());
  last_committed_ = e.version();
  PutU64(paxos_keys::kLastCommitted, last_committed_);
  if (was_empty) {
    // The first value after an empty log (start, or just after a snapshot).
    assert(first_committed_ == last_committed_);
    PutU64(paxos_keys::kFirstCommitted, first_committed_);
  }
  if (uncommitted_ && uncommitted_->version() <= last_committed_) {
    uncommitted_.reset();
    Delete(paxos_keys::kUncommitted);
  }
  Cache(e);
}

void PaxosLog::Cache(const proto::PaxosEntry& e) {
  cache_[e.version()] = e;
  while (cache_.size() > cache_limit_) cache_.erase(cache_.begin());
}

void PaxosLog::InstallSnapshot(const PaxosSnapshotData& snap) {
  const uint64_t version = snap.version;
  assert(version > last_committed_);
  // The stored range is bounded by trimming (keep_versions + trim_min +
  // max_trim_per_step at most), so this loop is too.
  for (uint64_t v = first_committed_; v <= last_committed_; ++v) Delete(paxos_keys::Value(v));
  last_committed_ = version;
  first_committed_ = version + 1;
  PutU64(paxos_keys::kLastCommitted, last_committed_);
  PutU64(paxos_keys::kFirstCommitted, first_committed_);
  if (uncommitted_ && uncommitted_->version() <= last_committed_) {
    uncommitted_.reset();
    Delete(paxos_keys::kUncommitted);
  }
  cache_.clear();
  installed_ = snap;
}

bool PaxosLog::MaybeTrim() {
  if (last_committed_ < first_committed_) return false;
  uint64_t stored = last_committed_ - first_committed_ + 1;
  if (stored <= opts_.keep_versions + opts_.trim_min) return false;
  uint64_t new_first = last_committed_ - opts_.keep_versions + 1;
  new_first = std::min<uint64_t>(new_first, first_committed_ + opts_.max_trim_per_step);
  assert(new_first > first_committed_ && new_first <= last_committed_);
  for (uint64_t v = first_committed_; v < new_first; ++v) Delete(paxos_keys::Value(v));
  first_committed_ = new_first;
  PutU64(paxos_keys::kFirstCommitted, first_committed_);
  while (!cache_.empty() && cache_.begin()->first < first_committed_) cache_.erase(cache_.begin());
  return true;
}

Result<proto::PaxosEntry> PaxosLog::Read(uint64_t version) const {
  if (version < first_committed_ || version > last_committed_)
    return NotFound("paxos version " + std::to_string(version) + " not stored");
  auto it = cache_.find(version);
  if (it != cache_.end()) return it->second;
  NACRE_ASSIGN_OR_RETURN(auto raw, storage_->Get(paxos_keys::Value(version)));
  if (!raw) return Corruption("paxos version " + std::to_string(version) + " missing from the store");
  proto::PaxosEntry e;
  if (!e.ParseFromString(*raw) || e.version() != version)
    return Corruption("paxos version " + std::to_string(version) + " undecodable");
  return e;
}

void PaxosLog::FillCatchUp(uint64_t peer_lc, proto::PaxosMessage* m) const {
  uint64_t from = peer_lc + 1;
  if (from > last_committed_) return;
  // Room for the header and the other fields of the message.
  const size_t budget = opts_.max_message_bytes - 4096;
  size_t bytes = 0;
  if (from < first_committed_) {
    Result<PaxosSnapshotData> snap = installed_ ? Result<PaxosSnapshotData>(*installed_) : storage_->GetSnapshot();
    if (!snap.ok()) {
      NLOG(paxos, kError) << "catch-up: cannot read the snapshot: " << snap.status().ToString();
      return;
    }
    if (snap->version + 1 < first_committed_ || snap->version > last_committed_ || snap->version < peer_lc) {
      NLOG(paxos, kError) << "catch-up: snapshot at " << snap->version << " outside the log [" << first_committed_
                          << ", " << last_committed_ << "]";
      return;
    }
    m->mutable_snapshot()->set_version(snap->version);
    bytes += snap->data.size();
    m->mutable_snapshot()->set_data(std::move(snap->data));
    from = snap->version + 1;
  }
  for (uint64_t v = from; v <= last_committed_ && static_cast<size_t>(m->entries_size()) < opts_.max_catchup_versions;
       ++v) {
    auto e = Read(v);
    if (!e.ok()) {
      NLOG(paxos, kError) << "catch-up: " << e.status().ToString();
      return;
    }
    // Always at least one entry, so a peer never stalls on a large value.
    if (m->entries_size() > 0 && bytes + e->data().size() > budget) return;
    bytes += e->data().size();
    *m->add_entries() = std::move(e).value();
  }
}

}  // namespace nacre::mon
