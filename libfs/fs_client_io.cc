// FsClient: file data (read, write, fallocate), directories, xattrs,
// statfs and locks. The cap bookkeeping these rely on is in fs_client.cc.
#include <fcntl.h>
#include <linux/falloc.h>

#include <chrono>

#include "common/log.h"
#include "libfs/fs_client.h"

namespace nacre::fs {

namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr uint32_t kFb = proto::CAP_FILE_BUFFER;
constexpr uint32_t kDirtySize = 1, kDirtyMtime = 2;

}  // namespace

Result<std::string> FsClient::Read(const Caller& c, uint64_t fh, uint64_t off, uint64_t len) {
  uint64_t ino = InoOf(fh);
  if (!ino) return Invalid("bad file handle");
  proto::FileLayoutProto layout;
  uint64_t size = 0;
  bool local = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    const InodeState& st = inodes_[ino];
    layout = st.inode.layout();
    if (st.caps & kFb) {
      size = st.size;
      local = true;
    }
  }
  if (!local) {
    // Another client may be writing: its size is at the MDS.
    NACRE_ASSIGN_OR_RETURN(proto::InodeProto in, Getattr(c, ino));
    size = in.size();
    layout = in.layout();
  }
  return io_->Read(ino, layout, size, off, len);
}

Result<size_t> FsClient::Write(const Caller& c, uint64_t fh, uint64_t off, std::string_view data) {
  uint64_t ino = InoOf(fh);
  if (!ino) return Invalid("bad file handle");
  if (off > kMaxFileSize || data.size() > kMaxFileSize - off) return FileTooBig(off, data.size());
  proto::FileLayoutProto layout;
  {
    std::lock_guard<std::mutex> g(mu_);
    layout = inodes_[ino].inode.layout();
  }
  NACRE_RETURN_IF_ERROR(io_->Write(ino, layout, off, data));
  uint64_t end = off + data.size();
  {
    std::lock_guard<std::mutex> g(mu_);
    InodeState& st = inodes_[ino];
    if (st.caps & kFb) {
      if (end > st.size) {
        st.size = end;
        st.dirty |= kDirtySize;
      }
      st.mtime_ns = NowNs();
      st.dirty |= kDirtyMtime;
      return data.size();
    }
  }
  // No Fb: the MDS must learn the new size (and mtime) before we answer.
  // Another client may have grown the file further: never send a smaller size.
  NACRE_ASSIGN_OR_RETURN(proto::InodeProto cur, Getattr(c, ino));
  uint32_t dirty = kDirtyMtime;
  if (end > cur.size()) dirty |= kDirtySize;
  NACRE_RETURN_IF_ERROR(SyncUpdate(ino, std::max(end, cur.size()), NowNs(), dirty));
  return data.size();
}

Status FsClient::Fallocate(const Caller& c, uint64_t fh, int mode, uint64_t off, uint64_t len) {
  uint64_t ino = InoOf(fh);
  if (!ino) return Invalid("bad file handle");
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
    return Status(Code::kNotSupported, "fallocate mode not supported");
  if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE)) return Invalid("punch hole needs keep size");
  if (!(mode & FALLOC_FL_KEEP_SIZE) && (off > kMaxFileSize || len > kMaxFileSize - off)) return FileTooBig(off, len);
  NACRE_ASSIGN_OR_RETURN(uint64_t size, CurrentSize(c, ino));
  proto::FileLayoutProto layout;
  {
    std::lock_guard<std::mutex> g(mu_);
    layout = inodes_[ino].inode.layout();
  }
  if (mode & FALLOC_FL_PUNCH_HOLE) {
    if (off >= size) return Status::OK();
    NACRE_RETURN_IF_ERROR(io_->Zero(ino, layout, off, std::min(len, size - off)));
  } else if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > size) {
    // Space is not reserved (objects are sparse); only the size grows.
    {
      std::lock_guard<std::mutex> g(mu_);
      InodeState& st = inodes_[ino];
      if (st.caps & kFb) {
        st.size = std::max(st.size, off + len);
        st.dirty |= kDirtySize;
        return Status::OK();
      }
    }
    // Without Fb another client may be growing the file too: FALLOCATE
    // only ever grows it at the MDS, where a SETATTR to off + len could
    // shrink it (and cut that client's data) had it grown meanwhile. As
    // root: the open for writing was the permission check (as ftruncate).
    proto::MdsRequest req;
    req.set_op(proto::MDS_OP_FALLOCATE);
    req.set_ino(ino);
    req.set_offset(off);
    req.set_length(len);
    req.set_flags(static_cast<uint32_t>(mode));
    NACRE_ASSIGN_OR_RETURN(proto::MdsReply r, Call(Caller{}, std::move(req)));
    std::lock_guard<std::mutex> g(mu_);
    InodeState& st = inodes_[ino];
    st.inode = r.target();
    return Status::OK();
  }
  // Punching a hole changes the file: mtime like a write.
  std::lock_guard<std::mutex> g(mu_);
  InodeState& st = inodes_[ino];
  if (mode & FALLOC_FL_PUNCH_HOLE) {
    st.mtime_ns = NowNs();
    if (st.caps & kFb) st.dirty |= kDirtyMtime;
  }
  return Status::OK();
}

// --- directories, xattrs, statfs, locks ----------------------------------------------

Result<std::vector<proto::DirEntryProto>> FsClient::ReadDir(const Caller& c, uint64_t ino, const std::string& after,
                                                           uint32_t max, bool* more) {
  proto::MdsRequest req;
  req.set_op(proto::MDS_OP_READDIR);
  req.set_ino(ino);
  req.set_readdir_after(after);
  req.set_readdir_max(max);
  NACRE_ASSIGN_OR_RETURN(proto::MdsReply r, Call(c, std::move(req)));
  *more = r.more();
  std::vector<proto::DirEntryProto> out(r.entries().begin(), r.entries().end());
  for (auto& e : out) Overlay(e.mutable_inode());
  return out;
}

Status FsClient::SetXattr(const Caller& c, uint64_t ino, const std::string& name, const std::string& value,
                          int flags) {
  proto::MdsRequest req;
  req.set_op(proto::MDS_OP_SETXATTR);
  req.set_ino(ino);
  req.set_xattr_name(name);
  req.set_xattr_value(value);
  req.set_flags(static_cast<uint32_t>(flags));
  return Call(c, std::move(req)).status();
}

Result<std::string> FsClient::GetXattr(const Caller& c, uint64_t ino, const std::string& name) {
  proto::MdsRequest req;
  req.set_op(proto::MDS_OP_GETXATTR);
  req.set_ino(ino);
  req.set_xattr_name(name);
  NACRE_ASSIGN_OR_RETURN(proto::MdsReply r, Call(c, std::move(req)));
  return r.xattr_value();
}

Result<std::vector<std::string>> FsClient::ListXattr(const Caller& c, uint64_t ino) {
  proto::MdsRequest req;
  req.set_op(proto::MDS_OP_LISTXATTR);
  req.set_ino(ino);
  NACRE_ASSIGN_OR_RETURN(proto::MdsReply r, Call(c, std::move(req)));
  std::vector<std::string> names;
  for (const auto& e : r.entries()) names.push_back(e.name());
  return names;
}

Status FsClient::RemoveXattr(const Caller& c, uint64_t ino, const std::string& name) {
  proto::MdsRequest req;
  req.set_op(proto::MDS_OP_RMXATTR);
  req.set_ino(ino);
  req.set_xattr_name(name);
  return Call(c, std::move(req)).status();
}

Result<proto::StatfsProto> FsClient::Statfs(const Caller& c) {
  proto::MdsRequest req;
  req.set_op(proto::MDS_OP_STATFS);
  req.set_ino(root_ino_);
  NACRE_ASSIGN_OR_RETURN(proto::MdsReply r, Call(c, std::move(req)));
  return r.statfs();
}

bool FsClient::MayHoldLocks(uint64_t ino) {
  std::lock_guard<std::mutex> g(mu_);
  return locked_inos_.count(ino) > 0;
}

Status FsClient::SetLk(const Caller& c, uint64_t ino, const proto::FileLockProto& lock) {
  if (lock.type() != F_UNLCK) {
    std::lock_guard<std::mutex> g(mu_);
    locked_inos_.insert(ino);
  }
  proto::MdsRequest req;
  req.set_op(proto::MDS_OP_SETLK);
  req.set_ino(ino);
  *req.mutable_lock() = lock;
  return Call(c, std::move(req)).status();
}

Result<proto::FileLockProto> FsClient::GetLk(const Caller& c, uint64_t ino, const proto::FileLockProto& lock) {
  proto::MdsRequest req;
  req.set_op(proto::MDS_OP_GETLK);
  req.set_ino(ino);
  *req.mutable_lock() = lock;
  NACRE_ASSIGN_OR_RETURN(proto::MdsReply r, Call(c, std::move(req)));
  return r.lock();
}

}  // namespace nacre::fs
