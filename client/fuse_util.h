// Helpers shared by nacre-fuse's operation files: inode number mapping,
// the caller's identity, attribute conversion and replies.
#pragma once

#include <sys/stat.h>

#include <cstring>

#include "client/fuse_ops.h"

namespace nacre::fuse {

using fs::Caller;
using fs::FsClient;

inline FuseContext* Ctx(fuse_req_t req) { return static_cast<FuseContext*>(fuse_req_userdata(req)); }
inline FsClient& Fs(fuse_req_t req) { return *Ctx(req)->fs; }

inline uint64_t ToFs(fuse_req_t req, fuse_ino_t ino) { return ino == FUSE_ROOT_ID ? Fs(req).root_ino() : ino; }
inline fuse_ino_t ToFuse(fuse_req_t req, uint64_t ino) { return ino == Fs(req).root_ino() ? FUSE_ROOT_ID : ino; }

inline Caller CallerOf(fuse_req_t req) {
  const fuse_ctx* c = fuse_req_ctx(req);
  Caller out;
  out.uid = c->uid;
  out.gid = c->gid;
  out.pid = c->pid;
  gid_t groups[64];
  int n = fuse_req_getgroups(req, 64, groups);
  for (int i = 0; i < n && i < 64; ++i) out.groups.push_back(groups[i]);
  return out;
}

inline int Err(const Status& s) {
  int e = s.err();
  return e > 0 ? e : EIO;
}

inline timespec Ts(int64_t ns) {
  timespec t;
  t.tv_sec = ns / 1000000000;
  t.tv_nsec = ns % 1000000000;
  return t;
}

inline struct stat ToStat(fuse_req_t req, const proto::InodeProto& in) {
  struct stat st;
  std::memset(&st, 0, sizeof(st));
  st.st_ino = ToFuse(req, in.ino());
  st.st_mode = in.mode();
  st.st_nlink = in.nlink();
  st.st_uid = in.uid();
  st.st_gid = in.gid();
  st.st_rdev = in.rdev();
  st.st_size = static_cast<off_t>(in.size());
  st.st_blksize = 1 << 22;
  st.st_blocks = static_cast<blkcnt_t>((in.size() + 511) / 512);
  st.st_atim = Ts(in.atime_ns());
  st.st_mtim = Ts(in.mtime_ns());
  st.st_ctim = Ts(in.ctime_ns());
  return st;
}

inline fuse_entry_param Entry(fuse_req_t req, const proto::InodeProto& in) {
  fuse_entry_param e;
  std::memset(&e, 0, sizeof(e));
  e.ino = ToFuse(req, in.ino());
  e.attr = ToStat(req, in);
  e.attr_timeout = Ctx(req)->attr_timeout;
  e.entry_timeout = Ctx(req)->entry_timeout;
  return e;
}

inline void ReplyEntry(fuse_req_t req, const Result<proto::InodeProto>& r) {
  if (!r.ok()) {
    fuse_reply_err(req, Err(r.status()));
    return;
  }
  fuse_entry_param e = Entry(req, *r);
  fuse_reply_entry(req, &e);
}

inline void ReplyStatus(fuse_req_t req, const Status& s) { fuse_reply_err(req, s.ok() ? 0 : Err(s)); }

}  // namespace nacre::fuse
