// Pg: lifecycle, persistence helpers, replies, stats, and the replica side.
#include "daemons/osd/pg.h"

#include <algorithm>

#include "common/log.h"
#include "messenger.pb.h"

namespace nacre::osd {

using pg::EVersion;
using pg::FromProto;
using pg::ToProto;

Pg::Pg(PgHost* host, placement::PgId id) : host_(host), id_(id), coll_(id.ToString()) {}

Pg::~Pg() { *alive_ = false; }

Status Pg::Load() {
  auto& st = host_->store();
  coll_exists_ = st.CollectionExists(coll_);
  if (!coll_exists_) return Status::OK();
  auto info = st.CollGet(coll_, pg::kInfoKey);
  if (info.ok() && !info_.ParseFromString(*info)) return Corruption("PG " + coll_ + ": undecodable info");
  std::vector<proto::PgLogEntryProto> entries;
  std::string from = pg::kLogPrefix;
  for (;;) {
    NACRE_ASSIGN_OR_RETURN(auto kvs, st.CollScan(coll_, from, "log0", 1000));
    for (const auto& [k, v] : kvs) {
      proto::PgLogEntryProto e;
      if (!e.ParseFromString(v)) return Corruption("PG " + coll_ + ": undecodable log entry " + k);
      entries.push_back(std::move(e));
    }
    if (kvs.size() < 1000) break;
    from = kvs.back().first + std::string(1, '\0');
  }
  log_.Reset(FromProto(info_.log_tail()), entries);
  missing_.clear();
  from = pg::kMissingPrefix;
  for (;;) {
    NACRE_ASSIGN_OR_RETURN(auto kvs, st.CollScan(coll_, from, "missing0", 1000));
    for (const auto& [k, v] : kvs) {
      ObjectId o;
      proto::PgMissingItem item;
      if (!pg::ParseMissingKey(k, &o) || !item.ParseFromString(v)) return Corruption("PG " + coll_ + ": bad missing key");
      missing_[o] = FromProto(item.need());
    }
    if (kvs.size() < 1000) break;
    from = kvs.back().first + std::string(1, '\0');
  }
  info_.set_num_missing(missing_.size());
  stat_dirty_ = true;
  return Status::OK();
}

void Pg::OnMap(uint64_t epoch, const proto::PoolInfo& pool, const std::vector<int>& up,
               const std::vector<int>& acting) {
  bool min_size_changed = pool_.min_size() != pool.min_size() || pool_.size() != pool.size();
  pool_ = pool;
  int me = host_->whoami();
  int primary = acting.empty() ? -1 : acting[0];
  bool changed = acting != acting_ || primary != primary_ || interval_ == 0;
  up_ = up;
  if (!changed && !(min_size_changed && role_ == Role::kPrimary)) return;
  acting_ = acting;
  primary_ = primary;
  stat_dirty_ = true;
  Role old = role_;
  if (primary == me) role_ = Role::kPrimary;
  else if (std::find(acting.begin(), acting.end(), me) != acting.end()) role_ = Role::kReplica;
  else role_ = Role::kStray;
  // A new interval: whatever was in flight is settled by peering. Ops stay
  // queued if we remain primary; otherwise clients resend to the new one.
  ResetPrimaryState(old == Role::kPrimary && role_ == Role::kPrimary);
  if (role_ == Role::kPrimary) {
    interval_ = epoch;
    StartPeering();
  } else {
    state_ = State::kIdle;
  }
}

void Pg::ResetPrimaryState(bool requeue) {
  std::deque<ClientOp> ops;
  for (auto& [tid, f] : in_flight_) ops.push_back(std::move(f.op));
  for (auto& [o, q] : object_queue_)
    for (auto& op : q) ops.push_back(std::move(op));
  for (auto& [o, v] : waiting_recovery_)
    for (auto& op : v) ops.push_back(std::move(op));
  for (auto& op : waiting_active_) ops.push_back(std::move(op));
  in_flight_.clear();
  object_queue_.clear();
  waiting_recovery_.clear();
  waiting_active_.clear();
  probing_.clear();
  want_listing_.clear();
  listings_.clear();
  reports_.clear();
  strays_.clear();
  peer_missing_.clear();
  pull_from_.clear();
  pushing_.clear();
  pulling_.clear();
  pull_failed_.clear();
  if (requeue) {
    // Oldest first, so per-object order survives the re-peering.
    std::sort(ops.begin(), ops.end(), [](const ClientOp& a, const ClientOp& b) { return a.req.tid() < b.req.tid(); });
    waiting_active_ = std::move(ops);
  } else {
    for (auto& op : ops) ReplyRetry(op);
  }
}

void Pg::Remove() {
  ResetPrimaryState(false);
  // Forget the history with the data: a PG object that outlives its
  // collection (purged, then mapped back here) must report itself empty,
  // never offer a log for objects it no longer has.
  info_ = proto::PgInfoProto();
  log_ = pg::PgLog();
  missing_.clear();
  interval_ = 0;
  stat_dirty_ = true;
  if (!coll_exists_) return;
  Transaction t;
  t.RemoveCollection(coll_);
  coll_exists_ = false;
  Persist({std::move(t)}, [](Status) {});
}

void Pg::Persist(std::vector<Transaction> txns, std::function<void(Status)> done) {
  auto& loop = host_->loop();
  std::weak_ptr<bool> alive = alive_;
  for (size_t i = 0; i < txns.size(); ++i) {
    bool last = i + 1 == txns.size();
    auto cb = [this, &loop, alive, last, done, coll = coll_](Status s) {
      if (!s.ok()) NLOG(osd, kError) << "PG " << coll << ": store transaction failed: " << s.ToString();
      if (!last) return;
      loop.Post([this, alive, done, s] {
        if (!alive.lock() || !*alive.lock()) return;
        // Statistics taken while the transaction was in flight saw the
        // store without it: recount once it has landed.
        stat_dirty_ = true;
        done(s);
      });
    };
    Status s = host_->store().Queue(std::move(txns[i]), cb);
    if (!s.ok()) {
      NLOG(osd, kError) << "PG " << coll_ << ": store refused a transaction: " << s.ToString();
      loop.Post([alive, done, s] {
        if (alive.lock() && *alive.lock()) done(s);
      });
      return;
    }
  }
}

void Pg::AddLogOps(Transaction* t, const proto::PgLogEntryProto& e) {
  log_.Add(e);
  t->CollPut(coll_, pg::LogKey(FromProto(e.version())), e.SerializeAsString());
  for (const auto& v : log_.Trim(host_->log_max_entries())) t->CollDelete(coll_, pg::LogKey(v));
  ToProto(log_.head(), info_.mutable_last_update());
  ToProto(log_.tail(), info_.mutable_log_tail());
  PutInfo(t);
  stat_dirty_ = true;
}

void Pg::PutInfo(Transaction* t) {
  info_.set_num_missing(missing_.size());
  t->CollPut(coll_, pg::kInfoKey, info_.SerializeAsString());
}

bool Pg::ObjectLacked(const ObjectId& o) const {
  if (missing_.count(o)) return true;
  for (const auto& [osd, m] : peer_missing_)
    if (m.count(o)) return true;
  return false;
}

void Pg::Reply(const ClientOp& op, const Status& s, uint64_t version, proto::OsdOpReply* r, Bytes payload) {
  proto::OsdOpReply local;
  if (!r) r = &local;
  r->set_tid(op.req.tid());
  r->mutable_status()->set_code(static_cast<int>(s.code()));
  r->mutable_status()->set_message(s.message());
  r->set_epoch(host_->epoch());
  r->set_version(version);
  // One result per op, as librados expects; a write's are its status.
  if (r->results_size() == 0)
    for (int i = 0; i < op.req.ops_size(); ++i) r->add_results()->set_code(static_cast<int>(s.code()));
  if (op.con) (void)op.con->Send(msg::Message::Make(proto::MSG_OSD_OP_REPLY, *r, std::move(payload)));
}

void Pg::ReplyRetry(const ClientOp& op) {
  proto::OsdOpReply r;
  r.set_retry(true);
  Reply(op, TryAgain("not the primary of " + coll_), 0, &r);
}

// --- replica side --------------------------------------------------------------

void Pg::HandleQuery(int from, const proto::PgQuery& q) {
  if (q.epoch() < interval_ && role_ != Role::kStray && from != primary_) return;  // an old primary's
  proto::PgNotify n;
  n.set_pool(id_.pool);
  n.set_seed(id_.seed);
  n.set_epoch(q.epoch());
  n.set_from(host_->whoami());
  *n.mutable_info() = info_;
  for (const auto& e : log_.entries()) *n.add_log() = e;
  for (const auto& [o, need] : missing_) {
    auto* m = n.add_missing();
    m->set_nspace(o.ns);
    m->set_oid(o.name);
    ToProto(need, m->mutable_need());
  }
  if (q.want_objects()) {
    n.set_has_objects(true);
    for (auto& ov : ListLocal()) *n.add_objects() = std::move(ov);
  }
  SendBulk(from, proto::MSG_PG_NOTIFY, n);
}

void Pg::HandleActivate(int from, const proto::PgActivate& a) {
  // A primary in our own map runs its own peering; an activation from an
  // older interval (a deposed primary) must not overwrite it.
  if (role_ == Role::kPrimary || a.epoch() < interval_) {
    NLOG(osd, kDebug) << "PG " << coll_ << ": ignoring activation of old interval " << a.epoch();
    return;
  }
  if (a.purge()) {
    // The PG is clean without us: drop our stray copy, unless a newer map
    // put us back in the acting set.
    NLOG(osd, kDebug) << "PG " << coll_ << ": purge from osd." << from << (role_ == Role::kStray ? "" : " ignored");
    if (role_ == Role::kStray) Remove();
    return;
  }
  if (role_ != Role::kReplica || from != primary_) {
    // Our map is at least as new as the activation's (newer ones are held
    // until ours catches up) and names another primary or leaves us out:
    // the activation is from an interval that has already ended.
    NLOG(osd, kDebug) << "PG " << coll_ << ": ignoring activation of ended interval " << a.epoch() << " from osd."
                      << from;
    return;
  }
  NLOG(osd, kDebug) << "PG " << coll_ << ": activated by osd." << from << " in interval " << a.epoch()
                    << (a.backfill() ? ", backfill" : "") << ", " << a.missing_size() << " missing";
  interval_ = a.epoch();
  primary_ = from;
  pg::MissingSet missing;
  for (const auto& m : a.missing()) missing[{m.nspace(), m.oid()}] = FromProto(m.need());
  std::vector<proto::PgLogEntryProto> log(a.log().begin(), a.log().end());
  auto txns = AdoptLog(a.info(), log, missing, a.epoch(), {a.acting().begin(), a.acting().end()});
  state_ = State::kActive;
  Persist(std::move(txns), [](Status) {});
}

void Pg::HandleRepOp(int from, const proto::RepOp& rep, const Bytes& payload) {
  proto::RepOpReply r;
  r.set_pool(id_.pool);
  r.set_seed(id_.seed);
  r.set_epoch(rep.epoch());
  r.set_rep_tid(rep.rep_tid());
  if (rep.epoch() != interval_ || from != primary_ || !coll_exists_) {
    r.mutable_status()->set_code(ESTALE);
    r.mutable_status()->set_message("replicated write from an old interval");
    Send(from, proto::MSG_OSD_REPOP_REPLY, r);
    return;
  }
  Transaction t;
  ObjectId oid{rep.nspace(), rep.oid()};
  Status s = DecodeRepTxn(rep, payload, coll_, oid, host_->store().options().limits, &t);
  if (!s.ok()) {
    NLOG(osd, kWarn) << "PG " << coll_ << ": bad replicated write from osd." << from << ": " << s.ToString();
    r.mutable_status()->set_code(static_cast<int>(s.code()));
    Send(from, proto::MSG_OSD_REPOP_REPLY, r);
    return;
  }
  AddLogOps(&t, rep.entry());
  PgHost* host = host_;
  Persist({std::move(t)}, [host, from, r](Status st) mutable {
    r.mutable_status()->set_code(static_cast<int>(st.code()));
    r.mutable_status()->set_message(st.message());
    host->SendToOsd(from, msg::Message::Make(proto::MSG_OSD_REPOP_REPLY, r));
  });
}

void Pg::HandlePull(int from, const proto::PgPull& p) {
  proto::PgPush push;
  push.set_pool(id_.pool);
  push.set_seed(id_.seed);
  push.set_epoch(p.epoch());
  push.set_nspace(p.nspace());
  push.set_oid(p.oid());
  push.set_reply_to_pull(true);
  Bytes payload;
  Status s = ServePull(p, &push, &payload);
  if (!s.ok()) {
    // Never answer with something the puller would store as the truth: it
    // pulls from another copy instead.
    if (s.code() == Code::kCorruption)
      NLOG(osd, kError) << "PG " << coll_ << ": " << p.oid() << " failed its checksum; not served to osd." << from;
    else
      NLOG(osd, kWarn) << "PG " << coll_ << ": cannot serve " << p.oid() << " to osd." << from << ": " << s.ToString();
    // ServePull fills the push only once every check passed: the header
    // above is all there is.
    push.set_failed(true);
  }
  Send(from, proto::MSG_PG_PUSH, push, std::move(payload));
}

Status Pg::ServePull(const proto::PgPull& p, proto::PgPush* push, Bytes* payload) {
  ObjectId o{p.nspace(), p.oid()};
  if (!coll_exists_ || info_.backfilling()) return NotFound("no complete copy of the PG here");
  if (missing_.count(o)) return NotFound("this copy lacks the object too");
  NACRE_ASSIGN_OR_RETURN(auto w, ReadWholeObject(host_->store(), coll_, o));
  EVersion need = FromProto(p.need());
  if (!need.zero()) {
    if (w.exists && w.version < need) return NotFound("this copy is older than the version needed");
    if (!w.exists) {
      // Absent is an answer only if this copy's history says so: the
      // object's newest logged write removed it, or the needed version is
      // older than everything this (complete) log still covers.
      const auto* newest = log_.Newest(o);
      bool removed = newest ? newest->remove() && FromProto(newest->version()) >= need : need <= log_.tail();
      if (!removed) return NotFound("the object is absent here");
    }
  }
  FillPush(w, push, payload);
  return Status::OK();
}

void Pg::HandlePush(int from, const proto::PgPush& p, const Bytes& payload) {
  if (p.reply_to_pull()) {
    if (role_ == Role::kPrimary) return OnPulled(from, p, payload);
    return;
  }
  proto::PgPushReply r;
  r.set_pool(id_.pool);
  r.set_seed(id_.seed);
  r.set_epoch(p.epoch());
  r.set_nspace(p.nspace());
  r.set_oid(p.oid());
  if (p.epoch() != interval_ || !coll_exists_) {
    r.mutable_status()->set_code(ESTALE);
    Send(from, proto::MSG_PG_PUSH_REPLY, r);
    return;
  }
  Transaction t;
  Status bs = BuildPushTxn(p, payload, coll_, &t);
  if (!bs.ok()) {
    NLOG(osd, kWarn) << "PG " << coll_ << ": bad push from osd." << from << ": " << bs.ToString();
    r.mutable_status()->set_code(static_cast<int>(bs.code()));
    Send(from, proto::MSG_PG_PUSH_REPLY, r);
    return;
  }
  ObjectId o{p.nspace(), p.oid()};
  if (missing_.erase(o)) t.CollDelete(coll_, pg::MissingKey(o));
  PutInfo(&t);
  stat_dirty_ = true;
  PgHost* host = host_;
  Persist({std::move(t)}, [host, from, r](Status st) mutable {
    r.mutable_status()->set_code(static_cast<int>(st.code()));
    host->SendToOsd(from, msg::Message::Make(proto::MSG_PG_PUSH_REPLY, r));
  });
}

// --- stats ---------------------------------------------------------------------

std::string Pg::StateString() const {
  if (role_ != Role::kPrimary) return role_ == Role::kReplica ? "replica" : "stray";
  switch (state_) {
    case State::kIdle:
    case State::kPeering:
    case State::kWaitListing:
    case State::kActivating: return "peering";
    case State::kPeered: return "undersized+degraded+peered";
    case State::kIncomplete: return "incomplete";
    case State::kActive: break;
  }
  std::string s = "active";
  bool undersized = acting_.size() < pool_.size();
  bool backfill = false;
  for (const auto& [osd, m] : peer_missing_)
    if (plan_.backfill.count(osd) && !m.empty()) backfill = true;
  size_t missing = TotalMissing();
  if (undersized) s += "+undersized";
  if (undersized || missing) s += "+degraded";
  if (missing) s += backfill ? "+backfilling" : "+recovering";
  if (!undersized && !missing) s += "+clean";
  return s;
}

proto::PgStatProto Pg::Stat() {
  if (stat_dirty_) {
    stat_ = proto::PgStatProto();
    uint64_t objects = 0, bytes = 0, digest = 0;
    for (const auto& ov : ListLocal()) {
      ++objects;
      auto st = host_->store().Stat(coll_, {ov.nspace(), ov.oid()});
      if (st.ok()) bytes += st->size;
      // Order-independent, so equal copies give equal digests.
      std::string k = ov.nspace() + '\0' + ov.oid() + ov.version().SerializeAsString();
      uint64_t h = 1469598103934665603ull;  // FNV-1a
      for (unsigned char c : k) h = (h ^ c) * 1099511628211ull;
      digest += h;
    }
    stat_.set_num_objects(objects);
    stat_.set_num_bytes(bytes);
    stat_.set_digest(digest);
    stat_dirty_ = false;
  }
  stat_.set_pool(id_.pool);
  stat_.set_seed(id_.seed);
  stat_.set_state(StateString());
  stat_.clear_up();
  stat_.clear_acting();
  for (int o : up_) stat_.add_up(o);
  for (int o : acting_) stat_.add_acting(o);
  stat_.set_primary(primary_);
  *stat_.mutable_last_update() = info_.last_update();
  stat_.set_num_missing(role_ == Role::kPrimary ? TotalMissing() : missing_.size());
  stat_.set_epoch(host_->epoch());
  return stat_;
}

std::vector<proto::PgObjectVersion> Pg::ListLocal() {
  std::vector<proto::PgObjectVersion> out;
  if (!coll_exists_) return out;
  auto& st = host_->store();
  std::optional<ObjectId> after;
  for (;;) {
    auto l = st.ListObjects(coll_, after, 1000);
    if (!l.ok()) break;
    for (const auto& o : l->objects) {
      proto::PgObjectVersion ov;
      ov.set_nspace(o.ns);
      ov.set_oid(o.name);
      auto v = st.GetXattr(coll_, o, pg::kVersionXattr);
      if (v.ok()) ToProto(pg::DecodeVersion(*v), ov.mutable_version());
      out.push_back(std::move(ov));
    }
    if (!l->more || l->objects.empty()) break;
    after = l->objects.back();
  }
  return out;
}

}  // namespace nacre::osd
