// MdsCore: caps (who holds what on which file), cap messages from clients,
// file locks, and unlinked-but-open files (strays).
//
// A session "has a file open" while it holds a cap entry on it (OPEN and
// CREATE make one; a RELEASE of all bits drops it). A writer gets Fw|Fb when
// no other session has the file open, else Fw alone (it then sends its size
// with CAP_OP_UPDATE sync after extending writes). Readers get Fs|Fr, plus
// Fc when nobody else writes. A conflicting request revokes the other
// holders' bits once (CAP_OP_REVOKE naming the caps they may keep) and waits
// for their RELEASE or their session's end.
#include <cerrno>

#include "common/log.h"
#include "daemons/mds/mds_core.h"

namespace nacre::mds {

namespace {
constexpr uint32_t kFs = 1, kFr = 2, kFc = 4, kFw = 8, kFb = 16;
const proto::MdsRequest kNoRequest;
}  // namespace

std::map<uint64_t, uint32_t> MdsCore::CapsOn(uint64_t ino) const {
  std::map<uint64_t, uint32_t> out;
  auto it = caps_.find(ino);
  if (it != caps_.end())
    for (const auto& [s, st] : it->second) out[s] = st.issued;
  return out;
}

std::set<uint64_t> MdsCore::PinnedDirs() const {
  std::set<uint64_t> out{StrayIno(opts_.rank)};
  for (const auto& [ino, m] : caps_) {
    uint64_t parent;
    std::string name;
    if (cache_->Where(ino, &parent, &name)) out.insert(parent);
  }
  return out;
}

bool MdsCore::RevokeOthers(uint64_t ino, uint64_t session, uint32_t mask) {
  auto it = caps_.find(ino);
  if (it == caps_.end()) return false;
  bool wait = false;
  for (auto& [s, st] : it->second) {
    if (s == session || !(st.issued & mask)) continue;
    wait = true;
    if (st.revoking) continue;  // asked already
    st.revoking = true;
    CapMsg m;
    m.session = s;
    m.cap.set_op(proto::CAP_OP_REVOKE);
    m.cap.set_ino(ino);
    m.cap.set_caps(st.issued & ~mask);
    m.cap.set_seq(++st.seq);
    outbox_.push_back(m);
    NLOG(mds, kDebug) << "revoking caps " << mask << " on " << InoHex(ino) << " from session " << s;
  }
  return wait;
}

uint32_t MdsCore::GrantOpen(uint64_t ino, uint64_t session, bool write, uint64_t* seq) {
  auto& holders = caps_[ino];
  bool others = false, other_writer = false;
  for (const auto& [s, st] : holders)
    if (s != session) {
      others = true;
      other_writer |= (st.issued & kFw) != 0;
    }
  CapState& st = holders[session];
  uint32_t want = kFs | kFr;
  if (!other_writer) want |= kFc;
  if (write) {
    want |= kFw;
    if (!others) want |= kFb;
    want &= ~kFc;
    if (!others) want |= kFc;
  }
  st.issued |= want;
  if (others && (st.issued & kFb)) st.issued &= ~kFb;  // someone else opened meanwhile
  *seq = ++st.seq;
  return st.issued;
}

void MdsCore::DropCaps(uint64_t session, uint64_t ino) {
  auto it = caps_.find(ino);
  if (it == caps_.end()) return;
  it->second.erase(session);
  if (it->second.empty()) {
    caps_.erase(it);
    MaybePurgeStray(ino);
  }
  ++wakes_;
}

void MdsCore::PurgeUnheldStrays() {
  CachedDir* stray = cache_->GetDir(StrayIno(opts_.rank));
  if (!stray) return;
  std::vector<uint64_t> unheld;
  for (const auto& [name, dn] : stray->dentries)
    if (dn.has_inode() && !caps_.count(dn.inode().ino())) unheld.push_back(dn.inode().ino());
  for (uint64_t ino : unheld) MaybePurgeStray(ino);
}

void MdsCore::MaybePurgeStray(uint64_t ino) {
  CachedDir* stray = cache_->GetDir(StrayIno(opts_.rank));
  if (!stray) return;
  auto it = stray->dentries.find(InoHex(ino));
  if (it == stray->dentries.end() || !it->second.has_inode()) return;
  Ctx c{0, kNoRequest, 0, false, {}, {}, {}, false};
  proto::InodeProto i = it->second.inode();
  RmDentry(c, StrayIno(opts_.rank), InoHex(ino));
  if (IsReg(i)) {
    proto::MetaOp op;
    *op.mutable_purge_inode() = i;
    AddOp(c, std::move(op));
  }
  c.entry.set_seq(++seq_);
  internal_.push_back(std::move(c.entry));
}

Outcome MdsCore::HandleCap(uint64_t session, const proto::CapProto& cap, int64_t now_ns) {
  Outcome out;
  out.reply.set_tid(0);
  auto sit = sessions_.find(session);
  if (sit == sessions_.end()) return out;
  sit->second.last_renew_ns = now_ns;
  if (cap.op() != proto::CAP_OP_UPDATE && cap.op() != proto::CAP_OP_RELEASE) return out;
  Ctx c{session, kNoRequest, now_ns, false, {}, {}, {}, false};
  if (cap.dirty()) {
    Outcome o;
    const proto::InodeProto* ip = Inode(cap.ino(), &o);
    if (!ip && o.kind == Outcome::kNeedDir) return o;
    if (ip) {
      proto::InodeProto i = *ip;
      bool changed = false;
      if ((cap.dirty() & 1) && cap.size() != i.size()) {
        i.set_size(cap.size());
        changed = true;
      }
      if ((cap.dirty() & 2) && cap.mtime_ns() != i.mtime_ns()) {
        i.set_mtime_ns(cap.mtime_ns());
        changed = true;
      }
      if ((cap.dirty() & 4) && cap.atime_ns() != i.atime_ns()) {
        i.set_atime_ns(cap.atime_ns());
        changed = true;
      }
      if (changed) {
        i.set_ctime_ns(cap.dirty() & 8 ? cap.ctime_ns() : now_ns);
        if (IsLnk(i) || IsDir(i)) changed = false;  // only files carry data
      }
      if (changed) {
        // A stray keeps its inode in the stray dir; others where they live.
        PutInode(c, i);
      }
    }
  }
  if (cap.op() == proto::CAP_OP_UPDATE && cap.sync()) {
    CapMsg ack;
    ack.session = session;
    ack.after_journal = true;
    ack.cap.set_op(proto::CAP_OP_FLUSH_ACK);
    ack.cap.set_ino(cap.ino());
    ack.cap.set_seq(cap.seq());
    outbox_.push_back(ack);
  }
  if (cap.op() == proto::CAP_OP_RELEASE) {
    auto it = caps_.find(cap.ino());
    if (it != caps_.end()) {
      auto st = it->second.find(session);
      if (st != it->second.end()) {
        st->second.issued = cap.caps();
        st->second.revoking = false;
        if (cap.caps() == 0) {
          it->second.erase(st);
          if (it->second.empty()) caps_.erase(it);
        }
      }
    }
    ++wakes_;
    if (!caps_.count(cap.ino())) MaybePurgeStray(cap.ino());
  }
  if (c.mutated) {
    c.entry.set_seq(++seq_);
    c.entry.set_next_ino(cache_->next_ino());
    out.journal = std::move(c.entry);
  }
  return out;
}

Outcome MdsCore::OpSetlk(Ctx& c) {
  Outcome o;
  const proto::InodeProto* ip = Inode(c.req.ino(), &o);
  if (!ip) return o;
  proto::FileLockProto l = c.req.lock();
  if (l.type() > kUnLck) return Reply(c, EINVAL);
  l.set_session(c.session);
  if (l.type() != kUnLck && locks_.Conflict(ip->ino(), l)) {
    if (l.wait()) return Wait(c);
    return Reply(c, EAGAIN);
  }
  locks_.Set(ip->ino(), l);
  if (l.type() == kUnLck) ++wakes_;
  return Reply(c, 0);
}

Outcome MdsCore::OpGetlk(Ctx& c) {
  Outcome o;
  const proto::InodeProto* ip = Inode(c.req.ino(), &o);
  if (!ip) return o;
  proto::FileLockProto l = c.req.lock();
  l.set_session(c.session);
  if (const proto::FileLockProto* h = locks_.Conflict(ip->ino(), l)) {
    *c.out.reply.mutable_lock() = *h;
  } else {
    l.set_type(kUnLck);
    *c.out.reply.mutable_lock() = l;
  }
  return Reply(c, 0);
}

}  // namespace nacre::mds
