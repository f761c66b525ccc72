// OsdDaemon: placement groups, client ops, peer messages, heartbeats, stats.
#include <sys/statvfs.h>

#include <chrono>

#include "common/clock.h"
#include "common/log.h"
#include "daemons/osd/osd_daemon.h"
#include "messenger.pb.h"
#include "mon.pb.h"

namespace nacre::osd {

namespace {

int PeerOsdId(const msg::ConnectionRef& con) {
  const std::string& n = con->peer_name();
  if (n.rfind("osd.", 0) != 0) return -1;
  try {
    return std::stoi(n.substr(4));
  } catch (...) {
    return -1;
  }
}


}  // namespace

Status OsdDaemon::LoadPgs() {
  for (const auto& c : store_->ListCollections()) {
    auto id = placement::PgId::Parse(c);
    if (!id.ok()) continue;
    auto pg = std::make_unique<Pg>(this, *id);
    NACRE_RETURN_IF_ERROR(pg->Load());
    pgs_[*id] = std::move(pg);
  }
  NLOG(osd, kInfo) << "loaded " << pgs_.size() << " PGs from the store";
  return Status::OK();
}

bool OsdDaemon::IsUp(int osd) const {
  const auto& osds = mons_->osdmap().osds();
  auto it = osds.find(osd);
  return it != osds.end() && it->second.up();
}

void OsdDaemon::SendToOsd(int osd, msg::Message m) {
  const auto& osds = mons_->osdmap().osds();
  auto it = osds.find(osd);
  if (it == osds.end() || !it->second.up()) return;  // peering starts over when it returns
  msg::EntityAddr addr{it->second.addr().host(), static_cast<uint16_t>(it->second.addr().port())};
  auto con = osd_ms_->Connect("osd." + std::to_string(osd), addr, msg::Policy::kLossless);
  Status s = con->Send(std::move(m));
  if (!s.ok()) NLOG(osd, kDebug) << "send to osd." << osd << ": " << s.ToString();
}

void OsdDaemon::HandleMap(const proto::OSDMapProto& m) {
  if (!serving_) return;
  if (m.crush() != crush_bytes_ || !crush_) {
    auto cm = crush::CrushMap::DecodeFromString(m.crush());
    if (!cm.ok()) {
      NLOG(osd, kError) << "osdmap epoch " << m.epoch() << ": undecodable CRUSH map: " << cm.status().ToString();
      return;
    }
    crush_ = std::make_unique<crush::CrushMap>(std::move(*cm));
    crush_bytes_ = m.crush();
  }
  std::set<int> up;
  for (const auto& [id, o] : m.osds())
    if (o.up()) up.insert(id);
  heartbeat_->SetPeers(up, loop_.Now(), m.epoch());
  // Every PG we serve or hold a copy of.
  for (const auto& [pool_id, pool] : m.pools()) {
    if (pool.type() != proto::POOL_TYPE_REPLICATED) continue;  // erasure coding comes later
    for (uint32_t seed = 0; seed < pool.pg_num(); ++seed) {
      placement::PgId id{pool_id, seed};
      auto mapping = placement::MapPg(m, *crush_, id);
      if (!mapping.ok()) continue;
      bool mine = std::find(mapping->up.begin(), mapping->up.end(), id_) != mapping->up.end();
      Pg* pg = GetPg(id, mine);
      if (pg) pg->OnMap(m.epoch(), pool, mapping->up, mapping->up);
      if (pg && !pg->in_acting()) pg->AnnounceStray(true);
    }
  }
  for (auto it = pgs_.begin(); it != pgs_.end();) {
    auto pool = m.pools().find(it->first.pool);
    if (pool == m.pools().end() || it->first.seed >= pool->second.pg_num()) {
      NLOG(osd, kInfo) << "PG " << it->second->coll() << ": pool gone, removing";
      it->second->Remove();
      it = pgs_.erase(it);
    } else if (!it->second->in_acting() && !it->second->has_data()) {
      it = pgs_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [id, pg] : pgs_) pg->Tick();
  // Peer messages and ops that waited for this map.
  std::vector<std::pair<msg::ConnectionRef, msg::Message>> peer_msgs;
  peer_msgs.swap(waiting_peer_msgs_);
  for (auto& [con, pm] : peer_msgs) HandlePeerMessage(con, pm);
  std::vector<ClientOp> waiting;
  waiting.swap(waiting_for_map_);
  for (auto& op : waiting) DispatchClientOp(std::move(op));  // holds again those still ahead
}

Pg* OsdDaemon::GetPg(const placement::PgId& id, bool create) {
  auto it = pgs_.find(id);
  if (it != pgs_.end()) return it->second.get();
  if (!create) return nullptr;
  auto pg = std::make_unique<Pg>(this, id);
  Status s = pg->Load();
  if (!s.ok()) {
    NLOG(osd, kError) << "PG " << id.ToString() << ": " << s.ToString();
    return nullptr;
  }
  return (pgs_[id] = std::move(pg)).get();
}

void OsdDaemon::ReplyError(const msg::ConnectionRef& con, uint64_t tid, const Status& s, bool retry) {
  proto::OsdOpReply r;
  r.set_tid(tid);
  r.mutable_status()->set_code(static_cast<int>(s.code()));
  r.mutable_status()->set_message(s.message());
  r.set_epoch(epoch());
  r.set_retry(retry);
  (void)con->Send(msg::Message::Make(proto::MSG_OSD_OP_REPLY, r));
}

void OsdDaemon::HandleClientOp(const msg::ConnectionRef& con, msg::Message&& m) {
  ClientOp op;
  op.con = con;
  op.client = con->peer_name();
  if (!m.ParseHeader(&op.req)) return ReplyError(con, 0, Invalid("undecodable op header"), false);
  op.payload = std::move(m.payload);
  Status s = ValidateRequest(op.req, op.payload.size(), store_->options().limits);
  if (!s.ok()) return ReplyError(con, op.req.tid(), s, false);
  DispatchClientOp(std::move(op));
}

// A validated op: to its PG's primary, or held for a newer map, or refused.
void OsdDaemon::DispatchClientOp(ClientOp op) {
  const auto& req = op.req;
  const auto& con = op.con;
  const auto& map = mons_->osdmap();
  if (req.epoch() > map.epoch()) {
    // The client saw a newer map: wait for it rather than misjudge.
    if (waiting_for_map_.size() >= max_waiting_ops_) return ReplyError(con, req.tid(), TryAgain("busy"), true);
    waiting_for_map_.push_back(std::move(op));
    return;
  }
  auto pool = map.pools().find(req.pool());
  if (pool == map.pools().end()) return ReplyError(con, req.tid(), NotFound("no such pool"), false);
  if (pool->second.type() != proto::POOL_TYPE_REPLICATED)
    return ReplyError(con, req.tid(), Status(Code::kNotSupported, "erasure-coded pools are not served yet"), false);
  if (req.pg_seed() >= pool->second.pg_num() ||
      (!req.oid().empty() && placement::ObjectToPg(pool->second, req.oid()).seed != req.pg_seed()))
    return ReplyError(con, req.tid(), TryAgain("misdirected op"), true);
  Pg* pg = GetPg({req.pool(), req.pg_seed()}, false);
  if (!pg || !pg->is_primary()) return ReplyError(con, req.tid(), TryAgain("not primary"), true);
  pg->HandleClientOp(std::move(op));
}

bool OsdDaemon::HandlePeerMessage(const msg::ConnectionRef& con, msg::Message& m) {
  int from = PeerOsdId(con);
  if (from < 0) {
    NLOG(osd, kDebug) << "message type " << m.type << " from non-OSD " << con->peer_name() << " dropped";
    return true;
  }
  auto pg_of = [&](auto& hdr, bool create) -> Pg* {
    // Peering messages that grow with the PG come whole in the payload
    // with no header (Pg::SendBulk); every other one has a header.
    bool bulk = m.header.empty() && m.payload.size() > 0;
    if (!(bulk ? hdr.ParseFromString(std::string(m.payload.view())) : m.ParseHeader(&hdr))) {
      NLOG(osd, kWarn) << "undecodable message type " << m.type << " from osd." << from;
      return nullptr;
    }
    if (hdr.seed() > (1u << 24)) return nullptr;
    if (hdr.epoch() > epoch() || (create && !mons_->osdmap().pools().count(hdr.pool()))) {
      // A peer with a newer map than ours: hold the message until our map
      // catches up, so the PG judges it by the same map (our role in that
      // interval, the pool itself) rather than by an older one.
      if (waiting_peer_msgs_.size() < max_waiting_ops_) waiting_peer_msgs_.push_back({con, m});
      return nullptr;
    }
    return GetPg({hdr.pool(), hdr.seed()}, create);
  };
  switch (m.type) {
    case proto::MSG_OSD_PING: {
      proto::OsdPing p;
      if (!m.ParseHeader(&p)) return true;
      if (p.reply()) heartbeat_->OnReply(from, loop_.Now());
      else heartbeat_->OnPing(from, p);
      return true;
    }
    case proto::MSG_OSD_REPOP: {
      proto::RepOp r;
      if (Pg* pg = pg_of(r, true)) pg->HandleRepOp(from, r, m.payload);
      return true;
    }
    case proto::MSG_OSD_REPOP_REPLY: {
      proto::RepOpReply r;
      if (Pg* pg = pg_of(r, false)) pg->HandleRepOpReply(from, r);
      return true;
    }
    case proto::MSG_PG_QUERY: {
      proto::PgQuery q;
      Pg* pg = pg_of(q, true);
      if (pg) {
        // A PG we just created learns its role from the current map first.
        MapOnePg(pg);
        pg->HandleQuery(from, q);
      }
      return true;
    }
    case proto::MSG_PG_NOTIFY: {
      proto::PgNotify n;
      if (Pg* pg = pg_of(n, false)) pg->HandleNotify(from, n);
      return true;
    }
    case proto::MSG_PG_ACTIVATE: {
      proto::PgActivate a;
      Pg* pg = pg_of(a, !a.purge());
      if (pg) {
        MapOnePg(pg);
        pg->HandleActivate(from, a);
      }
      return true;
    }
    case proto::MSG_PG_PULL: {
      proto::PgPull p;
      if (Pg* pg = pg_of(p, false)) pg->HandlePull(from, p);
      return true;
    }
    case proto::MSG_PG_PUSH: {
      proto::PgPush p;
      if (Pg* pg = pg_of(p, true)) pg->HandlePush(from, p, m.payload);
      return true;
    }
    case proto::MSG_PG_PUSH_REPLY: {
      proto::PgPushReply r;
      if (Pg* pg = pg_of(r, false)) pg->HandlePushReply(from, r);
      return true;
    }
    default:
      return false;
  }
}

void OsdDaemon::MapOnePg(Pg* pg) {
  const auto& map = mons_->osdmap();
  auto pool = map.pools().find(pg->id().pool);
  if (pool == map.pools().end() || !crush_) return;
  auto mapping = placement::MapPg(map, *crush_, pg->id());
  if (mapping.ok()) pg->OnMap(map.epoch(), pool->second, mapping->up, mapping->up);
}

void OsdDaemon::HeartbeatTick() {
  heartbeat_->Tick(loop_.Now());
  for (auto& [id, pg] : pgs_) pg->Tick();
  auto every = std::chrono::duration<double>(config_.GetDouble("osd_heartbeat_interval"));
  hb_timer_ = loop_.CallAfter(std::chrono::duration_cast<EventLoop::Duration>(every), [this] { HeartbeatTick(); });
}

void OsdDaemon::SendPgStats() {
  proto::OsdPgStats st;
  st.set_osd(id_);
  st.set_epoch(epoch());
  st.set_stamp_ms(WallClockMs());
  for (auto& [id, pg] : pgs_)
    if (pg->has_data() || pg->in_acting()) *st.add_pgs() = pg->Stat();
  struct statvfs vfs {};
  if (statvfs(data_.c_str(), &vfs) == 0) {
    uint64_t kb = static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize / 1024;
    uint64_t avail = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize / 1024;
    // Used is what is allocated (blocks - free), not size - available: the
    // space reserved for root is neither used nor available to us.
    uint64_t used = static_cast<uint64_t>(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize / 1024;
    st.mutable_osd_stat()->set_kb(kb);
    st.mutable_osd_stat()->set_kb_avail(avail);
    st.mutable_osd_stat()->set_kb_used(used);
  }
  st.mutable_osd_stat()->set_num_pgs(st.pgs_size());
  // In the payload: a header is capped at ms_max_header_bytes, and a report
  // grows with the number of PGs.
  msg::Message m;
  m.type = proto::MSG_PG_STATS;
  m.payload = Bytes(st.SerializeAsString());
  (void)mons_->SendToMon(std::move(m));
  auto every = std::chrono::duration<double>(config_.GetDouble("osd_pg_stats_interval"));
  stats_timer_ = loop_.CallAfter(std::chrono::duration_cast<EventLoop::Duration>(every), [this] { SendPgStats(); });
}

}  // namespace nacre::osd
