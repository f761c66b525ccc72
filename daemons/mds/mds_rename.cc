// MdsCore: RENAME (flags RENAME_NOREPLACE 1, RENAME_EXCHANGE 2).
//
// Rules, as rename(2): a directory may not move into its own subtree
// (EINVAL); replacing needs matching types (EISDIR / ENOTDIR) and an empty
// directory (ENOTEMPTY); renaming a name onto another link of the same inode
// does nothing; the sticky bit guards both the source and a replaced target.
#include <cerrno>

#include "daemons/mds/mds_core.h"

namespace nacre::mds {

namespace {
constexpr uint32_t kNoReplace = 1, kExchange = 2;
}

bool MdsCore::IsUnder(uint64_t ino, uint64_t anc, Outcome* o) {
  // Walks up from `ino` by parent_ino; every step is a directory inode.
  for (int depth = 0; depth < 4096; ++depth) {
    if (ino == anc) return true;
    if (ino == kRootIno || ino == 0) return false;
    const proto::InodeProto* i = Inode(ino, o);
    if (!i) return false;
    ino = i->parent_ino();
  }
  return false;
}

Outcome MdsCore::OpRename(Ctx& c) {
  Outcome o;
  uint32_t flags = c.req.flags();
  if ((flags & ~(kNoReplace | kExchange)) || ((flags & kNoReplace) && (flags & kExchange))) return Reply(c, EINVAL);
  const std::string &n1 = c.req.name(), &n2 = c.req.name2();
  if (n1 == "." || n1 == ".." || n2 == "." || n2 == "..") return Reply(c, EBUSY);
  if (int e = CheckName(n1)) return Reply(c, e);
  if (int e = CheckName(n2)) return Reply(c, e);
  const proto::InodeProto* p1p = Inode(c.req.ino(), &o);
  if (!p1p) return o;
  const proto::InodeProto* p2p = Inode(c.req.ino2(), &o);
  if (!p2p) return o;
  if (!IsDir(*p1p) || !IsDir(*p2p)) return Reply(c, ENOTDIR);
  CachedDir* d1 = Dir(c.req.ino(), &o);
  if (!d1) return o;
  CachedDir* d2 = Dir(c.req.ino2(), &o);
  if (!d2) return o;
  // Re-read: loading d2 may not move d1, but keep copies anyway.
  proto::InodeProto p1 = *Inode(c.req.ino(), &o), p2 = *Inode(c.req.ino2(), &o);
  auto s_it = d1->dentries.find(n1);
  if (s_it == d1->dentries.end()) return Reply(c, ENOENT);
  proto::DentryProto sdn = s_it->second;
  const proto::InodeProto* sp = cache_->DentryInode(sdn);
  if (!sp) return Reply(c, EIO);
  proto::InodeProto s = *sp;
  auto t_it = d2->dentries.find(n2);
  bool have_t = t_it != d2->dentries.end();
  proto::DentryProto tdn;
  proto::InodeProto t;
  if (have_t) {
    tdn = t_it->second;
    const proto::InodeProto* tp = cache_->DentryInode(tdn);
    if (!tp) return Reply(c, EIO);
    t = *tp;
  }
  if (!MayAccess(p1, c.caller, 3) || !MayAccess(p2, c.caller, 3)) return Reply(c, EACCES);
  if (StickyDenies(p1, s, c.caller)) return Reply(c, EPERM);
  if (have_t && StickyDenies(p2, t, c.caller)) return Reply(c, EPERM);
  if (flags & kExchange) {
    if (!have_t) return Reply(c, ENOENT);
  } else if (have_t && (flags & kNoReplace)) {
    return Reply(c, EEXIST);
  }
  if (p1.ino() == p2.ino() && n1 == n2) return Reply(c, 0);
  // Into its own subtree?
  if (IsDir(s) && p1.ino() != p2.ino()) {
    Outcome w;
    bool under = IsUnder(p2.ino(), s.ino(), &w);
    if (w.kind == Outcome::kNeedDir) return w;
    if (under) return Reply(c, EINVAL);
  }
  if ((flags & kExchange) && IsDir(t) && p1.ino() != p2.ino()) {
    Outcome w;
    bool under = IsUnder(p1.ino(), t.ino(), &w);
    if (w.kind == Outcome::kNeedDir) return w;
    if (under) return Reply(c, EINVAL);
  }
  // A directory moving to another parent rewrites its ".." (needs write on it).
  if (IsDir(s) && p1.ino() != p2.ino() && !MayAccess(s, c.caller, 2)) return Reply(c, EACCES);
  if (have_t && !(flags & kExchange)) {
    if (t.ino() == s.ino()) return Reply(c, 0);  // two links of one inode
    if (IsDir(s) && !IsDir(t)) return Reply(c, ENOTDIR);
    if (!IsDir(s) && IsDir(t)) return Reply(c, EISDIR);
    if (IsDir(t)) {
      CachedDir* td = Dir(t.ino(), &o);
      if (!td) return o;
      if (!td->dentries.empty()) return Reply(c, ENOTEMPTY);
    } else if (tdn.has_inode() || t.nlink() <= 1) {
      if (!cache_->HasDir(StrayIno(opts_.rank))) return Need(StrayIno(opts_.rank));
    }
  }

  // ---- checks done: mutate.
  auto moved = [&](proto::DentryProto dn, uint64_t new_parent) {
    if (dn.has_inode()) {
      dn.mutable_inode()->set_parent_ino(new_parent);
      dn.mutable_inode()->set_ctime_ns(c.now);
      dn.mutable_inode()->set_version(dn.inode().version() + 1);
    }
    return dn;
  };
  if (flags & kExchange) {
    SetDentry(c, p1.ino(), n1, moved(tdn, p1.ino()));
    SetDentry(c, p2.ino(), n2, moved(sdn, p2.ino()));
    int links = (IsDir(s) ? 1 : 0) - (IsDir(t) ? 1 : 0);
    if (p1.ino() != p2.ino()) {
      TouchDir(c, p1.ino(), 0, -links);
      TouchDir(c, p2.ino(), 0, links);
    } else {
      TouchDir(c, p1.ino(), 0, 0);
    }
    *c.out.reply.mutable_target() = s;
    return Reply(c, 0);
  }
  RmDentry(c, p1.ino(), n1);
  SetDentry(c, p2.ino(), n2, moved(sdn, p2.ino()));
  int dir_link = IsDir(s) ? 1 : 0;
  if (have_t && IsDir(t)) dir_link -= 1;  // the replaced empty dir goes
  if (p1.ino() != p2.ino()) {
    TouchDir(c, p1.ino(), -1, IsDir(s) ? -1 : 0);
    TouchDir(c, p2.ino(), have_t ? 0 : 1, dir_link);
  } else {
    TouchDir(c, p1.ino(), have_t ? -1 : 0, have_t && IsDir(t) ? -1 : 0);
  }
  if (have_t && !IsDir(t)) {
    Outcome* stop = DropLink(c, t, !tdn.has_inode());
    if (stop) return std::move(*stop);
  }
  if (!sdn.has_inode()) {
    // A remote inode's ctime lives in the table.
    proto::InodeProto r = s;
    r.set_ctime_ns(c.now);
    PutInode(c, r);
  }
  Outcome dummy;
  if (const proto::InodeProto* now = Inode(s.ino(), &dummy)) *c.out.reply.mutable_target() = *now;
  return Reply(c, 0);
}

}  // namespace nacre::mds
