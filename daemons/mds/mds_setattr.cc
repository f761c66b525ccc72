// MdsCore: SETATTR and FALLOCATE.
//
// Permission rules, as the kernel's: chmod and explicit times only by the
// owner or root (EPERM); "now" times also by anyone with write permission
// (else EACCES); chown of the uid only by root; chgrp by root or by the
// owner to a group it is in. A non-root chmod to a group the caller is not
// in drops S_ISGID. chown/chgrp clears S_ISUID, and S_ISGID when the group
// may execute, on non-directories. Truncating down removes the data past
// the new size first (Outcome::kTruncate) and bumps truncate_seq.
#include <cerrno>

#include "daemons/mds/mds_core.h"

namespace nacre::mds {

namespace {
enum : uint32_t {
  kMode = 1, kUid = 2, kGid = 4, kSize = 8, kAtime = 16, kMtime = 32, kAtimeNow = 64, kMtimeNow = 128, kCtime = 256
};
}

Outcome MdsCore::OpSetattr(Ctx& c) {
  Outcome o;
  const proto::InodeProto* ip = Inode(c.req.ino(), &o);
  if (!ip) return o;
  proto::InodeProto i = *ip;
  const auto& sa = c.req.setattr();
  uint32_t mask = sa.mask();
  bool root = c.caller.uid == 0, owner = c.caller.uid == i.uid();
  if (mask & kMode && !root && !owner) return Reply(c, EPERM);
  if (mask & kUid && sa.uid() != i.uid() && !root) return Reply(c, EPERM);
  if (mask & kGid && sa.gid() != i.gid() && !root && !(owner && c.caller.InGroup(sa.gid()))) return Reply(c, EPERM);
  if (mask & (kAtime | kMtime | kCtime) && !root && !owner) return Reply(c, EPERM);
  if (mask & (kAtimeNow | kMtimeNow) && !root && !owner && !MayAccess(i, c.caller, 2)) return Reply(c, EACCES);
  if (mask & kSize) {
    if (IsDir(i)) return Reply(c, EISDIR);
    if (!IsReg(i)) return Reply(c, EINVAL);
    if (!MayAccess(i, c.caller, 2) && !root) return Reply(c, EACCES);
  }
  // Another client's buffered size and mtime must land before they change.
  if (RevokeOthers(i.ino(), c.session, 16)) return Wait(c);
  if (mask & kSize && sa.size() < i.size() && !c.data_truncated) {
    Outcome t;
    t.kind = Outcome::kTruncate;
    t.truncate_inode = i;
    t.truncate_to = sa.size();
    return t;
  }
  if (mask & kMode) {
    uint32_t mode = sa.mode() & 07777;
    if (!root && !c.caller.InGroup(i.gid())) mode &= ~02000u;
    i.set_mode((i.mode() & 0170000) | mode);
  }
  bool chown = (mask & kUid && sa.uid() != i.uid()) || (mask & kGid && sa.gid() != i.gid());
  if (mask & kUid) i.set_uid(sa.uid());
  if (mask & kGid) i.set_gid(sa.gid());
  if (chown && !IsDir(i)) {
    uint32_t m = i.mode() & ~04000u;
    if (m & 010) m &= ~02000u;
    i.set_mode(m);
  }
  if (mask & kSize) {
    if (sa.size() < i.size()) i.set_truncate_seq(i.truncate_seq() + 1);
    if (sa.size() != i.size() || !(mask & (kMtime | kMtimeNow))) i.set_mtime_ns(c.now);
    i.set_size(sa.size());
  }
  if (mask & kAtime) i.set_atime_ns(sa.atime_ns());
  if (mask & kMtime) i.set_mtime_ns(sa.mtime_ns());
  if (mask & kAtimeNow) i.set_atime_ns(c.now);
  if (mask & kMtimeNow) i.set_mtime_ns(c.now);
  i.set_ctime_ns(mask & kCtime ? sa.ctime_ns() : c.now);
  PutInode(c, i);
  Outcome dummy;
  if (const proto::InodeProto* now = Inode(i.ino(), &dummy)) *c.out.reply.mutable_target() = *now;
  return Reply(c, 0);
}

Outcome MdsCore::OpFallocate(Ctx& c) {
  Outcome o;
  const proto::InodeProto* ip = Inode(c.req.ino(), &o);
  if (!ip) return o;
  proto::InodeProto i = *ip;
  if (IsDir(i)) return Reply(c, EISDIR);
  if (!IsReg(i)) return Reply(c, ENODEV);
  if (!MayAccess(i, c.caller, 2)) return Reply(c, EBADF);
  if (RevokeOthers(i.ino(), c.session, 16)) return Wait(c);
  uint64_t end = c.req.offset() + c.req.length();
  if (end < c.req.offset()) return Reply(c, EFBIG);
  if (end > i.size()) {
    i.set_size(end);
    i.set_mtime_ns(c.now);
    i.set_ctime_ns(c.now);
    PutInode(c, i);
  }
  Outcome dummy;
  if (const proto::InodeProto* now = Inode(i.ino(), &dummy)) *c.out.reply.mutable_target() = *now;
  return Reply(c, 0);
}

}  // namespace nacre::mds
