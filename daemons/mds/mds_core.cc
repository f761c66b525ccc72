// MdsCore: sessions, dispatch, shared helpers and the read-only ops.
#include "daemons/mds/mds_core.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>

#include "common/check.h"
#include "common/log.h"

namespace nacre::mds {

MdsCore::MdsCore(MdsCache* cache, CoreOptions opts) : cache_(cache), opts_(opts) {}

bool MdsCore::Caller::InGroup(uint32_t g) const {
  return g == gid || std::find(groups.begin(), groups.end(), g) != groups.end();
}

// ---- sessions

proto::MdsSessionReply MdsCore::HandleSession(const std::string& client, const proto::MdsSessionRequest& r,
                                              int64_t now_ns, uint64_t new_id) {
  proto::MdsSessionReply rep;
  rep.set_op(r.op());
  rep.set_session_timeout_ms(static_cast<uint32_t>(opts_.session_timeout_ns / 1'000'000));
  auto fail = [&](int err, const std::string& m) {
    rep.mutable_status()->set_code(err);
    rep.mutable_status()->set_message(m);
    return rep;
  };
  switch (r.op()) {
    case proto::MDS_SESSION_OPEN: {
      Session& s = sessions_[new_id];
      s.id = new_id;
      s.client = client;
      s.uuid = r.client_uuid();
      s.root = r.root();
      s.last_renew_ns = now_ns;
      rep.set_session(new_id);
      NLOG(mds, kInfo) << "session " << new_id << " opened by " << client;
      return rep;
    }
    case proto::MDS_SESSION_RECONNECT: {
      // After a takeover the id the client held is adopted, with its caps.
      auto it = sessions_.find(r.session());
      if (it != sessions_.end() && it->second.client != client) return fail(EPERM, "session of another client");
      Session& s = sessions_[r.session()];
      s.id = r.session();
      s.client = client;
      s.last_renew_ns = now_ns;
      // The client's list is the truth: caps it no longer names are gone,
      // and a revoke it may have missed is sent again (revoking reset).
      std::set<uint64_t> listed;
      for (const auto& cap : r.caps()) {
        CapState& st = caps_[cap.ino()][s.id];
        st.issued = cap.caps();
        st.seq = std::max(st.seq, cap.seq());
        st.revoking = false;
        listed.insert(cap.ino());
      }
      std::vector<uint64_t> dropped;
      for (const auto& [ino, m] : caps_)
        if (m.count(s.id) && !listed.count(ino)) dropped.push_back(ino);
      for (uint64_t ino : dropped) DropCaps(s.id, ino);
      ++wakes_;
      rep.set_session(s.id);
      uint64_t last = 0;
      auto lo = completed_.lower_bound({client, s.id, 0});
      for (auto c = lo; c != completed_.end() && std::get<0>(c->first) == client && std::get<1>(c->first) == s.id; ++c)
        last = std::get<2>(c->first);
      rep.set_last_completed_tid(last);
      NLOG(mds, kInfo) << "session " << s.id << " of " << client << " reconnected with " << r.caps_size() << " caps";
      return rep;
    }
    case proto::MDS_SESSION_RENEW: {
      auto it = sessions_.find(r.session());
      if (it == sessions_.end() || it->second.client != client) return fail(ENOENT, "no such session");
      it->second.last_renew_ns = now_ns;
      it->second.renew_seq = r.seq();
      rep.set_session(r.session());
      rep.set_seq(r.seq());
      return rep;
    }
    case proto::MDS_SESSION_CLOSE: {
      auto it = sessions_.find(r.session());
      if (it == sessions_.end() || it->second.client != client) return fail(ENOENT, "no such session");
      CloseSession(r.session());
      rep.set_session(r.session());
      return rep;
    }
    default:
      return fail(EINVAL, "unknown session op");
  }
}

void MdsCore::CloseSession(uint64_t id) {
  if (!sessions_.erase(id)) return;
  std::vector<uint64_t> held;
  for (const auto& [ino, m] : caps_)
    if (m.count(id)) held.push_back(ino);
  for (uint64_t ino : held) DropCaps(id, ino);
  locks_.DropSession(id);
  ++wakes_;
  NLOG(mds, kInfo) << "session " << id << " closed";
}

std::vector<uint64_t> MdsCore::Tick(int64_t now_ns) {
  std::vector<uint64_t> gone;
  for (const auto& [id, s] : sessions_)
    if (now_ns - s.last_renew_ns > opts_.session_timeout_ns) gone.push_back(id);
  for (uint64_t id : gone) {
    NLOG(mds, kWarn) << "session " << id << " timed out; dropping its caps and locks";
    CloseSession(id);
  }
  return gone;
}

const Session* MdsCore::GetSession(uint64_t id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

std::vector<CapMsg> MdsCore::TakeOutbox() { return std::exchange(outbox_, {}); }
std::vector<proto::JournalEntry> MdsCore::TakeInternal() { return std::exchange(internal_, {}); }

void MdsCore::NoteReplayed(const proto::JournalEntry& e) {
  seq_ = std::max(seq_, e.seq());
  if (e.req().tid() == 0) return;
  proto::MdsReply r;
  r.set_tid(e.req().tid());
  r.mutable_status()->set_code(e.result());
  r.set_safe(true);
  r.set_forward_rank(-1);
  if (e.result_ino()) {
    // The inode as the journal left it: the newest op that names it.
    for (const auto& op : e.ops()) {
      if (op.has_dentry_set() && op.dentry_set().dentry().inode().ino() == e.result_ino())
        *r.mutable_target() = op.dentry_set().dentry().inode();
      if (op.has_remote_inode_set() && op.remote_inode_set().ino() == e.result_ino())
        *r.mutable_target() = op.remote_inode_set();
    }
  }
  completed_[{e.req().client(), e.req().session(), e.req().tid()}] = r;
}

// ---- dispatch

Outcome MdsCore::Handle(uint64_t session, const proto::MdsRequest& req, int64_t now_ns, bool data_truncated) {
  Ctx c{session, req, now_ns, data_truncated, {}, {}, {}, false};
  c.out.reply.set_tid(req.tid());
  c.out.reply.set_forward_rank(-1);
  auto sit = sessions_.find(session);
  if (sit == sessions_.end()) return Reply(c, ESTALE, "no session: open one first");
  sit->second.last_renew_ns = now_ns;  // any traffic keeps a session alive
  ReqKey key{sit->second.client, session, req.tid()};
  if (auto d = completed_.find(key); d != completed_.end()) {
    Outcome o;
    o.reply = d->second;
    o.dedup = true;
    // A resent CREATE/OPEN (the first reply may never have arrived, or this
    // MDS rebuilt the answer from the journal) opens the file again.
    if ((req.op() == proto::MDS_OP_CREATE || req.op() == proto::MDS_OP_OPEN) && o.reply.status().code() == 0 &&
        IsReg(o.reply.target())) {
      uint32_t acc = req.flags() & O_ACCMODE;
      uint64_t seq = 0;
      o.reply.set_caps(GrantOpen(o.reply.target().ino(), session, acc != O_RDONLY, &seq));
      o.reply.set_cap_seq(seq);
    }
    return o;
  }
  if (req.rank() != opts_.rank && req.rank() >= 0) {
    // Only one rank serves today; anything else names the wrong MDS.
    c.out.reply.set_forward_rank(0);
    return Reply(c, EAGAIN, "not this rank");
  }
  c.caller.uid = req.caller().uid();
  c.caller.gid = req.caller().gid();
  c.caller.groups.assign(req.caller().groups().begin(), req.caller().groups().end());
  Outcome o = Dispatch(c);
  o.reply.set_tid(req.tid());
  if (o.kind == Outcome::kReply && o.journal) {
    o.journal->set_seq(++seq_);
    o.journal->mutable_req()->set_client(sit->second.client);
    o.journal->mutable_req()->set_session(session);
    o.journal->mutable_req()->set_tid(req.tid());
    o.journal->set_result(o.reply.status().code());
    o.journal->set_result_ino(o.reply.target().ino());
    o.journal->set_next_ino(cache_->next_ino());
    o.reply.set_safe(true);
    completed_[key] = o.reply;
    auto& n = completed_count_[{sit->second.client, session}];
    if (++n > opts_.max_completed_per_session) {
      auto lo = completed_.lower_bound({sit->second.client, session, 0});
      if (lo != completed_.end() && std::get<1>(lo->first) == session) {
        completed_.erase(lo);
        --n;
      }
    }
  }
  return o;
}

Outcome MdsCore::Dispatch(Ctx& c) {
  switch (c.req.op()) {
    case proto::MDS_OP_LOOKUP: return OpLookup(c);
    case proto::MDS_OP_GETATTR: return OpGetattr(c);
    case proto::MDS_OP_SETATTR: return OpSetattr(c);
    case proto::MDS_OP_MKNOD:
    case proto::MDS_OP_MKDIR:
    case proto::MDS_OP_SYMLINK: return OpMake(c);
    case proto::MDS_OP_UNLINK:
    case proto::MDS_OP_RMDIR: return OpUnlink(c);
    case proto::MDS_OP_RENAME: return OpRename(c);
    case proto::MDS_OP_LINK: return OpLink(c);
    case proto::MDS_OP_CREATE: return OpCreate(c);
    case proto::MDS_OP_OPEN: return OpOpen(c);
    case proto::MDS_OP_READDIR: return OpReaddir(c);
    case proto::MDS_OP_SETXATTR: return OpSetxattr(c);
    case proto::MDS_OP_RMXATTR: return OpRmxattr(c);
    case proto::MDS_OP_GETXATTR: return OpGetxattr(c);
    case proto::MDS_OP_LISTXATTR: return OpListxattr(c);
    case proto::MDS_OP_STATFS: return OpStatfs(c);
    case proto::MDS_OP_SETLK: return OpSetlk(c);
    case proto::MDS_OP_GETLK: return OpGetlk(c);
    case proto::MDS_OP_LOOKUPINO: return OpLookupIno(c);
    case proto::MDS_OP_FALLOCATE: return OpFallocate(c);
    default: return Reply(c, EOPNOTSUPP, "unknown op");
  }
}

// ---- helpers

Outcome MdsCore::Reply(Ctx& c, int err, const std::string& msg) {
  Outcome o = std::move(c.out);
  o.kind = Outcome::kReply;
  o.reply.mutable_status()->set_code(err);
  if (!msg.empty()) o.reply.mutable_status()->set_message(msg);
  if (c.mutated) {
    NACRE_CHECK(err == 0);  // every check comes before the first op
    o.journal = std::move(c.entry);
  }
  return o;
}

Outcome MdsCore::Need(uint64_t dir) {
  Outcome o;
  o.kind = Outcome::kNeedDir;
  o.need_dir = dir;
  return o;
}

Outcome MdsCore::Wait(Ctx& c) {
  NACRE_CHECK(!c.mutated);
  Outcome o;
  o.kind = Outcome::kWait;
  o.reply.set_tid(c.req.tid());
  return o;
}

const proto::InodeProto* MdsCore::Inode(uint64_t ino, Outcome* o) {
  uint64_t need = 0;
  if (ino == StrayIno(opts_.rank)) {
    static proto::InodeProto stray;  // synthesized: the stray dir has no dentry
    stray.set_ino(ino);
    stray.set_mode(0040700);
    stray.set_nlink(2);
    return &stray;
  }
  const proto::InodeProto* i = cache_->FindInode(ino, &need);
  if (i) return i;
  // A number that cannot exist is not searched for (the search loads the
  // whole tree): reserved ones, and ones this rank has not handed out yet.
  bool impossible = ino < 0x1000 || (ino >= RankInoStart(opts_.rank) && ino < RankInoStart(opts_.rank + 1) &&
                                     ino >= cache_->next_ino());
  if (!need && !impossible) need = cache_->AnyUnloadedDir();  // unknown number: search the tree
  if (need) {
    *o = Need(need);
  } else {
    *o = Outcome{};
    o->reply.mutable_status()->set_code(ESTALE);
    o->reply.mutable_status()->set_message("no inode " + InoHex(ino));
    o->reply.set_forward_rank(-1);
  }
  return nullptr;
}

CachedDir* MdsCore::Dir(uint64_t ino, Outcome* o) {
  if (CachedDir* d = cache_->GetDir(ino)) return d;
  *o = Need(ino);
  return nullptr;
}

bool MdsCore::MayAccess(const proto::InodeProto& i, const Caller& c, int want) {
  uint32_t mode = i.mode();
  if (c.uid == 0) {
    // root: everything but executing a file nobody may execute
    if (!(want & 1) || IsDir(i)) return true;
    return (mode & 0111) != 0;
  }
  uint32_t bits;
  if (c.uid == i.uid())
    bits = (mode >> 6) & 7;
  else if (c.InGroup(i.gid()))
    bits = (mode >> 3) & 7;
  else
    bits = mode & 7;
  return (bits & static_cast<uint32_t>(want)) == static_cast<uint32_t>(want);
}

bool MdsCore::StickyDenies(const proto::InodeProto& dir, const proto::InodeProto& victim, const Caller& c) {
  if (!(dir.mode() & 01000) || c.uid == 0) return false;
  return c.uid != dir.uid() && c.uid != victim.uid();
}

int MdsCore::CheckName(const std::string& name) {
  if (name.empty()) return ENOENT;
  if (name.size() > 255) return ENAMETOOLONG;
  if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos) return EINVAL;
  return 0;
}

void MdsCore::AddOp(Ctx& c, proto::MetaOp op) {
  cache_->Apply(op);
  *c.entry.add_ops() = std::move(op);
  c.mutated = true;
}

void MdsCore::SetDentry(Ctx& c, uint64_t dir, const std::string& name, const proto::DentryProto& d) {
  proto::MetaOp op;
  auto* s = op.mutable_dentry_set();
  s->set_dir_ino(dir);
  s->set_name(name);
  *s->mutable_dentry() = d;
  AddOp(c, std::move(op));
}

void MdsCore::RmDentry(Ctx& c, uint64_t dir, const std::string& name) {
  proto::MetaOp op;
  op.mutable_dentry_rm()->set_dir_ino(dir);
  op.mutable_dentry_rm()->set_name(name);
  AddOp(c, std::move(op));
}

void MdsCore::PutInode(Ctx& c, proto::InodeProto i) {
  i.set_version(i.version() + 1);
  proto::MetaOp op;
  if (i.ino() == kRootIno) {
    *op.mutable_root_set() = std::move(i);
    return AddOp(c, std::move(op));
  }
  if (cache_->remote().count(i.ino())) {
    *op.mutable_remote_inode_set() = std::move(i);
    return AddOp(c, std::move(op));
  }
  if (i.ino() == StrayIno(opts_.rank)) return;  // synthesized
  uint64_t parent;
  std::string name;
  NACRE_CHECK(cache_->Where(i.ino(), &parent, &name));
  proto::DentryProto d;
  *d.mutable_inode() = std::move(i);
  SetDentry(c, parent, name, d);
}

void MdsCore::TouchDir(Ctx& c, uint64_t dir, int entries_delta, int links_delta) {
  Outcome dummy;
  const proto::InodeProto* p = Inode(dir, &dummy);
  NACRE_CHECK(p);  // handlers load every dir they change first
  proto::InodeProto i = *p;
  i.set_mtime_ns(c.now);
  i.set_ctime_ns(c.now);
  i.set_size(static_cast<uint64_t>(std::max<int64_t>(0, static_cast<int64_t>(i.size()) + entries_delta)));
  i.set_nlink(static_cast<uint32_t>(std::max<int64_t>(0, static_cast<int64_t>(i.nlink()) + links_delta)));
  PutInode(c, i);
  const proto::InodeProto* after = Inode(dir, &dummy);
  if (after) *c.out.reply.mutable_parent() = *after;
}

proto::InodeProto MdsCore::NewInode(Ctx& c, const proto::InodeProto& parent, uint32_t mode) {
  proto::InodeProto i;
  i.set_ino(cache_->AllocIno());
  i.set_uid(c.caller.uid);
  i.set_gid(c.caller.gid);
  if (parent.mode() & 02000) {
    // setgid directory: new entries take its group; new dirs inherit the bit
    i.set_gid(parent.gid());
    if ((mode & 0170000) == 0040000) mode |= 02000;
  }
  i.set_mode(mode);
  i.set_nlink((mode & 0170000) == 0040000 ? 2 : 1);
  i.set_atime_ns(c.now);
  i.set_mtime_ns(c.now);
  i.set_ctime_ns(c.now);
  i.set_btime_ns(c.now);
  i.set_parent_ino(parent.ino());
  i.set_dir_pin(-1);
  i.set_version(1);
  auto* l = i.mutable_layout();
  l->set_object_size(opts_.object_size);
  l->set_stripe_unit(opts_.object_size);
  l->set_stripe_count(1);
  l->set_pool(parent.layout().pool() != 0 ? parent.layout().pool() : opts_.data_pool);
  return i;
}

// ---- reads

Outcome MdsCore::OpLookup(Ctx& c) {
  Outcome o;
  const proto::InodeProto* p = Inode(c.req.ino(), &o);
  if (!p) return o;
  if (!IsDir(*p)) return Reply(c, ENOTDIR);
  if (!MayAccess(*p, c.caller, 1)) return Reply(c, EACCES);
  const std::string& name = c.req.name();
  if (name == ".") {
    *c.out.reply.mutable_target() = *p;
    return Reply(c, 0);
  }
  if (name == "..") {
    uint64_t up = p->ino() == kRootIno ? kRootIno : p->parent_ino();
    const proto::InodeProto* u = Inode(up, &o);
    if (!u) return o;
    *c.out.reply.mutable_target() = *u;
    return Reply(c, 0);
  }
  if (int e = CheckName(name)) return Reply(c, e);
  CachedDir* d = Dir(c.req.ino(), &o);
  if (!d) return o;
  auto it = d->dentries.find(name);
  if (it == d->dentries.end()) return Reply(c, ENOENT);
  const proto::InodeProto* t = cache_->DentryInode(it->second);
  if (!t) return Reply(c, EIO, "dangling remote dentry");
  if (RevokeOthers(t->ino(), c.session, 16 /*Fb*/)) return Wait(c);
  *c.out.reply.mutable_target() = *t;
  *c.out.reply.mutable_parent() = *p;
  return Reply(c, 0);
}

Outcome MdsCore::OpGetattr(Ctx& c) {
  Outcome o;
  const proto::InodeProto* i = Inode(c.req.ino(), &o);
  if (!i) return o;
  if (RevokeOthers(i->ino(), c.session, 16 /*Fb*/)) return Wait(c);
  *c.out.reply.mutable_target() = *i;
  auto held = caps_.find(i->ino());
  if (held != caps_.end()) {
    auto mine = held->second.find(c.session);
    if (mine != held->second.end()) {
      c.out.reply.set_caps(mine->second.issued);
      c.out.reply.set_cap_seq(mine->second.seq);
    }
  }
  return Reply(c, 0);
}

Outcome MdsCore::OpLookupIno(Ctx& c) {
  Outcome o;
  const proto::InodeProto* i = Inode(c.req.ino(), &o);
  if (!i) return o;
  *c.out.reply.mutable_target() = *i;
  return Reply(c, 0);
}

Outcome MdsCore::OpReaddir(Ctx& c) {
  Outcome o;
  const proto::InodeProto* p = Inode(c.req.ino(), &o);
  if (!p) return o;
  if (!IsDir(*p)) return Reply(c, ENOTDIR);
  if (!MayAccess(*p, c.caller, 4)) return Reply(c, EACCES);
  CachedDir* d = Dir(c.req.ino(), &o);
  if (!d) return o;
  *c.out.reply.mutable_target() = *p;
  uint32_t max = c.req.readdir_max() ? std::min<uint32_t>(c.req.readdir_max(), 4096) : 1024;
  auto it = c.req.readdir_after().empty() ? d->dentries.begin() : d->dentries.upper_bound(c.req.readdir_after());
  // Replies stay well under the 64 KiB header cap.
  size_t bytes = 0;
  for (; it != d->dentries.end() && c.out.reply.entries_size() < static_cast<int>(max) && bytes < 48 * 1024; ++it) {
    const proto::InodeProto* t = cache_->DentryInode(it->second);
    if (!t) continue;
    auto* e = c.out.reply.add_entries();
    e->set_name(it->first);
    *e->mutable_inode() = *t;
    e->mutable_inode()->clear_xattrs();  // not needed to list; keeps pages small
    bytes += e->ByteSizeLong();
  }
  c.out.reply.set_more(it != d->dentries.end());
  return Reply(c, 0);
}

Outcome MdsCore::OpStatfs(Ctx& c) {
  *c.out.reply.mutable_statfs() = statfs_;
  return Reply(c, 0);
}

}  // namespace nacre::mds
