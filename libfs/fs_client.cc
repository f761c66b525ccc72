// FsClient: metadata through the MDS, data through RADOS, caps (see fs_client.h).
#include "libfs/fs_client.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>

#include "common/log.h"

namespace nacre::fs {

namespace {

constexpr uint32_t kFb = proto::CAP_FILE_BUFFER;
constexpr uint32_t kDirtySize = 1, kDirtyMtime = 2;
// How long flush/fsync waits for the MDS to journal our size and mtime:
// longer than an MDS takeover (beacon grace plus replay), since the update
// is sent again to the new MDS.
constexpr auto kFlushTimeout = std::chrono::seconds(300);

proto::MdsRequest Req(proto::MdsOp op, uint64_t ino, const std::string& name = "") {
  proto::MdsRequest r;
  r.set_op(op);
  r.set_ino(ino);
  r.set_name(name);
  return r;
}

}  // namespace

FsClient::~FsClient() { Unmount(); }

Status FsClient::Mount(const Config& config, const MountOptions& opts) {
  double timeout = config.GetDouble("client_mount_timeout");
  NACRE_RETURN_IF_ERROR(rados_.Connect(config, timeout).Annotate("connect to the cluster"));
  MdsSession::Options so;
  so.fs_name = opts.fs_name;
  so.root = opts.root;
  so.mount_timeout = timeout;
  so.on_cap = [this](const proto::CapProto& c) { HandleCap(c); };
  so.held_caps = [this] { return HeldCaps(); };
  Status s = session_.Start(config, so);
  if (!s.ok()) {
    rados_.Shutdown();
    return s;
  }
  proto::FilesystemInfo fs = session_.fs_info();
  if (fs.data_pools_size() == 0) {
    Unmount();
    return Invalid("filesystem '" + fs.name() + "' has no data pool");
  }
  io_ = std::make_unique<FileIo>(&rados_, fs.data_pools(0));
  mounted_ = true;
  // Walk to the mounted root as root: -r names a path, not a permission.
  root_ino_ = 1;
  Caller admin;
  size_t pos = 0;
  while (pos < opts.root.size()) {
    size_t end = opts.root.find('/', pos);
    if (end == std::string::npos) end = opts.root.size();
    std::string part = opts.root.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty() || part == ".") continue;
    auto in = Lookup(admin, root_ino_, part);
    if (!in.ok()) {
      Unmount();
      return in.status().Annotate("mount root " + opts.root);
    }
    if ((in->mode() & S_IFMT) != S_IFDIR) {
      Unmount();
      return Status(Code::kInvalid, "mount root " + opts.root + " is not a directory");
    }
    root_ino_ = in->ino();
  }
  return Status::OK();
}

void FsClient::Unmount() {
  // Flush what the MDS has not seen, then close the session (which drops
  // our caps and locks there).
  std::vector<uint64_t> dirty;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& [ino, st] : inodes_)
      if (st.dirty) dirty.push_back(ino);
  }
  if (mounted_)
    for (uint64_t ino : dirty) (void)FlushInode(ino);
  mounted_ = false;
  session_.Shutdown();
  rados_.Shutdown();
}

// --- requests ------------------------------------------------------------------------

Result<proto::MdsReply> FsClient::Call(const Caller& c, proto::MdsRequest req) {
  auto* caller = req.mutable_caller();
  caller->set_uid(c.uid);
  caller->set_gid(c.gid);
  for (uint32_t g : c.groups) caller->add_groups(g);
  caller->set_pid(c.pid);
  NACRE_ASSIGN_OR_RETURN(proto::MdsReply r, session_.Call(std::move(req)));
  if (r.status().code() != 0) return Status(static_cast<Code>(r.status().code()), r.status().message());
  return r;
}

Result<proto::InodeProto> FsClient::CallForInode(const Caller& c, proto::MdsRequest req) {
  NACRE_ASSIGN_OR_RETURN(proto::MdsReply r, Call(c, std::move(req)));
  proto::InodeProto in = r.target();
  Overlay(&in);
  return in;
}

void FsClient::Overlay(proto::InodeProto* in) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = inodes_.find(in->ino());
  if (it == inodes_.end()) return;
  const InodeState& st = it->second;
  if (st.caps & kFb) in->set_size(st.size);
  if (st.dirty & kDirtyMtime) {
    in->set_mtime_ns(std::max(in->mtime_ns(), st.mtime_ns));
    in->set_ctime_ns(std::max(in->ctime_ns(), st.mtime_ns));
  }
}

Result<proto::InodeProto> FsClient::Lookup(const Caller& c, uint64_t parent, const std::string& name) {
  return CallForInode(c, Req(proto::MDS_OP_LOOKUP, parent, name));
}

Result<proto::InodeProto> FsClient::Getattr(const Caller& c, uint64_t ino) {
  return CallForInode(c, Req(proto::MDS_OP_GETATTR, ino));
}

Result<uint64_t> FsClient::CurrentSize(const Caller& c, uint64_t ino) {
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = inodes_.find(ino);
    if (it != inodes_.end() && (it->second.caps & kFb)) return it->second.size;
  }
  NACRE_ASSIGN_OR_RETURN(proto::InodeProto in, Getattr(c, ino));
  return in.size();
}

Result<proto::InodeProto> FsClient::Setattr(const Caller& c, uint64_t ino, const proto::SetattrProto& sa) {
  if ((sa.mask() & kSetSize) && sa.size() > kMaxFileSize) return FileTooBig(sa.size(), 0);
  if (sa.mask() & kSetSize) {
    // Truncating down: the objects past the new size go first, so the data
    // never shows bytes past a size the MDS recorded.
    NACRE_ASSIGN_OR_RETURN(proto::InodeProto cur, Getattr(c, ino));
    if (sa.size() < cur.size()) NACRE_RETURN_IF_ERROR(io_->Truncate(ino, cur.layout(), cur.size(), sa.size()));
  }
  proto::MdsRequest req = Req(proto::MDS_OP_SETATTR, ino);
  *req.mutable_setattr() = sa;
  NACRE_ASSIGN_OR_RETURN(proto::MdsReply r, Call(c, std::move(req)));
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = inodes_.find(ino);
    if (it != inodes_.end()) {
      InodeState& st = it->second;
      if (sa.mask() & kSetSize) {
        st.size = sa.size();
        st.dirty &= ~kDirtySize;
      }
      if (sa.mask() & (kSetMtime | kSetMtimeNow)) st.dirty &= ~kDirtyMtime;
      st.inode = r.target();
    }
  }
  proto::InodeProto in = r.target();
  Overlay(&in);
  return in;
}

Result<proto::InodeProto> FsClient::Mknod(const Caller& c, uint64_t parent, const std::string& name, uint32_t mode,
                                          uint32_t rdev) {
  proto::MdsRequest r = Req(proto::MDS_OP_MKNOD, parent, name);
  r.set_mode(mode);
  r.set_rdev(rdev);
  return CallForInode(c, std::move(r));
}

Result<proto::InodeProto> FsClient::Mkdir(const Caller& c, uint64_t parent, const std::string& name, uint32_t mode) {
  proto::MdsRequest r = Req(proto::MDS_OP_MKDIR, parent, name);
  r.set_mode(mode);
  return CallForInode(c, std::move(r));
}

Result<proto::InodeProto> FsClient::Symlink(const Caller& c, uint64_t parent, const std::string& name,
                                            const std::string& target) {
  proto::MdsRequest r = Req(proto::MDS_OP_SYMLINK, parent, name);
  r.set_symlink(target);
  return CallForInode(c, std::move(r));
}

Status FsClient::Unlink(const Caller& c, uint64_t parent, const std::string& name) {
  return Call(c, Req(proto::MDS_OP_UNLINK, parent, name)).status();
}

Status FsClient::Rmdir(const Caller& c, uint64_t parent, const std::string& name) {
  return Call(c, Req(proto::MDS_OP_RMDIR, parent, name)).status();
}

Status FsClient::Rename(const Caller& c, uint64_t parent, const std::string& name, uint64_t newparent,
                        const std::string& newname, uint32_t flags) {
  proto::MdsRequest r = Req(proto::MDS_OP_RENAME, parent, name);
  r.set_ino2(newparent);
  r.set_name2(newname);
  r.set_flags(flags);
  return Call(c, std::move(r)).status();
}

Result<proto::InodeProto> FsClient::Link(const Caller& c, uint64_t ino, uint64_t newparent,
                                         const std::string& newname) {
  proto::MdsRequest r = Req(proto::MDS_OP_LINK, newparent, newname);
  r.set_ino2(ino);
  return CallForInode(c, std::move(r));
}

// --- open files ----------------------------------------------------------------------

uint64_t FsClient::AddHandle(const proto::MdsReply& r, int flags) {
  std::lock_guard<std::mutex> g(mu_);
  InodeState& st = inodes_[r.target().ino()];
  if (st.handles == 0) {
    st.caps = r.caps();
    st.size = r.target().size();
    st.dirty = 0;
  } else {
    // Keep our own size if we already buffer it; otherwise take the MDS's.
    if (!(st.caps & kFb)) st.size = r.target().size();
    st.caps |= r.caps();
  }
  st.inode = r.target();
  st.cap_seq = std::max(st.cap_seq, r.cap_seq());
  ++st.handles;
  uint64_t fh = next_fh_++;
  handles_[fh] = Handle{r.target().ino(), flags};
  return fh;
}

static uint32_t WantCaps(int flags) {
  uint32_t want = proto::CAP_FILE_READ | proto::CAP_FILE_SHARED;
  if ((flags & O_ACCMODE) != O_RDONLY) want |= proto::CAP_FILE_WRITE | proto::CAP_FILE_BUFFER;
  return want;
}

Result<proto::InodeProto> FsClient::Create(const Caller& c, uint64_t parent, const std::string& name, uint32_t mode,
                                           int flags, uint64_t* fh) {
  proto::MdsRequest req = Req(proto::MDS_OP_CREATE, parent, name);
  req.set_mode(mode);
  req.set_flags(static_cast<uint32_t>(flags));
  req.set_want_caps(WantCaps(flags));
  NACRE_ASSIGN_OR_RETURN(proto::MdsReply r, Call(c, std::move(req)));
  *fh = AddHandle(r, flags);
  return r.target();
}

Result<proto::InodeProto> FsClient::Open(const Caller& c, uint64_t ino, int flags, uint64_t* fh) {
  proto::MdsRequest req = Req(proto::MDS_OP_OPEN, ino);
  // O_TRUNC is done here (objects first, then the size), not by the MDS.
  req.set_flags(static_cast<uint32_t>(flags & ~O_TRUNC));
  req.set_want_caps(WantCaps(flags));
  NACRE_ASSIGN_OR_RETURN(proto::MdsReply r, Call(c, std::move(req)));
  *fh = AddHandle(r, flags);
  // Our own size, not the MDS's: another handle here may have grown the
  // file under Fb without telling the MDS yet (its size there may be 0).
  proto::InodeProto in = r.target();
  Overlay(&in);
  if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY && in.size() > 0) {
    proto::SetattrProto sa;
    sa.set_mask(kSetSize | kSetMtimeNow);
    sa.set_size(0);
    auto t = Setattr(c, ino, sa);
    if (!t.ok()) {
      (void)Release(*fh);
      return t.status();
    }
    return *t;
  }
  return in;
}

Status FsClient::Release(uint64_t fh) {
  uint64_t ino;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = handles_.find(fh);
    if (it == handles_.end()) return Invalid("bad file handle");
    ino = it->second.ino;
  }
  Status flushed = FlushInode(ino);
  proto::CapProto rel;
  {
    std::lock_guard<std::mutex> g(mu_);
    handles_.erase(fh);
    InodeState& st = inodes_[ino];
    if (--st.handles > 0) return flushed;
    // Last handle: give every cap back, with whatever is still dirty.
    rel.set_op(proto::CAP_OP_RELEASE);
    rel.set_ino(ino);
    rel.set_caps(0);
    rel.set_seq(st.cap_seq);
    rel.set_size(st.size);
    rel.set_mtime_ns(st.mtime_ns);
    rel.set_dirty(st.dirty);
    inodes_.erase(ino);
  }
  session_.SendCap(rel);
  return flushed;
}

uint64_t FsClient::InoOf(uint64_t fh) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = handles_.find(fh);
  return it == handles_.end() ? 0 : it->second.ino;
}

Status FsClient::FlushInode(uint64_t ino) {
  uint64_t size;
  int64_t mtime;
  uint32_t dirty;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = inodes_.find(ino);
    if (it == inodes_.end() || it->second.dirty == 0) return Status::OK();
    size = it->second.size;
    mtime = it->second.mtime_ns;
    dirty = it->second.dirty;
    it->second.dirty = 0;
  }
  return SyncUpdate(ino, size, mtime, dirty);
}

Status FsClient::SyncUpdate(uint64_t ino, uint64_t size, int64_t mtime_ns, uint32_t dirty) {
  // The update is idempotent, so it is simply sent again whenever a new MDS
  // session opens before it was acknowledged: an MDS that died before
  // journaling it must not lose a size the application was told is safe.
  // Until then the bits stay in `flushing`, which RECONNECT carries too.
  const auto deadline = std::chrono::steady_clock::now() + kFlushTimeout;
  for (;;) {
    uint64_t seq, gen;
    proto::CapProto up;
    {
      std::lock_guard<std::mutex> g(mu_);
      auto it = inodes_.find(ino);
      if (it == inodes_.end()) return Status::OK();
      seq = ++it->second.flush_seq;
      it->second.flushing |= dirty;
      up.set_caps(it->second.caps);
      gen = session_.generation();
    }
    up.set_op(proto::CAP_OP_UPDATE);
    up.set_ino(ino);
    up.set_seq(seq);
    up.set_size(size);
    up.set_mtime_ns(mtime_ns);
    up.set_dirty(dirty);
    up.set_sync(true);
    session_.SendCap(up);
    std::unique_lock<std::mutex> l(mu_);
    auto done = [&] {
      auto it = inodes_.find(ino);
      return it == inodes_.end() || it->second.flush_acked >= seq;
    };
    // Wakes on the ack; polls the session generation once a second.
    while (!done() && session_.generation() == gen && std::chrono::steady_clock::now() < deadline)
      flush_cv_.wait_for(l, std::chrono::seconds(1));
    auto it = inodes_.find(ino);
    if (done()) {
      if (it != inodes_.end() && it->second.flush_seq == seq) it->second.flushing = 0;
      return Status::OK();
    }
    if (session_.generation() != gen && std::chrono::steady_clock::now() < deadline) {
      NLOG(client, kInfo) << "MDS session reopened; sending the update of " << std::hex << ino << std::dec << " again";
      continue;
    }
    // Keep the bits dirty so a later flush (or the release) tries again.
    it->second.dirty |= dirty;
    it->second.flushing = 0;
    NLOG(client, kWarn) << "no FLUSH_ACK for " << std::hex << ino << std::dec << " seq " << seq;
    return TimedOut("the MDS did not acknowledge the size/mtime update");
  }
}

Status FsClient::Flush(uint64_t fh) {
  uint64_t ino = InoOf(fh);
  if (!ino) return Invalid("bad file handle");
  return FlushInode(ino);
}

void FsClient::HandleCap(const proto::CapProto& cap) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = inodes_.find(cap.ino());
  InodeState* st = it == inodes_.end() ? nullptr : &it->second;
  switch (cap.op()) {
    case proto::CAP_OP_REVOKE: {
      proto::CapProto rel;
      rel.set_op(proto::CAP_OP_RELEASE);
      rel.set_ino(cap.ino());
      rel.set_seq(cap.seq());
      if (st) {
        st->caps &= cap.caps();
        st->cap_seq = std::max(st->cap_seq, cap.seq());
        rel.set_caps(st->caps);
        rel.set_size(st->size);
        rel.set_mtime_ns(st->mtime_ns);
        rel.set_dirty(st->dirty);
        // What we buffered is now the MDS's; without Fb writes update it
        // synchronously.
        if (!(st->caps & kFb)) st->dirty = 0;
      }
      session_.SendCap(rel);
      break;
    }
    case proto::CAP_OP_GRANT:
      if (st) {
        if (!(st->caps & kFb) && (cap.caps() & kFb) && cap.has_inode()) st->size = cap.inode().size();
        st->caps = cap.caps();
        st->cap_seq = std::max(st->cap_seq, cap.seq());
        if (cap.has_inode()) st->inode = cap.inode();
      }
      break;
    case proto::CAP_OP_FLUSH_ACK:
      if (st) st->flush_acked = std::max(st->flush_acked, cap.seq());
      flush_cv_.notify_all();
      break;
    default:
      break;  // INVALIDATE: we cache nothing the kernel does not revalidate
  }
}

std::vector<proto::CapProto> FsClient::HeldCaps() {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<proto::CapProto> out;
  for (const auto& [ino, st] : inodes_) {
    proto::CapProto c;
    c.set_op(proto::CAP_OP_UPDATE);
    c.set_ino(ino);
    c.set_caps(st.caps);
    c.set_seq(st.cap_seq);
    c.set_size(st.size);
    c.set_mtime_ns(st.mtime_ns);
    // What is being flushed goes too: the MDS it was sent to may be the
    // one that died.
    c.set_dirty(st.dirty | st.flushing);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace nacre::fs
