#include "librados/rados_objecter.h"

#include <algorithm>

#include "common/log.h"
#include "cluster/placement.h"
#include "messenger.pb.h"

namespace nacre::rados {

Objecter::Objecter(msg::Messenger* ms, uint64_t client_inc, Options opts)
    : ms_(ms), client_inc_(client_inc), opts_(opts) {}

Objecter::~Objecter() = default;

void Objecter::Submit(Request r) {
  if (shutdown_) {
    r.done(ShuttingDown("rados client is shut down"), nullptr);
    return;
  }
  uint64_t tid = next_tid_++;
  Op& op = ops_[tid];
  op.tid = tid;
  op.req = std::move(r);
  if (opts_.op_timeout.count() > 0) {
    op.timeout_timer = ms_->loop().CallAfter(opts_.op_timeout, [this, tid] {
      auto it = ops_.find(tid);
      if (it == ops_.end()) return;
      it->second.timeout_timer = 0;
      NLOG(rados, kDebug) << "tid " << tid << " timed out after " << it->second.attempt + 1 << " attempts";
      Finish(tid, TimedOut("OSD op on '" + it->second.req.oid + "' timed out"), nullptr);
    });
  }
  Send(op);
}

Result<Objecter::Target> Objecter::Compute(const Op& op) const {
  auto pit = map_.pools().find(op.req.pool);
  if (pit == map_.pools().end()) {
    // Before the first map nothing is known; afterwards a missing pool is gone.
    if (map_.epoch() == 0) return Target{};
    return NotFound("pool " + std::to_string(op.req.pool) + " does not exist");
  }
  Target t;
  if (op.req.pg_seed >= 0) {
    t.seed = static_cast<uint32_t>(op.req.pg_seed);
  } else {
    t.seed = placement::ObjectToPg(pit->second, op.req.oid).seed;
  }
  if (!crush_) return t;
  auto mapping = placement::MapPg(map_, *crush_, {op.req.pool, t.seed});
  if (!mapping.ok()) {
    // A seed past pg_num (a listing that raced a pg_num change) is never servable.
    if (mapping.status().code() == Code::kInvalid) return mapping.status();
    return t;
  }
  t.osd = mapping->primary;
  t.up = mapping->up;
  if (t.osd >= 0) {
    auto oit = map_.osds().find(t.osd);
    if (oit == map_.osds().end() || !oit->second.up()) t.osd = -1;
  }
  return t;
}

msg::ConnectionRef Objecter::ConnectionTo(int osd) {
  const auto& info = map_.osds().at(osd);
  msg::EntityAddr addr{info.addr().host(), static_cast<uint16_t>(info.addr().port())};
  std::string key = addr.ToString();
  auto it = sessions_.find(osd);
  if (it != sessions_.end()) {
    if (it->second.addr == key && it->second.con && it->second.con->IsOpen()) return it->second.con;
    // The OSD moved (restarted on another port) or the socket died.
    if (it->second.con) it->second.con->MarkDown();
    sessions_.erase(it);
  }
  auto con = ms_->Connect("osd." + std::to_string(osd), addr, msg::Policy::kLossy);
  sessions_[osd] = Session{con, key};
  return con;
}

void Objecter::Send(Op& op) {
  auto t = Compute(op);
  if (!t.ok()) return Finish(op.tid, t.status(), nullptr);
  op.target = *t;
  op.sent = false;
  op.con.reset();
  if (op.target.osd < 0) {
    NLOG(rados, kDebug) << "tid " << op.tid << ": PG " << op.req.pool << "." << op.target.seed
                        << " has no primary in epoch " << map_.epoch() << "; waiting for a map";
    return;
  }
  proto::OsdOpRequest req;
  req.set_tid(op.tid);
  req.set_client_inc(client_inc_);
  req.set_epoch(map_.epoch());
  req.set_pool(op.req.pool);
  req.set_pg_seed(op.target.seed);
  req.set_nspace(op.req.nspace);
  req.set_oid(op.req.oid);
  for (const auto& o : op.req.ops) *req.add_ops() = o;
  req.set_attempt(op.attempt);
  op.con = ConnectionTo(op.target.osd);
  Status s = op.con->Send(msg::Message::Make(proto::MSG_OSD_OP, req, op.req.payload));
  if (s.code() == Code::kTooBig) {
    // The request itself cannot be framed (xattr/omap values beyond
    // ms_max_header_bytes): resending would never help.
    op.con.reset();
    return Finish(op.tid, s, nullptr);
  }
  if (!s.ok()) {
    // Buffer full or connection gone: try again shortly.
    op.con.reset();
    return ScheduleResend(op, s.ToString().c_str());
  }
  op.sent = true;
}

void Objecter::ScheduleResend(Op& op, const char* why) {
  op.sent = false;
  if (op.backoff_timer) return;  // one is already pending
  auto delay = opts_.backoff_min * (1u << std::min<uint32_t>(op.backoffs, 10));
  delay = std::min(delay, opts_.backoff_max);
  ++op.backoffs;
  NLOG(rados, kDebug) << "tid " << op.tid << " resend in " << delay.count() / 1000000 << " ms: " << why;
  uint64_t tid = op.tid;
  op.backoff_timer = ms_->loop().CallAfter(delay, [this, tid] {
    auto it = ops_.find(tid);
    if (it == ops_.end()) return;
    it->second.backoff_timer = 0;
    ++it->second.attempt;
    ++resends_;
    Send(it->second);
  });
}

void Objecter::Finish(uint64_t tid, Status s, const DecodedReply* reply) {
  auto it = ops_.find(tid);
  if (it == ops_.end()) return;
  Op op = std::move(it->second);
  ops_.erase(it);
  ms_->loop().Cancel(op.timeout_timer);
  ms_->loop().Cancel(op.backoff_timer);
  if (op.req.done) op.req.done(std::move(s), reply);
}

void Objecter::HandleMap(const proto::OSDMapProto& m) {
  if (m.epoch() <= map_.epoch() && map_.epoch() != 0) return;
  map_ = m;
  if (m.crush() != crush_bytes_ || !crush_) {
    auto c = crush::CrushMap::DecodeFromString(m.crush());
    if (c.ok()) {
      crush_ = std::make_unique<crush::CrushMap>(std::move(c).value());
      crush_bytes_ = m.crush();
    } else if (!m.crush().empty()) {
      NLOG(rados, kWarn) << "osdmap epoch " << m.epoch() << " has an undecodable CRUSH map: " << c.status().ToString();
    }
  }
  // Sessions to OSDs that are down or moved go; ops on them are resent below.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto oit = m.osds().find(it->first);
    bool keep = oit != m.osds().end() && oit->second.up() &&
                it->second.addr == msg::EntityAddr{oit->second.addr().host(),
                                                   static_cast<uint16_t>(oit->second.addr().port())}
                                       .ToString();
    if (keep) {
      ++it;
      continue;
    }
    if (it->second.con) it->second.con->MarkDown();
    it = sessions_.erase(it);
  }
  std::vector<uint64_t> tids;
  for (const auto& [tid, op] : ops_) tids.push_back(tid);
  for (uint64_t tid : tids) {
    auto it = ops_.find(tid);
    if (it == ops_.end()) continue;
    Op& op = it->second;
    auto t = Compute(op);
    if (!t.ok()) {
      Finish(tid, t.status(), nullptr);
      continue;
    }
    bool changed = t->osd != op.target.osd || t->up != op.target.up;
    bool con_dead = op.sent && (!op.con || !op.con->IsOpen());
    if (op.sent && !changed && !con_dead) continue;
    // Waiting (no primary, a retry or reset backoff) or the interval moved:
    // go now, to the primary of this map.
    ms_->loop().Cancel(op.backoff_timer);
    op.backoff_timer = 0;
    op.backoffs = 0;
    if (op.sent || op.attempt > 0 || changed) {
      ++op.attempt;
      ++resends_;
    }
    Send(op);
  }
}

bool Objecter::HandleMessage(const msg::ConnectionRef& con, const msg::Message& m) {
  if (m.type != proto::MSG_OSD_OP_REPLY) return false;
  auto r = DecodeOpReply(m);
  if (!r.ok()) {
    // A malformed reply cannot be matched safely: drop the connection so the
    // ops on it are resent rather than completed with garbage.
    NLOG(rados, kWarn) << "from " << con->peer_name() << ": " << r.status().ToString();
    con->MarkDown();
    HandleReset(con);
    return true;
  }
  auto it = ops_.find(r->header.tid());
  if (it == ops_.end()) return true;  // answered already, or timed out
  Op& op = it->second;
  if (r->header.retry()) {
    // Only the answer to the current send counts; an older attempt's retry
    // says nothing about where the op is now.
    if (op.con != con || !op.sent) return true;
    NLOG(rados, kDebug) << "tid " << op.tid << ": " << con->peer_name() << " (epoch " << r->header.epoch()
                        << ") asks for a retry; we are at " << map_.epoch();
    op.con.reset();
    ScheduleResend(op, "OSD asked for a retry");
    return true;
  }
  Status count = CheckResultCount(*r, op.req.ops.size());
  if (!count.ok()) {
    NLOG(rados, kWarn) << "from " << con->peer_name() << ": " << count.ToString();
    Finish(op.tid, count, nullptr);
    return true;
  }
  op.backoffs = 0;
  Finish(op.tid, r->status, &*r);
  return true;
}

void Objecter::HandleReset(const msg::ConnectionRef& con) {
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->second.con == con) {
      sessions_.erase(it);
      break;
    }
  }
  for (auto& [tid, op] : ops_) {
    if (op.con != con) continue;
    op.con.reset();
    ScheduleResend(op, "connection to the OSD reset");
  }
}

void Objecter::Shutdown() {
  shutdown_ = true;
  while (!ops_.empty()) Finish(ops_.begin()->first, ShuttingDown("rados client is shut down"), nullptr);
  for (auto& [osd, s] : sessions_)
    if (s.con) s.con->MarkDown();
  sessions_.clear();
}

}  // namespace nacre::rados
