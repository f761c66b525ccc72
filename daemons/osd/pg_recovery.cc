// Pg: recovery on the primary. What the primary lacks is pulled from a member
// that holds it; what replicas lack is pushed to them, whole objects at a
// time, at most recovery_max_active objects at once so client I/O keeps
// flowing. Objects a client is waiting for go first.
#include "common/log.h"
#include "daemons/osd/pg.h"
#include "messenger.pb.h"

namespace nacre::osd {

size_t Pg::TotalMissing() const {
  size_t n = missing_.size();
  for (const auto& [osd, m] : peer_missing_) n += m.size();
  return n;
}

void Pg::Recover() {
  if (role_ != Role::kPrimary || state_ != State::kActive) return;
  if (host_->loop().Now() < recovery_paused_until_) return;
  size_t max = std::max<size_t>(host_->recovery_max_active(), 1);
  auto active = [&] { return pulling_.size() + pushing_.size(); };
  auto try_start = [&](const ObjectId& o) {
    if (pulling_.count(o) || pushing_.count(o) || object_queue_.count(o)) return;
    if (missing_.count(o)) {
      auto src = pull_from_.find(o);
      int from = src == pull_from_.end() ? -1 : src->second;
      if (from < 0 || !host_->IsUp(from)) {
        // Anyone in the acting set who does not lack it.
        from = -1;
        for (int osd : acting_)
          if (osd != host_->whoami() && peer_missing_.count(osd) && !peer_missing_[osd].count(o)) from = osd;
      }
      if (from >= 0) StartPull(o, from);
      return;
    }
    for (const auto& [osd, m] : peer_missing_)
      if (m.count(o)) return StartPush(o);
  };
  // Objects clients wait for first.
  std::vector<ObjectId> wanted;
  for (const auto& [o, ops] : waiting_recovery_) wanted.push_back(o);
  for (const auto& o : wanted) {
    if (active() >= max) return;
    try_start(o);
  }
  for (auto it = missing_.begin(); it != missing_.end() && active() < max; ++it) try_start(it->first);
  for (auto& [osd, m] : peer_missing_)
    for (auto it = m.begin(); it != m.end() && active() < max; ++it) try_start(it->first);
  if (active() == 0 && TotalMissing() == 0) {
    if (recovered_) {
      NLOG(osd, kInfo) << "PG " << coll_ << ": recovery done (" << recovered_ << " objects)";
      recovered_ = 0;
    }
    stat_dirty_ = true;
    if (acting_.size() >= pool_.size()) PurgeStrays();
  }
}

void Pg::StartPull(const ObjectId& o, int from) {
  pulling_.insert(o);
  pull_from_[o] = from;
  proto::PgPull p;
  p.set_pool(id_.pool);
  p.set_seed(id_.seed);
  p.set_epoch(interval_);
  p.set_nspace(o.ns);
  p.set_oid(o.name);
  auto need = missing_.find(o);
  if (need != missing_.end()) ToProto(need->second, p.mutable_need());
  Send(from, proto::MSG_PG_PULL, p);
}

void Pg::OnPulled(int from, const proto::PgPush& p, const Bytes& payload) {
  ObjectId o{p.nspace(), p.oid()};
  if (p.epoch() != interval_ || !pulling_.count(o)) return;
  Transaction t;
  if (p.failed() || !BuildPushTxn(p, payload, coll_, &t).ok()) {
    NLOG(osd, kWarn) << "PG " << coll_ << ": osd." << from << " could not serve " << o.name << "; trying another copy";
    pulling_.erase(o);
    pull_from_.erase(o);
    auto& tried = pull_failed_[o];
    tried.insert(from);
    for (int osd : acting_)
      if (osd != host_->whoami() && !tried.count(osd) && peer_missing_.count(osd) && !peer_missing_[osd].count(o)) {
        StartPull(o, osd);
        return;
      }
    // No good copy anywhere: fail the waiting ops with a clear error rather
    // than hand out damaged bytes or wait forever. The next read tries again.
    NLOG(osd, kError) << "PG " << coll_ << ": no intact copy of " << o.name << " on any acting OSD";
    pull_failed_.erase(o);
    missing_.erase(o);
    auto w = waiting_recovery_.find(o);
    if (w != waiting_recovery_.end()) {
      auto ops = std::move(w->second);
      waiting_recovery_.erase(w);
      for (auto& op : ops) Reply(op, Corruption("every copy of " + o.name + " failed its checksum"), 0);
    }
    return;
  }
  pull_failed_.erase(o);
  t.CollDelete(coll_, pg::MissingKey(o));
  uint64_t interval = interval_;
  Persist({std::move(t)}, [this, o, interval](Status s) {
    if (interval != interval_) return;
    pulling_.erase(o);
    if (!s.ok()) {
      NLOG(osd, kError) << "PG " << coll_ << ": cannot store recovered " << o.name << ": " << s.ToString();
      recovery_paused_until_ = host_->loop().Now() + std::chrono::seconds(1);
      return;
    }
    missing_.erase(o);
    ++recovered_;
    stat_dirty_ = true;
    Transaction info;
    PutInfo(&info);
    Persist({std::move(info)}, [](Status) {});
    bool replicas_lack = false;
    for (const auto& [osd, m] : peer_missing_)
      if (m.count(o)) replicas_lack = true;
    if (replicas_lack) StartPush(o);
    else ObjectRecovered(o);
    Recover();
  });
}

void Pg::StartPush(const ObjectId& o) {
  auto w = ReadWholeObject(host_->store(), coll_, o);
  if (!w.ok()) {
    NLOG(osd, kError) << "PG " << coll_ << ": cannot read " << o.name << " to recover it: " << w.status().ToString();
    if (w.status().code() == Code::kCorruption) {
      // Our own copy is bad: fetch a good one first, then push that.
      missing_[o] = {};
      pull_from_.erase(o);
    }
    return;
  }
  proto::PgPush push;
  push.set_pool(id_.pool);
  push.set_seed(id_.seed);
  push.set_epoch(interval_);
  push.set_nspace(o.ns);
  push.set_oid(o.name);
  Bytes payload;
  FillPush(*w, &push, &payload);
  auto& targets = pushing_[o];
  for (const auto& [osd, m] : peer_missing_)
    if (m.count(o)) {
      targets.insert(osd);
      Send(osd, proto::MSG_PG_PUSH, push, payload);
    }
}

void Pg::HandlePushReply(int from, const proto::PgPushReply& r) {
  if (role_ != Role::kPrimary || r.epoch() != interval_) return;
  ObjectId o{r.nspace(), r.oid()};
  auto it = pushing_.find(o);
  if (it == pushing_.end() || !it->second.erase(from)) return;
  if (r.status().code() == 0) {
    peer_missing_[from].erase(o);
    ++recovered_;
  } else {
    NLOG(osd, kWarn) << "PG " << coll_ << ": osd." << from << " failed to store " << o.name << ": code "
                     << r.status().code() << "; recovery pauses for a second";
    // Retrying at once would spin while the member's disk is full.
    recovery_paused_until_ = host_->loop().Now() + std::chrono::seconds(1);
  }
  if (it->second.empty()) {
    pushing_.erase(it);
    stat_dirty_ = true;
    ObjectRecovered(o);
  }
  Recover();
}

void Pg::ObjectRecovered(const ObjectId& o) {
  if (ObjectLacked(o)) return;
  auto it = waiting_recovery_.find(o);
  if (it == waiting_recovery_.end()) return;
  auto ops = std::move(it->second);
  waiting_recovery_.erase(it);
  for (auto& op : ops) DoOp(std::move(op));
}

}  // namespace nacre::osd
