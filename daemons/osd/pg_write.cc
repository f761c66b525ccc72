// Pg: client operations on the primary. Reads are served from the store;
// writes are ordered, logged, replicated to every acting member and
// acknowledged when all of them have committed.
#include "common/log.h"
#include "daemons/osd/pg.h"
#include "messenger.pb.h"

namespace nacre::osd {

using pg::EVersion;
using pg::ToProto;

void Pg::HandleClientOp(ClientOp op) {
  if (role_ != Role::kPrimary) return ReplyRetry(op);
  if (state_ != State::kActive) {
    waiting_active_.push_back(std::move(op));
    return;
  }
  DoOp(std::move(op));
}

void Pg::Requeue(std::deque<ClientOp> ops) {
  for (auto& op : ops) {
    if (state_ != State::kActive) {
      waiting_active_.push_back(std::move(op));
      continue;
    }
    DoOp(std::move(op));
  }
}

void Pg::WaitForObject(const ObjectId& o, ClientOp op) {
  waiting_recovery_[o].push_back(std::move(op));
  Recover();
}

void Pg::DoOp(ClientOp op) {
  const auto& req = op.req;
  ObjectId o{req.nspace(), req.oid()};
  bool write = IsWriteOp(req.ops(0).op());
  if (!write) {
    if (req.ops(0).op() != proto::OSD_OP_PGLS && missing_.count(o)) return WaitForObject(o, std::move(op));
    proto::OsdOpReply r;
    Bytes payload;
    Status s = ExecuteRead(host_->store(), coll_, req, &r, &payload);
    if (s.code() == Code::kCorruption && acting_.size() > 1) {
      // Our copy is damaged: never return it. Repair it from a replica
      // (they hold every acknowledged write) and answer after.
      NLOG(osd, kError) << "PG " << coll_ << ": " << o.name << " failed its checksum; repairing from osd."
                        << acting_[1];
      const auto* newest = log_.Newest(o);
      missing_[o] = newest ? pg::FromProto(newest->version()) : EVersion{};
      pull_from_[o] = acting_[1];
      stat_dirty_ = true;
      return WaitForObject(o, std::move(op));
    }
    return Reply(op, s, 0, &r, std::move(payload));
  }
  pg::ReqId rid{op.client, req.client_inc(), req.tid()};
  EVersion done = log_.Find(rid);
  if (!done.zero()) {
    for (auto& [tid, f] : in_flight_)
      if (f.version == done) {
        f.op.con = op.con;  // still committing: answer the resend when it lands
        return;
      }
    if (ObjectLacked(o)) return WaitForObject(o, std::move(op));
    return Reply(op, Status::OK(), done.v);
  }
  if (ObjectLacked(o)) return WaitForObject(o, std::move(op));
  auto busy = object_queue_.find(o);
  if (busy != object_queue_.end()) {
    busy->second.push_back(std::move(op));
    return;
  }
  object_queue_[o];  // marks the object busy until this write finishes
  DoWrite(std::move(op));
}

void Pg::DoWrite(ClientOp op) {
  const auto& req = op.req;
  ObjectId o{req.nspace(), req.oid()};
  auto& st = host_->store();
  Transaction t;
  bool removed = false;
  Status s = BuildWrite(st, coll_, req, op.payload, &t, &removed);
  EVersion version{std::max(host_->epoch(), interval_), log_.head().v + 1};
  if (s.ok() && !removed) t.SetXattr(coll_, o, pg::kVersionXattr, pg::EncodeVersion(version));
  if (s.ok()) s = t.Validate(st.options().limits);
  if (!s.ok()) {
    Reply(op, s, 0);
    auto q = std::move(object_queue_[o]);
    object_queue_.erase(o);
    return Requeue(std::move(q));
  }
  proto::PgLogEntryProto e;
  ToProto(version, e.mutable_version());
  e.set_remove(removed);
  e.set_nspace(o.ns);
  e.set_oid(o.name);
  e.set_client(op.client);
  e.set_client_inc(req.client_inc());
  e.set_tid(req.tid());

  uint64_t rep_tid = next_rep_tid_++;
  proto::RepOp rep;
  rep.set_pool(id_.pool);
  rep.set_seed(id_.seed);
  rep.set_epoch(interval_);
  rep.set_rep_tid(rep_tid);
  *rep.mutable_entry() = e;
  rep.set_nspace(o.ns);
  rep.set_oid(o.name);
  Bytes rep_payload;
  EncodeRepTxn(t, &rep, &rep_payload);
  if (rep.ByteSizeLong() > host_->max_header_bytes()) {
    // Xattr and omap values travel in the replicas' message header: refuse
    // now, before anything is applied, rather than leave a write no replica
    // can receive.
    Reply(op, TooBig("xattr and omap values of one request exceed " + std::to_string(host_->max_header_bytes()) +
                     " bytes (ms_max_header_bytes)"), 0);
    auto q = std::move(object_queue_[o]);
    object_queue_.erase(o);
    return Requeue(std::move(q));
  }
  AddLogOps(&t, e);

  InFlight& f = in_flight_[rep_tid];
  f.op = std::move(op);
  f.version = version;
  int me = host_->whoami();
  for (int osd : acting_)
    if (osd != me) {
      f.waiting.insert(osd);
      Send(osd, proto::MSG_OSD_REPOP, rep, rep_payload);
    }
  uint64_t interval = interval_;
  Persist({std::move(t)}, [this, rep_tid, interval](Status s) {
    if (interval != interval_) return;
    auto it = in_flight_.find(rep_tid);
    if (it == in_flight_.end()) return;
    it->second.local_done = true;
    if (!s.ok()) {
      // Our copy lacks a write the replicas may have: recover it like any
      // missing object (the client is told of the failure; a resend is
      // answered from the log once the object is whole again).
      it->second.status = s;
      ObjectId o{it->second.op.req.nspace(), it->second.op.req.oid()};
      missing_[o] = it->second.version;
      stat_dirty_ = true;
    }
    FinishWrite(rep_tid);
  });
}

void Pg::HandleRepOpReply(int from, const proto::RepOpReply& r) {
  if (role_ != Role::kPrimary || r.epoch() != interval_) return;
  auto it = in_flight_.find(r.rep_tid());
  if (it == in_flight_.end()) return;
  if (r.status().code() == ESTALE) {
    // The replica moved on to a newer interval: a map change is coming that
    // re-peers us; the write is requeued then.
    NLOG(osd, kDebug) << "PG " << coll_ << ": osd." << from << " refused a write of an old interval";
    return;
  }
  if (r.status().code() != 0) {
    if (it->second.status.ok())
      it->second.status = Status(static_cast<Code>(r.status().code()), "osd." + std::to_string(from) + ": " +
                                                                            r.status().message());
    // The replica's copy now lags ours: the PG is degraded until recovery
    // pushes the object, never silently clean with differing copies.
    ObjectId o{it->second.op.req.nspace(), it->second.op.req.oid()};
    peer_missing_[from][o] = it->second.version;
    stat_dirty_ = true;
  }
  it->second.waiting.erase(from);
  FinishWrite(r.rep_tid());
}

void Pg::FinishWrite(uint64_t rep_tid) {
  auto it = in_flight_.find(rep_tid);
  if (it == in_flight_.end() || !it->second.local_done || !it->second.waiting.empty()) return;
  InFlight f = std::move(it->second);
  in_flight_.erase(it);
  if (!f.status.ok())
    NLOG(osd, kError) << "PG " << coll_ << ": write " << f.version.ToString() << " failed: " << f.status.ToString();
  Reply(f.op, f.status, f.version.v);
  stat_dirty_ = true;
  ObjectId o{f.op.req.nspace(), f.op.req.oid()};
  auto q = object_queue_.find(o);
  if (q != object_queue_.end()) {
    auto next = std::move(q->second);
    object_queue_.erase(q);
    Requeue(std::move(next));  // they wait for the object if a copy now lags
  }
  if (!f.status.ok()) Recover();
}

}  // namespace nacre::osd
