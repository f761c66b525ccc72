// nacre-fuse's low-level operations (see fuse_ops.h).
#include "client/fuse_ops.h"
#include "client/fuse_util.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/log.h"

namespace nacre::fuse {

namespace {

// --- init and inodes ------------------------------------------------------------------

void OpInit(void*, fuse_conn_info* conn) {
  // Locks are held by the MDS, so they work across clients.
  if (conn->capable & FUSE_CAP_POSIX_LOCKS) conn->want |= FUSE_CAP_POSIX_LOCKS;
  if (conn->capable & FUSE_CAP_FLOCK_LOCKS) conn->want |= FUSE_CAP_FLOCK_LOCKS;
  // Write-through: the kernel never holds dirty pages we do not know about.
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  conn->max_write = 1u << 20;
  conn->max_read = 1u << 20;
  conn->max_readahead = 1u << 20;
}

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto r = Fs(req).Lookup(CallerOf(req), ToFs(req, parent), name);
  if (!r.ok() && r.status().code() == Code::kNotFound) {
    // A negative entry cached for entry_timeout (0: not at all).
    fuse_entry_param e;
    std::memset(&e, 0, sizeof(e));
    e.entry_timeout = Ctx(req)->entry_timeout;
    fuse_reply_entry(req, &e);
    return;
  }
  ReplyEntry(req, r);
}

void OpForget(fuse_req_t req, fuse_ino_t, uint64_t) { fuse_reply_none(req); }
void OpForgetMulti(fuse_req_t req, size_t, fuse_forget_data*) { fuse_reply_none(req); }

void OpGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  auto r = Fs(req).Getattr(CallerOf(req), ToFs(req, ino));
  if (!r.ok()) return (void)fuse_reply_err(req, Err(r.status()));
  struct stat st = ToStat(req, *r);
  fuse_reply_attr(req, &st, Ctx(req)->attr_timeout);
}

int64_t Ns(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec; }

void OpSetattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
  proto::SetattrProto sa;
  uint32_t mask = 0;
  if (to_set & FUSE_SET_ATTR_MODE) mask |= fs::kSetMode, sa.set_mode(attr->st_mode & 07777);
  if (to_set & FUSE_SET_ATTR_UID) mask |= fs::kSetUid, sa.set_uid(attr->st_uid);
  if (to_set & FUSE_SET_ATTR_GID) mask |= fs::kSetGid, sa.set_gid(attr->st_gid);
  if (to_set & FUSE_SET_ATTR_SIZE) mask |= fs::kSetSize, sa.set_size(static_cast<uint64_t>(attr->st_size));
  if (to_set & FUSE_SET_ATTR_ATIME_NOW) mask |= fs::kSetAtimeNow;
  else if (to_set & FUSE_SET_ATTR_ATIME) mask |= fs::kSetAtime, sa.set_atime_ns(Ns(attr->st_atim));
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) mask |= fs::kSetMtimeNow;
  else if (to_set & FUSE_SET_ATTR_MTIME) mask |= fs::kSetMtime, sa.set_mtime_ns(Ns(attr->st_mtim));
  if (to_set & FUSE_SET_ATTR_CTIME) mask |= fs::kSetCtime, sa.set_ctime_ns(Ns(attr->st_ctim));
  // A truncate also moves mtime (POSIX), unless the caller set one.
  if ((mask & fs::kSetSize) && !(mask & (fs::kSetMtime | fs::kSetMtimeNow))) mask |= fs::kSetMtimeNow;
  sa.set_mask(mask);
  auto r = Fs(req).Setattr(CallerOf(req), ToFs(req, ino), sa);
  if (!r.ok()) return (void)fuse_reply_err(req, Err(r.status()));
  struct stat st = ToStat(req, *r);
  fuse_reply_attr(req, &st, Ctx(req)->attr_timeout);
}

void OpReadlink(fuse_req_t req, fuse_ino_t ino) {
  auto r = Fs(req).Getattr(CallerOf(req), ToFs(req, ino));
  if (!r.ok()) return (void)fuse_reply_err(req, Err(r.status()));
  if ((r->mode() & S_IFMT) != S_IFLNK) return (void)fuse_reply_err(req, EINVAL);
  fuse_reply_readlink(req, r->symlink().c_str());
}

void OpMknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  ReplyEntry(req, Fs(req).Mknod(CallerOf(req), ToFs(req, parent), name, mode, static_cast<uint32_t>(rdev)));
}

void OpMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  ReplyEntry(req, Fs(req).Mkdir(CallerOf(req), ToFs(req, parent), name, mode | S_IFDIR));
}

void OpSymlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name) {
  ReplyEntry(req, Fs(req).Symlink(CallerOf(req), ToFs(req, parent), name, link));
}

void OpUnlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  ReplyStatus(req, Fs(req).Unlink(CallerOf(req), ToFs(req, parent), name));
}

void OpRmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  ReplyStatus(req, Fs(req).Rmdir(CallerOf(req), ToFs(req, parent), name));
}

void OpRename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent, const char* newname,
              unsigned int flags) {
  ReplyStatus(req, Fs(req).Rename(CallerOf(req), ToFs(req, parent), name, ToFs(req, newparent), newname, flags));
}

void OpLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
  ReplyEntry(req, Fs(req).Link(CallerOf(req), ToFs(req, ino), ToFs(req, newparent), newname));
}

// --- files ----------------------------------------------------------------------------

void OpCreate(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
  uint64_t fh = 0;
  auto r = Fs(req).Create(CallerOf(req), ToFs(req, parent), name, mode | S_IFREG, fi->flags, &fh);
  if (!r.ok()) return (void)fuse_reply_err(req, Err(r.status()));
  fi->fh = fh;
  fi->keep_cache = 0;
  fuse_entry_param e = Entry(req, *r);
  if (fuse_reply_create(req, &e, fi) != 0) (void)Fs(req).Release(fh);
}

void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  uint64_t fh = 0;
  auto r = Fs(req).Open(CallerOf(req), ToFs(req, ino), fi->flags, &fh);
  if (!r.ok()) return (void)fuse_reply_err(req, Err(r.status()));
  fi->fh = fh;
  fi->keep_cache = 0;
  if (fuse_reply_open(req, fi) != 0) (void)Fs(req).Release(fh);
}

void OpRead(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  auto r = Fs(req).Read(CallerOf(req), fi->fh, static_cast<uint64_t>(off), size);
  if (!r.ok()) return (void)fuse_reply_err(req, Err(r.status()));
  fuse_reply_buf(req, r->data(), r->size());
}

void OpWrite(fuse_req_t req, fuse_ino_t, const char* buf, size_t size, off_t off, fuse_file_info* fi) {
  auto r = Fs(req).Write(CallerOf(req), fi->fh, static_cast<uint64_t>(off), std::string_view(buf, size));
  if (!r.ok()) return (void)fuse_reply_err(req, Err(r.status()));
  fuse_reply_write(req, *r);
}

proto::FileLockProto UnlockAll(uint64_t owner, bool flock) {
  proto::FileLockProto l;
  l.set_type(F_UNLCK);
  l.set_start(0);
  l.set_length(0);
  l.set_owner(owner);
  l.set_flock(flock);
  return l;
}

void OpFlush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  // close(2): POSIX locks of this owner go, and the size reaches the MDS
  // before close returns (another client opening next sees it).
  Status s = Fs(req).Flush(fi->fh);
  if (fi->lock_owner && Fs(req).MayHoldLocks(ToFs(req, ino))) (void)Fs(req).SetLk(CallerOf(req), ToFs(req, ino), UnlockAll(fi->lock_owner, false));
  ReplyStatus(req, s);
}

void OpRelease(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  if (fi->flock_release && Fs(req).MayHoldLocks(ToFs(req, ino))) (void)Fs(req).SetLk(CallerOf(req), ToFs(req, ino), UnlockAll(fi->lock_owner, true));
  ReplyStatus(req, Fs(req).Release(fi->fh));
}

void OpFsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info* fi) { ReplyStatus(req, Fs(req).Fsync(fi->fh)); }

void OpFallocate(fuse_req_t req, fuse_ino_t, int mode, off_t off, off_t len, fuse_file_info* fi) {
  ReplyStatus(req, Fs(req).Fallocate(CallerOf(req), fi->fh, mode, static_cast<uint64_t>(off),
                                     static_cast<uint64_t>(len)));
}

void OpCopyFileRange(fuse_req_t req, fuse_ino_t, off_t off_in, fuse_file_info* fi_in, fuse_ino_t, off_t off_out,
                     fuse_file_info* fi_out, size_t len, int) {
  // Through the client: read a chunk, write it, until done or EOF.
  Caller c = CallerOf(req);
  size_t done = 0;
  while (done < len) {
    size_t n = std::min<size_t>(len - done, 1u << 20);
    auto r = Fs(req).Read(c, fi_in->fh, static_cast<uint64_t>(off_in) + done, n);
    if (!r.ok()) return (void)fuse_reply_err(req, Err(r.status()));
    if (r->empty()) break;
    auto w = Fs(req).Write(c, fi_out->fh, static_cast<uint64_t>(off_out) + done, *r);
    if (!w.ok()) return (void)fuse_reply_err(req, Err(w.status()));
    done += r->size();
    if (r->size() < n) break;
  }
  fuse_reply_write(req, done);
}

// --- locks ----------------------------------------------------------------------------

proto::FileLockProto ToLock(const struct flock* l, fuse_file_info* fi) {
  proto::FileLockProto p;
  p.set_type(static_cast<uint32_t>(l->l_type));
  p.set_start(static_cast<uint64_t>(l->l_start));
  p.set_length(static_cast<uint64_t>(l->l_len));
  p.set_owner(fi->lock_owner);
  p.set_pid(l->l_pid);
  return p;
}

void OpGetlk(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, struct flock* lock) {
  auto r = Fs(req).GetLk(CallerOf(req), ToFs(req, ino), ToLock(lock, fi));
  if (!r.ok()) return (void)fuse_reply_err(req, Err(r.status()));
  struct flock out = *lock;
  out.l_type = static_cast<short>(r->type());
  if (r->type() != F_UNLCK) {
    out.l_start = static_cast<off_t>(r->start());
    out.l_len = static_cast<off_t>(r->length());
    out.l_pid = r->pid();
  }
  fuse_reply_lock(req, &out);
}

void OpSetlk(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, struct flock* lock, int sleep) {
  proto::FileLockProto l = ToLock(lock, fi);
  l.set_wait(sleep != 0);
  ReplyStatus(req, Fs(req).SetLk(CallerOf(req), ToFs(req, ino), l));
}

void OpFlock(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, int op) {
  proto::FileLockProto l = UnlockAll(fi->lock_owner, true);
  if (op & LOCK_SH) l.set_type(F_RDLCK);
  if (op & LOCK_EX) l.set_type(F_WRLCK);
  l.set_wait(!(op & LOCK_NB));
  Status s = Fs(req).SetLk(CallerOf(req), ToFs(req, ino), l);
  ReplyStatus(req, s.ok() || s.code() != Code::kAgain ? s : Status(Code::kAgain, "would block"));
}

}  // namespace

void RegisterDirOps(fuse_lowlevel_ops* ops);  // fuse_dir_ops.cc

const fuse_lowlevel_ops& Operations() {
  static const fuse_lowlevel_ops ops = [] {
    fuse_lowlevel_ops o;
    std::memset(&o, 0, sizeof(o));
    o.init = OpInit;
    o.lookup = OpLookup;
    o.forget = OpForget;
    o.forget_multi = OpForgetMulti;
    o.getattr = OpGetattr;
    o.setattr = OpSetattr;
    o.readlink = OpReadlink;
    o.mknod = OpMknod;
    o.mkdir = OpMkdir;
    o.symlink = OpSymlink;
    o.unlink = OpUnlink;
    o.rmdir = OpRmdir;
    o.rename = OpRename;
    o.link = OpLink;
    o.create = OpCreate;
    o.open = OpOpen;
    o.read = OpRead;
    o.write = OpWrite;
    o.flush = OpFlush;
    o.release = OpRelease;
    o.fsync = OpFsync;
    o.fallocate = OpFallocate;
    o.copy_file_range = OpCopyFileRange;
    o.getlk = OpGetlk;
    o.setlk = OpSetlk;
    o.flock = OpFlock;
    RegisterDirOps(&o);
    return o;
  }();
  return ops;
}

}  // namespace nacre::fuse
