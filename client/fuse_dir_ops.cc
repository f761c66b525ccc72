// nacre-fuse: directory listing, statfs and xattr operations.
//
// A directory handle holds the whole listing, fetched page by page from the
// MDS at opendir (and again on a rewind to offset 0), so readdir offsets are
// plain indexes into it and stay stable while the kernel pages through.
// "." and ".." are entries 0 and 1.
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include <memory>
#include <string>
#include <vector>

#include "client/fuse_ops.h"
#include "client/fuse_util.h"

namespace nacre::fuse {

namespace {

struct DirHandle {
  std::vector<proto::DirEntryProto> entries;  // including "." and ".."
};

constexpr uint32_t kPage = 1024;
// Bounds one handle's memory: a listing bigger than this is cut short.
constexpr size_t kMaxEntries = 1u << 20;

Status Fill(fuse_req_t req, uint64_t ino, DirHandle* d) {
  Caller c = CallerOf(req);
  d->entries.clear();
  NACRE_ASSIGN_OR_RETURN(proto::InodeProto self, Fs(req).Getattr(c, ino));
  proto::DirEntryProto dot, dotdot;
  dot.set_name(".");
  *dot.mutable_inode() = self;
  dotdot.set_name("..");
  if (ino == Fs(req).root_ino() || self.parent_ino() == 0) {
    *dotdot.mutable_inode() = self;
  } else {
    dotdot.mutable_inode()->set_ino(self.parent_ino());
    dotdot.mutable_inode()->set_mode(S_IFDIR);
  }
  d->entries.push_back(dot);
  d->entries.push_back(dotdot);
  std::string after;
  bool more = true;
  while (more && d->entries.size() < kMaxEntries) {
    NACRE_ASSIGN_OR_RETURN(auto page, Fs(req).ReadDir(c, ino, after, kPage, &more));
    if (page.empty()) break;
    after = page.back().name();
    for (auto& e : page) d->entries.push_back(std::move(e));
  }
  return Status::OK();
}

void OpOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto d = std::make_unique<DirHandle>();
  Status s = Fill(req, ToFs(req, ino), d.get());
  if (!s.ok()) return (void)fuse_reply_err(req, Err(s));
  fi->fh = reinterpret_cast<uint64_t>(d.get());
  if (fuse_reply_open(req, fi) == 0) d.release();
}

void ReadDirCommon(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi, bool plus) {
  auto* d = reinterpret_cast<DirHandle*>(fi->fh);
  if (off == 0 && !d->entries.empty()) {
    // rewinddir: see entries created since opendir.
    Status s = Fill(req, ToFs(req, ino), d);
    if (!s.ok()) return (void)fuse_reply_err(req, Err(s));
  }
  std::string buf(size, '\0');
  size_t used = 0;
  for (size_t i = static_cast<size_t>(off); i < d->entries.size(); ++i) {
    const auto& e = d->entries[i];
    size_t n;
    if (plus) {
      fuse_entry_param p = Entry(req, e.inode());
      bool dots = e.name() == "." || e.name() == "..";
      if (dots) {
        // The kernel takes no lookup reference for these; give only the number.
        std::memset(&p, 0, sizeof(p));
        p.attr.st_ino = ToFuse(req, e.inode().ino());
        p.attr.st_mode = S_IFDIR;
      }
      n = fuse_add_direntry_plus(req, buf.data() + used, size - used, e.name().c_str(), &p,
                                 static_cast<off_t>(i + 1));
    } else {
      struct stat st;
      std::memset(&st, 0, sizeof(st));
      st.st_ino = ToFuse(req, e.inode().ino());
      st.st_mode = e.inode().mode();
      n = fuse_add_direntry(req, buf.data() + used, size - used, e.name().c_str(), &st,
                            static_cast<off_t>(i + 1));
    }
    if (n > size - used) break;
    used += n;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void OpReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  ReadDirCommon(req, ino, size, off, fi, false);
}

void OpReaddirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  ReadDirCommon(req, ino, size, off, fi, true);
}

void OpReleasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  delete reinterpret_cast<DirHandle*>(fi->fh);
  fuse_reply_err(req, 0);
}

void OpFsyncdir(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) {
  // Every metadata change is journaled before the MDS answers it.
  fuse_reply_err(req, 0);
}

void OpStatfs(fuse_req_t req, fuse_ino_t) {
  auto r = Fs(req).Statfs(CallerOf(req));
  if (!r.ok()) return (void)fuse_reply_err(req, Err(r.status()));
  struct statvfs st;
  std::memset(&st, 0, sizeof(st));
  const uint64_t bs = 4096;
  st.f_bsize = bs;
  st.f_frsize = bs;
  st.f_blocks = r->total_bytes() / bs;
  st.f_bfree = r->free_bytes() / bs;
  st.f_bavail = r->avail_bytes() / bs;
  st.f_files = r->files();
  st.f_ffree = r->files_free();
  st.f_favail = r->files_free();
  st.f_namemax = 255;
  fuse_reply_statfs(req, &st);
}

void OpSetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size, int flags) {
  ReplyStatus(req, Fs(req).SetXattr(CallerOf(req), ToFs(req, ino), name, std::string(value, size), flags));
}

void ReplyBytes(fuse_req_t req, const std::string& v, size_t size) {
  if (size == 0) return (void)fuse_reply_xattr(req, v.size());
  if (v.size() > size) return (void)fuse_reply_err(req, ERANGE);
  fuse_reply_buf(req, v.data(), v.size());
}

void OpGetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  auto r = Fs(req).GetXattr(CallerOf(req), ToFs(req, ino), name);
  if (!r.ok()) return (void)fuse_reply_err(req, Err(r.status()));
  ReplyBytes(req, *r, size);
}

void OpListxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  auto r = Fs(req).ListXattr(CallerOf(req), ToFs(req, ino));
  if (!r.ok()) return (void)fuse_reply_err(req, Err(r.status()));
  std::string all;
  for (const auto& n : *r) all.append(n).push_back('\0');
  ReplyBytes(req, all, size);
}

void OpRemovexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  ReplyStatus(req, Fs(req).RemoveXattr(CallerOf(req), ToFs(req, ino), name));
}

}  // namespace

void RegisterDirOps(fuse_lowlevel_ops* o) {
  o->opendir = OpOpendir;
  o->readdir = OpReaddir;
  o->readdirplus = OpReaddirplus;
  o->releasedir = OpReleasedir;
  o->fsyncdir = OpFsyncdir;
  o->statfs = OpStatfs;
  o->setxattr = OpSetxattr;
  o->getxattr = OpGetxattr;
  o->listxattr = OpListxattr;
  o->removexattr = OpRemovexattr;
}

}  // namespace nacre::fuse
