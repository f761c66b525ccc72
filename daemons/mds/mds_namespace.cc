// MdsCore: ops that create and remove names (MKNOD, MKDIR, SYMLINK, CREATE,
// OPEN, UNLINK, RMDIR, LINK).
#include <fcntl.h>

#include <cerrno>

#include "common/check.h"
#include "daemons/mds/mds_core.h"

namespace nacre::mds {

Outcome MdsCore::OpMake(Ctx& c) {
  Outcome o;
  const proto::InodeProto* pp = Inode(c.req.ino(), &o);
  if (!pp) return o;
  if (!IsDir(*pp)) return Reply(c, ENOTDIR);
  const std::string& name = c.req.name();
  if (name == "." || name == "..") return Reply(c, EEXIST);
  if (int e = CheckName(name)) return Reply(c, e);
  CachedDir* d = Dir(c.req.ino(), &o);
  if (!d) return o;
  proto::InodeProto parent = *pp;
  if (!MayAccess(parent, c.caller, 3)) return Reply(c, EACCES);
  if (d->dentries.count(name)) return Reply(c, EEXIST);
  uint32_t mode = c.req.mode() & 07777;
  bool is_dir = false;
  switch (c.req.op()) {
    case proto::MDS_OP_MKDIR:
      mode = (mode & 07777) | 0040000;
      is_dir = true;
      break;
    case proto::MDS_OP_SYMLINK:
      if (c.req.symlink().empty()) return Reply(c, ENOENT);
      if (c.req.symlink().size() > 4095) return Reply(c, ENAMETOOLONG);
      mode = 0120777;
      break;
    default: {
      uint32_t type = c.req.mode() & 0170000;
      if (type == 0) type = 0100000;
      if (type == 0040000 || type == 0120000) return Reply(c, EINVAL);
      if (type != 0100000 && type != 0020000 && type != 0060000 && type != 0010000 && type != 0140000)
        return Reply(c, EINVAL);
      if ((type == 0020000 || type == 0060000) && c.caller.uid != 0) return Reply(c, EPERM);
      mode |= type;
    }
  }
  proto::InodeProto i = NewInode(c, parent, mode);
  if (c.req.op() == proto::MDS_OP_SYMLINK) {
    i.set_symlink(c.req.symlink());
    i.set_size(c.req.symlink().size());
  }
  if (c.req.op() == proto::MDS_OP_MKNOD) i.set_rdev(c.req.rdev());
  proto::DentryProto dn;
  *dn.mutable_inode() = i;
  SetDentry(c, parent.ino(), name, dn);
  TouchDir(c, parent.ino(), 1, is_dir ? 1 : 0);
  *c.out.reply.mutable_target() = i;
  return Reply(c, 0);
}

Outcome MdsCore::OpCreate(Ctx& c) {
  Outcome o;
  const proto::InodeProto* pp = Inode(c.req.ino(), &o);
  if (!pp) return o;
  if (!IsDir(*pp)) return Reply(c, ENOTDIR);
  const std::string& name = c.req.name();
  if (int e = CheckName(name)) return Reply(c, e);
  CachedDir* d = Dir(c.req.ino(), &o);
  if (!d) return o;
  proto::InodeProto parent = *pp;
  if (!MayAccess(parent, c.caller, 1)) return Reply(c, EACCES);
  auto it = d->dentries.find(name);
  if (it != d->dentries.end()) {
    if (c.req.flags() & O_EXCL) return Reply(c, EEXIST);
    const proto::InodeProto* t = cache_->DentryInode(it->second);
    if (!t) return Reply(c, EIO);
    if (IsDir(*t)) return Reply(c, EISDIR);
    return OpenExisting(c, *t, c.req.flags(), false);
  }
  if (!MayAccess(parent, c.caller, 3)) return Reply(c, EACCES);
  proto::InodeProto i = NewInode(c, parent, (c.req.mode() & 07777) | 0100000);
  proto::DentryProto dn;
  *dn.mutable_inode() = i;
  SetDentry(c, parent.ino(), name, dn);
  TouchDir(c, parent.ino(), 1, 0);
  return OpenExisting(c, i, c.req.flags() & ~static_cast<uint32_t>(O_TRUNC), true);
}

Outcome MdsCore::OpOpen(Ctx& c) {
  Outcome o;
  const proto::InodeProto* i = Inode(c.req.ino(), &o);
  if (!i) return o;
  if (IsDir(*i) && (c.req.flags() & O_ACCMODE) != O_RDONLY) return Reply(c, EISDIR);
  return OpenExisting(c, *i, c.req.flags(), false);
}

Outcome MdsCore::OpenExisting(Ctx& c, proto::InodeProto i, uint32_t flags, bool created) {
  uint32_t acc = flags & O_ACCMODE;
  bool write = acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC);
  if (!created) {
    int want = (acc == O_RDONLY ? 4 : acc == O_WRONLY ? 2 : 6) | ((flags & O_TRUNC) ? 2 : 0);
    if (!MayAccess(i, c.caller, want)) return Reply(c, EACCES);
    // Another client's buffered size must land first; a writer also stops
    // others from caching data.
    if (RevokeOthers(i.ino(), c.session, write ? (16 | 4) : 16)) return Wait(c);
  }
  if (!created && (flags & O_TRUNC) && IsReg(i) && i.size() > 0) {
    if (!c.data_truncated) {
      Outcome t;
      t.kind = Outcome::kTruncate;
      t.truncate_inode = i;
      t.truncate_to = 0;
      return t;
    }
    i.set_size(0);
    i.set_truncate_seq(i.truncate_seq() + 1);
    i.set_mtime_ns(c.now);
    i.set_ctime_ns(c.now);
    PutInode(c, i);
    Outcome dummy;
    const proto::InodeProto* now = Inode(i.ino(), &dummy);
    if (now) i = *now;
  }
  uint64_t seq = 0;
  if (IsReg(i)) {
    c.out.reply.set_caps(GrantOpen(i.ino(), c.session, write, &seq));
    c.out.reply.set_cap_seq(seq);
  }
  *c.out.reply.mutable_target() = i;
  return Reply(c, 0);
}

Outcome MdsCore::OpUnlink(Ctx& c) {
  bool rmdir = c.req.op() == proto::MDS_OP_RMDIR;
  Outcome o;
  const proto::InodeProto* pp = Inode(c.req.ino(), &o);
  if (!pp) return o;
  if (!IsDir(*pp)) return Reply(c, ENOTDIR);
  const std::string& name = c.req.name();
  if (rmdir && name == ".") return Reply(c, EINVAL);
  if (rmdir && name == "..") return Reply(c, ENOTEMPTY);
  if (int e = CheckName(name)) return Reply(c, e);
  CachedDir* d = Dir(c.req.ino(), &o);
  if (!d) return o;
  proto::InodeProto parent = *pp;
  auto it = d->dentries.find(name);
  if (it == d->dentries.end()) return Reply(c, ENOENT);
  proto::DentryProto dn = it->second;
  const proto::InodeProto* tp = cache_->DentryInode(dn);
  if (!tp) return Reply(c, EIO);
  proto::InodeProto t = *tp;
  if (!MayAccess(parent, c.caller, 3)) return Reply(c, EACCES);
  if (StickyDenies(parent, t, c.caller)) return Reply(c, EPERM);
  if (rmdir) {
    if (!IsDir(t)) return Reply(c, ENOTDIR);
    CachedDir* victim = Dir(t.ino(), &o);
    if (!victim) return o;
    if (!victim->dentries.empty()) return Reply(c, ENOTEMPTY);
  } else if (IsDir(t)) {
    return Reply(c, EISDIR);
  }
  if (!rmdir && (dn.has_inode() || t.nlink() <= 1)) {
    // The last link may go to the stray dir, which must be loaded.
    if (!cache_->HasDir(StrayIno(opts_.rank))) return Need(StrayIno(opts_.rank));
  }
  RmDentry(c, parent.ino(), name);
  TouchDir(c, parent.ino(), -1, rmdir ? -1 : 0);
  if (!rmdir) {
    Outcome* stop = DropLink(c, t, !dn.has_inode());
    if (stop) return std::move(*stop);
  }
  return Reply(c, 0);
}

Outcome* MdsCore::DropLink(Ctx& c, const proto::InodeProto& in, bool was_remote) {
  proto::InodeProto i = in;
  // A primary dentry is the only link by construction.
  i.set_nlink(was_remote && i.nlink() > 0 ? i.nlink() - 1 : 0);
  i.set_ctime_ns(c.now);
  i.set_version(i.version() + 1);
  if (i.nlink() > 0) {
    proto::MetaOp op;
    *op.mutable_remote_inode_set() = i;
    AddOp(c, std::move(op));
    return nullptr;
  }
  if (was_remote) {
    proto::MetaOp op;
    op.set_remote_inode_rm(i.ino());
    AddOp(c, std::move(op));
  }
  auto held = caps_.find(i.ino());
  if (held != caps_.end() && !held->second.empty()) {
    // Still open somewhere: keep it in the stray dir until the last close.
    proto::DentryProto dn;
    i.set_parent_ino(StrayIno(opts_.rank));
    *dn.mutable_inode() = i;
    SetDentry(c, StrayIno(opts_.rank), InoHex(i.ino()), dn);
    return nullptr;
  }
  if (IsReg(i)) {
    proto::MetaOp op;
    *op.mutable_purge_inode() = i;
    AddOp(c, std::move(op));
  }
  return nullptr;
}

Outcome MdsCore::OpLink(Ctx& c) {
  Outcome o;
  const proto::InodeProto* tp = Inode(c.req.ino2(), &o);
  if (!tp) return o;
  proto::InodeProto t = *tp;
  const proto::InodeProto* pp = Inode(c.req.ino(), &o);
  if (!pp) return o;
  proto::InodeProto parent = *pp;
  if (!IsDir(parent)) return Reply(c, ENOTDIR);
  if (IsDir(t)) return Reply(c, EPERM);
  const std::string& name = c.req.name();
  if (name == "." || name == "..") return Reply(c, EEXIST);
  if (int e = CheckName(name)) return Reply(c, e);
  CachedDir* d = Dir(parent.ino(), &o);
  if (!d) return o;
  if (!MayAccess(parent, c.caller, 3)) return Reply(c, EACCES);
  if (d->dentries.count(name)) return Reply(c, EEXIST);
  if (t.nlink() == 0) return Reply(c, ENOENT);  // unlinked but open
  if (t.nlink() >= 65000) return Reply(c, EMLINK);
  bool remote = cache_->remote().count(t.ino()) > 0;
  uint64_t old_parent = 0;
  std::string old_name;
  if (!remote) {
    if (!cache_->Where(t.ino(), &old_parent, &old_name)) return Reply(c, ESTALE);
    if (!Dir(old_parent, &o)) return o;
  }
  t.set_nlink(t.nlink() + 1);
  t.set_ctime_ns(c.now);
  t.set_version(t.version() + 1);
  proto::MetaOp op;
  *op.mutable_remote_inode_set() = t;
  AddOp(c, std::move(op));
  proto::DentryProto rd;
  rd.set_remote_ino(t.ino());
  rd.set_remote_type(t.mode() & 0170000);
  if (!remote) SetDentry(c, old_parent, old_name, rd);  // the primary becomes remote too
  SetDentry(c, parent.ino(), name, rd);
  TouchDir(c, parent.ino(), 1, 0);
  *c.out.reply.mutable_target() = t;
  return Reply(c, 0);
}

}  // namespace nacre::mds
