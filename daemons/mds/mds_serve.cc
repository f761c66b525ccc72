// MdsDaemon: client messages (sessions, requests, caps) and what the core's
// outcomes ask the shell to do.
#include <random>

#include "common/log.h"
#include "daemons/mds/mds_daemon.h"
#include "messenger.pb.h"

namespace nacre::mds {

void MdsDaemon::OnMessage(const msg::ConnectionRef& con, msg::Message&& m) {
  if (mons_->HandleMessage(con, m)) return;
  switch (m.type) {
    case proto::MSG_MDS_SESSION: return OnSession(con, m);
    case proto::MSG_MDS_REQUEST: return OnRequest(con, m);
    case proto::MSG_MDS_CAP: return OnCap(con, m);
    default: NLOG(mds, kDebug) << "unexpected message type " << m.type << " from " << con->peer_name();
  }
}

void MdsDaemon::OnReset(const msg::ConnectionRef& con) {
  mons_->HandleReset(con);
  // The session lives on until it times out or the client reconnects.
  auto it = con_session_.find(con.get());
  if (it == con_session_.end()) return;
  auto sc = session_con_.find(it->second);
  if (sc != session_con_.end() && sc->second.get() == con.get()) session_con_.erase(sc);
  con_session_.erase(it);
}

void MdsDaemon::OnSession(const msg::ConnectionRef& con, const msg::Message& m) {
  proto::MdsSessionRequest r;
  if (!m.ParseHeader(&r)) return;
  proto::MdsSessionReply rep;
  if (state_ != State::kActive) {
    rep.set_op(r.op());
    rep.mutable_status()->set_code(EAGAIN);
    rep.mutable_status()->set_message("mds is not active");
  } else {
    static std::mt19937_64 rng{std::random_device{}()};
    uint64_t id = rng() >> 1;
    rep = core_->HandleSession(con->peer_name(), r, NowNs(), id ? id : 1);
    if (rep.status().code() == 0) {
      if (r.op() == proto::MDS_SESSION_OPEN || r.op() == proto::MDS_SESSION_RECONNECT ||
          r.op() == proto::MDS_SESSION_RENEW) {
        con_session_[con.get()] = rep.session();
        session_con_[rep.session()] = con;
      } else if (r.op() == proto::MDS_SESSION_CLOSE) {
        con_session_.erase(con.get());
        session_con_.erase(rep.session());
      }
    }
  }
  (void)con->Send(msg::Message::Make(proto::MSG_MDS_SESSION_REPLY, rep));
  if (state_ != State::kActive) return;
  if (r.op() == proto::MDS_SESSION_RECONNECT && rep.status().code() == 0) {
    // What the client buffered under Fb before the takeover lands now.
    for (const auto& c : r.caps()) {
      if (!c.dirty()) continue;
      proto::CapProto up = c;
      up.set_op(proto::CAP_OP_UPDATE);
      up.set_sync(false);
      RunCap(rep.session(), std::move(up), 0);
    }
  }
  Drain();
}

void MdsDaemon::OnRequest(const msg::ConnectionRef& con, const msg::Message& m) {
  Pending p;
  if (!m.ParseHeader(&p.req)) return;
  p.con = con;
  p.started_ns = NowNs();
  if (state_ != State::kActive) return ReplyError(p, EAGAIN, "mds is not active");
  auto it = con_session_.find(con.get());
  p.session = it == con_session_.end() ? 0 : it->second;
  ++requests_;
  Run(std::move(p));
}

void MdsDaemon::OnCap(const msg::ConnectionRef& con, const msg::Message& m) {
  proto::CapProto c;
  if (!m.ParseHeader(&c) || state_ != State::kActive) return;
  auto it = con_session_.find(con.get());
  if (it == con_session_.end()) return;
  RunCap(it->second, std::move(c), 0);
}

void MdsDaemon::SendReply(const msg::ConnectionRef& con, const proto::MdsReply& r) {
  Status s = con->Send(msg::Message::Make(proto::MSG_MDS_REPLY, r));
  if (!s.ok()) NLOG(mds, kDebug) << "reply to " << con->peer_name() << ": " << s.ToString();
}

void MdsDaemon::ReplyError(const Pending& p, int err, const std::string& why) {
  proto::MdsReply r;
  r.set_tid(p.req.tid());
  r.set_forward_rank(-1);
  r.mutable_status()->set_code(err);
  r.mutable_status()->set_message(why);
  SendReply(p.con, r);
}

void MdsDaemon::SendCap(uint64_t session, const proto::CapProto& c) {
  auto it = session_con_.find(session);
  if (it == session_con_.end()) return;  // it will reconnect, or time out
  (void)it->second->Send(msg::Message::Make(proto::MSG_MDS_CAP, c));
}

void MdsDaemon::Run(Pending p) {
  Outcome o = core_->Handle(p.session, p.req, NowNs(), p.truncated);
  switch (o.kind) {
    case Outcome::kNeedDir: {
      if (++p.loads > kMaxLoads) {
        ReplyError(p, EIO, "too many directory loads");
        break;
      }
      auto shared = std::make_shared<Pending>(std::move(p));
      LoadDir(o.need_dir, [this, shared](bool ok) {
        if (!ok) return ReplyError(*shared, EIO, "cannot load a directory");
        Run(std::move(*shared));
      });
      break;
    }
    case Outcome::kWait:
      if (parked_.size() >= kMaxParked) {
        ReplyError(p, EAGAIN, "too many waiting requests");
        break;
      }
      parked_.push_back(std::move(p));
      break;
    case Outcome::kTruncate: {
      auto shared = std::make_shared<Pending>(std::move(p));
      auto inode = o.truncate_inode;
      uint64_t to = o.truncate_to;
      bool ok = store_->Submit([this, shared, inode, to] {
        Status s = store_->TruncateData(inode, to);
        store_->Post([this, shared, s] {
          if (!s.ok()) return ReplyError(*shared, EIO, "truncating data: " + s.ToString());
          shared->truncated = true;
          Run(std::move(*shared));
        });
      });
      if (!ok) ReplyError(*shared, EAGAIN, "mds busy");
      break;
    }
    case Outcome::kReply: {
      auto con = p.con;
      auto reply = std::move(o.reply);
      if (o.journal) {
        Journal(*o.journal, [this, con, reply] { SendReply(con, reply); });
      } else {
        // A read may show state (another client's flushed size, a resent
        // request's result) whose journal entry is still in flight: it is
        // answered once that is durable, so no client sees what a crash
        // could take back.
        journal_->AfterSafe([this, con, reply] { SendReply(con, reply); });
      }
      break;
    }
  }
  Drain();
}

void MdsDaemon::RunCap(uint64_t session, proto::CapProto cap, int loads) {
  Outcome o = core_->HandleCap(session, cap, NowNs());
  if (o.kind == Outcome::kNeedDir) {
    if (loads > kMaxLoads) return;
    auto shared = std::make_shared<proto::CapProto>(std::move(cap));
    LoadDir(o.need_dir, [this, session, shared, loads](bool ok) {
      if (ok) RunCap(session, std::move(*shared), loads + 1);
    });
    return;
  }
  if (o.journal) Journal(*o.journal, {});
  Drain();
}

void MdsDaemon::LoadDir(uint64_t ino, std::function<void(bool)> then) {
  auto& waiters = loads_[ino];
  waiters.push_back(std::move(then));
  if (waiters.size() > 1) return;  // already loading
  bool ok = store_->Submit([this, ino] {
    auto r = store_->LoadDir(ino);
    auto shared = std::make_shared<decltype(r)>(std::move(r));
    store_->Post([this, ino, shared] {
      bool ok = shared->ok();
      if (ok) cache_->InstallDir(ino, **shared);
      else NLOG(mds, kWarn) << "loading dir " << InoHex(ino) << ": " << shared->status().ToString();
      auto w = std::move(loads_[ino]);
      loads_.erase(ino);
      for (auto& fn : w) fn(ok);
    });
  });
  if (!ok) {
    auto w = std::move(loads_[ino]);
    loads_.erase(ino);
    for (auto& fn : w) fn(false);
  }
}

void MdsDaemon::Journal(const proto::JournalEntry& e, std::function<void()> then) {
  std::vector<proto::InodeProto> purges;
  for (const auto& op : e.ops())
    if (op.has_purge_inode()) purges.push_back(op.purge_inode());
  journal_->Append(e, [this, purges = std::move(purges), then = std::move(then)] {
    for (const auto& i : purges) {
      bool ok = store_->Submit([this, i] {
        Status s = store_->Purge(i);
        if (!s.ok()) NLOG(mds, kWarn) << "purging " << InoHex(i.ino()) << ": " << s.ToString();
      });
      if (!ok) NLOG(mds, kWarn) << "purge queue full: data of " << InoHex(i.ino()) << " left behind";
    }
    if (then) then();
  });
  if (journal_->current_seg() - expire_seg_ > max_segments_) MaybeFlush(true);
}

void MdsDaemon::Drain() {
  if (draining_ || !core_) return;
  draining_ = true;
  for (;;) {
    for (auto& m : core_->TakeOutbox()) {
      if (m.after_journal) {
        journal_->AfterSafe([this, m] { SendCap(m.session, m.cap); });
      } else {
        SendCap(m.session, m.cap);
      }
    }
    for (auto& e : core_->TakeInternal()) Journal(e, {});
    if (core_->WakeCount() == last_wakes_) break;
    last_wakes_ = core_->WakeCount();
    // Something was released or unlocked: every parked request tries again.
    auto parked = std::move(parked_);
    parked_.clear();
    for (auto& p : parked) {
      draining_ = false;  // Run drains what it produces
      Run(std::move(p));
      draining_ = true;
    }
  }
  draining_ = false;
}

}  // namespace nacre::mds
