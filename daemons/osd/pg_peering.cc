// Pg: the primary's peering, and adopting an authoritative log (both sides).
#include <algorithm>

#include "common/log.h"
#include "daemons/osd/pg.h"
#include "messenger.pb.h"

namespace nacre::osd {

using pg::EVersion;
using pg::FromProto;
using pg::ToProto;

namespace {
// Collection kv puts per transaction when rewriting a log or a missing set,
// well under the store's per-transaction op limit.
constexpr size_t kOpsPerChunk = 512;
}  // namespace

void Pg::StartPeering() {
  state_ = State::kPeering;
  reports_.clear();
  probing_.clear();
  strays_.clear();
  int me = host_->whoami();
  pg::PeerReport self;
  self.osd = me;
  self.info = info_;
  self.log.assign(log_.entries().begin(), log_.entries().end());
  self.missing = missing_;
  reports_[me] = std::move(self);
  for (int osd : acting_)
    if (osd != me) Query(osd, false);
  // Members of the last activation we know of may hold writes the current
  // acting set lacks (an OSD marked out is still up and still has them).
  for (int osd : info_.last_active_acting())
    if (osd != me && !reports_.count(osd) && !probing_.count(osd) && host_->IsUp(osd)) Query(osd, false);
  NLOG(osd, kDebug) << "PG " << coll_ << ": peering for interval " << interval_ << ", probing " << probing_.size();
  MaybeProceed();
}

void Pg::Tick() {
  if (role_ == Role::kStray) return AnnounceStray(false);
  if (role_ != Role::kPrimary) return;
  // Recovery paused after a failure (a member's full disk) resumes here.
  if (state_ == State::kActive && TotalMissing() > 0) Recover();
  if (host_->loop().Now() - last_query_ < std::chrono::seconds(2)) return;
  if (state_ == State::kPeering) {
    auto pending = probing_;
    for (int osd : pending) Query(osd, false);
  } else if (state_ == State::kWaitListing) {
    for (int osd : want_listing_) Query(osd, true);
  }
}

// A stray copy tells the primary it exists, so it is purged once the PG is
// clean without it. Repeated every few seconds until the purge comes: the
// primary forgets strays when it re-peers, and may not have the PG yet.
void Pg::AnnounceStray(bool now) {
  if (!coll_exists_ || primary_ < 0 || primary_ == host_->whoami()) return;
  auto t = host_->loop().Now();
  if (!now && t - last_announce_ < std::chrono::seconds(2)) return;
  last_announce_ = t;
  proto::PgNotify n;
  n.set_pool(id_.pool);
  n.set_seed(id_.seed);
  n.set_epoch(0);
  n.set_from(host_->whoami());
  Send(primary_, proto::MSG_PG_NOTIFY, n);
}

void Pg::Query(int osd, bool want_objects) {
  last_query_ = host_->loop().Now();
  if (!want_objects) probing_.insert(osd);
  proto::PgQuery q;
  q.set_pool(id_.pool);
  q.set_seed(id_.seed);
  q.set_epoch(interval_);
  q.set_want_objects(want_objects);
  Send(osd, proto::MSG_PG_QUERY, q);
}

void Pg::HandleNotify(int from, const proto::PgNotify& n) {
  if (role_ != Role::kPrimary) return;
  if (n.epoch() == 0) {
    // A stray announcing its copy: purge it once we are clean.
    if (std::find(acting_.begin(), acting_.end(), from) == acting_.end()) {
      strays_.insert(from);
      if (state_ == State::kActive) Recover();
    }
    return;
  }
  if (n.epoch() != interval_) return;
  if (state_ == State::kWaitListing && n.has_objects() && want_listing_.erase(from)) {
    listings_[from].assign(n.objects().begin(), n.objects().end());
    if (want_listing_.empty()) Activate(plan_, listings_);
    return;
  }
  if (state_ != State::kPeering || !probing_.erase(from)) return;
  pg::PeerReport r;
  r.osd = from;
  r.info = n.info();
  r.log.assign(n.log().begin(), n.log().end());
  for (const auto& m : n.missing()) r.missing[{m.nspace(), m.oid()}] = FromProto(m.need());
  reports_[from] = std::move(r);
  int me = host_->whoami();
  for (int osd : n.info().last_active_acting())
    if (osd != me && !reports_.count(osd) && !probing_.count(osd) && host_->IsUp(osd)) Query(osd, false);
  MaybeProceed();
}

void Pg::MaybeProceed() {
  if (state_ != State::kPeering || !probing_.empty()) return;
  if (acting_.size() < std::max<uint32_t>(pool_.min_size(), 1)) {
    state_ = State::kPeered;
    NLOG(osd, kInfo) << "PG " << coll_ << ": " << acting_.size() << " of min_size " << pool_.min_size()
                     << " OSDs: no I/O until more return";
    return;
  }
  std::vector<pg::PeerReport> reports;
  for (auto& [osd, r] : reports_) reports.push_back(r);
  auto plan = pg::PlanPeering(acting_, reports);
  if (!plan.ok()) {
    state_ = State::kIncomplete;
    NLOG(osd, kWarn) << "PG " << coll_ << ": incomplete: " << plan.status().ToString();
    return;
  }
  plan_ = std::move(*plan);
  for (const auto& [osd, r] : reports_)
    if (std::find(acting_.begin(), acting_.end(), osd) == acting_.end()) strays_.insert(osd);
  if (plan_.backfill.empty()) return Activate(plan_, {});
  // Backfill compares object listings: the authoritative member's and each
  // backfilled member's own, so only what differs is copied.
  listings_.clear();
  want_listing_.clear();
  std::set<int> need = plan_.backfill;
  need.insert(plan_.auth);
  for (int osd : need) {
    if (osd == host_->whoami()) listings_[osd] = ListLocal();
    else want_listing_.insert(osd);
  }
  if (want_listing_.empty()) return Activate(plan_, listings_);
  state_ = State::kWaitListing;
  for (int osd : want_listing_) Query(osd, true);
}

void Pg::Activate(const pg::PeeringPlan& plan_in, const Listings& listings) {
  pg::PeeringPlan plan = plan_in;
  int me = host_->whoami();
  auto versions = [&](int osd) {
    std::map<ObjectId, EVersion> out;
    auto it = listings.find(osd);
    if (it != listings.end())
      for (const auto& ov : it->second) out[{ov.nspace(), ov.oid()}] = FromProto(ov.version());
    return out;
  };
  if (!plan.backfill.empty()) {
    auto auth = versions(plan.auth);
    for (int osd : plan.backfill) plan.missing[osd] = pg::BackfillMissing(auth, versions(osd), plan.auth_missing);
  }
  listings_.clear();  // may be what `listings` refers to: not used below
  pull_from_ = plan.pull_from;
  // A backfilled primary pulls from the authoritative member, except what
  // that member lacks too (Recover finds another holder for those).
  if (plan.backfill.count(me))
    for (const auto& [o, need] : plan.missing[me])
      if (!plan.auth_missing.count(o)) pull_from_[o] = plan.auth;
  for (const auto& o : plan.unfound)
    NLOG(osd, kError) << "PG " << coll_ << ": object " << o.name << " is unfound: no copy among the reachable OSDs";

  proto::PgInfoProto auth;
  ToProto(plan.last_update, auth.mutable_last_update());
  ToProto(plan.log_tail, auth.mutable_log_tail());
  auto txns = AdoptLog(auth, plan.log, plan.missing[me], interval_, acting_);

  for (int osd : acting_) {
    if (osd == me) continue;
    proto::PgActivate a;
    a.set_pool(id_.pool);
    a.set_seed(id_.seed);
    a.set_epoch(interval_);
    *a.mutable_info() = auth;
    for (const auto& e : plan.log) *a.add_log() = e;
    for (const auto& [o, need] : plan.missing[osd]) {
      auto* m = a.add_missing();
      m->set_nspace(o.ns);
      m->set_oid(o.name);
      ToProto(need, m->mutable_need());
    }
    a.set_backfill(plan.backfill.count(osd) > 0);
    for (int x : acting_) a.add_acting(x);
    SendBulk(osd, proto::MSG_PG_ACTIVATE, a);
    peer_missing_[osd] = plan.missing[osd];
  }
  NLOG(osd, kDebug) << "PG " << coll_ << ": activating interval " << interval_ << ": auth osd." << plan.auth
                    << ", " << plan.backfill.size() << " to backfill, " << plan.missing[me].size()
                    << " missing here";
  plan_ = std::move(plan);
  state_ = State::kActivating;
  uint64_t interval = interval_;
  Persist(std::move(txns), [this, interval](Status s) {
    if (interval != interval_ || state_ != State::kActivating) return;
    if (!s.ok()) {
      state_ = State::kIncomplete;
      NLOG(osd, kError) << "PG " << coll_ << ": cannot persist activation: " << s.ToString();
      return;
    }
    OnActive();
  });
}

std::vector<Transaction> Pg::AdoptLog(const proto::PgInfoProto& auth_info,
                                      const std::vector<proto::PgLogEntryProto>& log, const pg::MissingSet& missing,
                                      uint64_t les, const std::vector<int>& acting) {
  std::vector<Transaction> txns;
  Transaction t;
  auto flush = [&] {
    if (t.ops().size() >= kOpsPerChunk) {
      txns.push_back(std::move(t));
      t = Transaction();
    }
  };
  if (!coll_exists_) t.CreateCollection(coll_);
  coll_exists_ = true;
  // Marked incomplete until the last chunk lands: a crash halfway leaves a
  // copy the next peering backfills rather than trusts. (A backfilled copy
  // keeps its objects: the missing set names those to replace or drop.)
  info_.set_backfilling(true);
  PutInfo(&t);
  std::set<EVersion> keep;
  for (const auto& e : log) keep.insert(FromProto(e.version()));
  for (const auto& e : log_.entries()) {
    EVersion v = FromProto(e.version());
    if (!keep.count(v)) t.CollDelete(coll_, pg::LogKey(v)), flush();
  }
  for (const auto& [o, need] : missing_)
    if (!missing.count(o)) t.CollDelete(coll_, pg::MissingKey(o)), flush();
  for (const auto& e : log) {
    EVersion v = FromProto(e.version());
    if (log_.Contains(v)) continue;
    t.CollPut(coll_, pg::LogKey(v), e.SerializeAsString());
    flush();
  }
  for (const auto& [o, need] : missing) {
    proto::PgMissingItem item;
    item.set_nspace(o.ns);
    item.set_oid(o.name);
    ToProto(need, item.mutable_need());
    t.CollPut(coll_, pg::MissingKey(o), item.SerializeAsString());
    flush();
  }
  log_.Reset(FromProto(auth_info.log_tail()), log);
  missing_ = missing;
  *info_.mutable_last_update() = auth_info.last_update();
  *info_.mutable_log_tail() = auth_info.log_tail();
  info_.set_last_epoch_started(les);
  info_.clear_last_active_acting();
  for (int o : acting) info_.add_last_active_acting(o);
  info_.set_backfilling(false);
  PutInfo(&t);
  txns.push_back(std::move(t));
  stat_dirty_ = true;
  return txns;
}

void Pg::OnActive() {
  state_ = State::kActive;
  NLOG(osd, kDebug) << "PG " << coll_ << ": active in interval " << interval_ << ", " << TotalMissing()
                    << " objects to recover";
  stat_dirty_ = true;
  std::deque<ClientOp> ops;
  ops.swap(waiting_active_);
  Requeue(std::move(ops));
  Recover();
}

void Pg::PurgeStrays() {
  for (int osd : strays_) {
    proto::PgActivate a;
    a.set_pool(id_.pool);
    a.set_seed(id_.seed);
    a.set_epoch(interval_);
    a.set_purge(true);
    Send(osd, proto::MSG_PG_ACTIVATE, a);
  }
  strays_.clear();
}

}  // namespace nacre::osd
