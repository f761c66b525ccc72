// FsClient: a mounted filesystem, as the FUSE layer (or a test) sees it.
//
// Metadata goes to the MDS through MdsSession; file data goes straight to
// the data pool through FileIo. Caps (doc/filesystem.md): when OPEN/CREATE
// for writing grants Fw|Fb, the client keeps the file's size and mtime
// itself and sends them to the MDS (CAP_OP_UPDATE) on flush/fsync (waiting
// for CAP_OP_FLUSH_ACK), and with CAP_OP_RELEASE when the MDS revokes Fb or
// the last handle closes. Without Fb, a write that extends the file sends
// the new size synchronously (SETATTR) before returning.
//
// Invariants:
//  - `inodes_` holds state only for inodes with open handles; an inode's
//    local size/mtime are authoritative only while it holds Fb.
//  - `mu_` guards handles and inode state and is never held across a call
//    to the MDS or to RADOS.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "libfs/file_io.h"
#include "libfs/fs_session.h"
#include "librados/rados.h"
#include "mds.pb.h"

namespace nacre::fs {

// Who is asking: passed to the MDS for its permission checks.
struct Caller {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;
  int32_t pid = 0;
};

// setattr mask bits (proto/mds.proto SetattrProto).
enum SetattrBits : uint32_t {
  kSetMode = 1, kSetUid = 2, kSetGid = 4, kSetSize = 8, kSetAtime = 16, kSetMtime = 32,
  kSetAtimeNow = 64, kSetMtimeNow = 128, kSetCtime = 256,
};

// The largest file size (Ceph's max_file_size default, 1 TiB): a write,
// truncate or fallocate past it fails with EFBIG, as on a local filesystem,
// instead of creating objects whose numbers no reader expects.
inline constexpr uint64_t kMaxFileSize = 1ull << 40;

inline Status FileTooBig(uint64_t off, uint64_t len) {
  return Status(static_cast<Code>(EFBIG), "offset " + std::to_string(off) + " + " + std::to_string(len) +
                                              " is past the largest file size (1 TiB)");
}

class FsClient {
 public:
  struct MountOptions {
    std::string fs_name;     // "" = the only filesystem
    std::string root = "/";  // the directory mounted
  };

  FsClient() = default;
  ~FsClient();
  FsClient(const FsClient&) = delete;
  FsClient& operator=(const FsClient&) = delete;

  Status Mount(const Config& config, const MountOptions& opts);
  void Unmount();
  // The inode the mount's root is.
  uint64_t root_ino() const { return root_ino_; }

  Result<proto::InodeProto> Lookup(const Caller& c, uint64_t parent, const std::string& name);
  Result<proto::InodeProto> Getattr(const Caller& c, uint64_t ino);
  // A size change truncates the data objects first.
  Result<proto::InodeProto> Setattr(const Caller& c, uint64_t ino, const proto::SetattrProto& sa);
  Result<proto::InodeProto> Mknod(const Caller& c, uint64_t parent, const std::string& name, uint32_t mode,
                                  uint32_t rdev);
  Result<proto::InodeProto> Mkdir(const Caller& c, uint64_t parent, const std::string& name, uint32_t mode);
  Result<proto::InodeProto> Symlink(const Caller& c, uint64_t parent, const std::string& name,
                                    const std::string& target);
  Status Unlink(const Caller& c, uint64_t parent, const std::string& name);
  Status Rmdir(const Caller& c, uint64_t parent, const std::string& name);
  Status Rename(const Caller& c, uint64_t parent, const std::string& name, uint64_t newparent,
                const std::string& newname, uint32_t flags);
  Result<proto::InodeProto> Link(const Caller& c, uint64_t ino, uint64_t newparent, const std::string& newname);
  // Create/Open return the inode and a handle for Read/Write/Release.
  Result<proto::InodeProto> Create(const Caller& c, uint64_t parent, const std::string& name, uint32_t mode,
                                   int flags, uint64_t* fh);
  Result<proto::InodeProto> Open(const Caller& c, uint64_t ino, int flags, uint64_t* fh);
  Status Release(uint64_t fh);
  // Entries after `after` (names), at most `max`; *more if the directory has more.
  Result<std::vector<proto::DirEntryProto>> ReadDir(const Caller& c, uint64_t ino, const std::string& after,
                                                   uint32_t max, bool* more);
  Status SetXattr(const Caller& c, uint64_t ino, const std::string& name, const std::string& value, int flags);
  Result<std::string> GetXattr(const Caller& c, uint64_t ino, const std::string& name);
  Result<std::vector<std::string>> ListXattr(const Caller& c, uint64_t ino);
  Status RemoveXattr(const Caller& c, uint64_t ino, const std::string& name);
  Result<proto::StatfsProto> Statfs(const Caller& c);
  // SETLK (lock.wait() blocks at the MDS) and GETLK.
  Status SetLk(const Caller& c, uint64_t ino, const proto::FileLockProto& lock);
  Result<proto::FileLockProto> GetLk(const Caller& c, uint64_t ino, const proto::FileLockProto& lock);
  // True once this client asked for a lock on ino (so close must release
  // its owner's locks there; other closes skip that round trip).
  bool MayHoldLocks(uint64_t ino);

  Result<std::string> Read(const Caller& c, uint64_t fh, uint64_t off, uint64_t len);
  Result<size_t> Write(const Caller& c, uint64_t fh, uint64_t off, std::string_view data);
  // Sends dirty size/mtime and waits for the MDS to journal them.
  Status Flush(uint64_t fh);
  Status Fsync(uint64_t fh) { return Flush(fh); }
  // mode: 0 (allocate, may grow the file), FALLOC_FL_KEEP_SIZE, or
  // FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE (zero the range's data).
  Status Fallocate(const Caller& c, uint64_t fh, int mode, uint64_t off, uint64_t len);
  uint64_t InoOf(uint64_t fh);

 private:
  struct InodeState {
    proto::InodeProto inode;   // as the MDS last told us (layout, size)
    uint32_t caps = 0;
    uint64_t cap_seq = 0;      // the MDS's seq of our cap
    uint64_t size = 0;         // local size (valid with Fb)
    int64_t mtime_ns = 0;      // local mtime (valid with dirty & 2)
    uint32_t dirty = 0;        // size 1, mtime 2 (CapProto.dirty)
    uint32_t flushing = 0;     // dirty bits sent in a sync UPDATE not yet acknowledged
    uint64_t flush_seq = 0;    // last CAP_OP_UPDATE seq sent
    uint64_t flush_acked = 0;  // last FLUSH_ACK seq received
    int handles = 0;
  };
  struct Handle {
    uint64_t ino = 0;
    int flags = 0;
  };

  Result<proto::MdsReply> Call(const Caller& c, proto::MdsRequest req);
  Result<proto::InodeProto> CallForInode(const Caller& c, proto::MdsRequest req);
  uint64_t AddHandle(const proto::MdsReply& r, int flags);
  // Overlays what we hold locally (Fb) onto an inode from the MDS.
  void Overlay(proto::InodeProto* in);
  // Sends dirty state with CAP_OP_UPDATE and waits for its FLUSH_ACK.
  Status FlushInode(uint64_t ino);
  // Sends one CAP_OP_UPDATE (sync) and waits for its FLUSH_ACK.
  Status SyncUpdate(uint64_t ino, uint64_t size, int64_t mtime_ns, uint32_t dirty);
  // Loop thread: a cap message from the MDS.
  void HandleCap(const proto::CapProto& cap);
  std::vector<proto::CapProto> HeldCaps();
  // The file's current size (local with Fb, else from the MDS).
  Result<uint64_t> CurrentSize(const Caller& c, uint64_t ino);

  rados::Rados rados_;
  MdsSession session_;
  std::unique_ptr<FileIo> io_;
  uint64_t root_ino_ = 1;
  bool mounted_ = false;

  std::mutex mu_;
  std::condition_variable flush_cv_;
  uint64_t next_fh_ = 1;
  std::map<uint64_t, Handle> handles_;
  std::map<uint64_t, InodeState> inodes_;
  std::set<uint64_t> locked_inos_;  // inodes we ever locked (bounded by files locked)
};

}  // namespace nacre::fs
