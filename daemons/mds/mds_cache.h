// MdsCache: the MDS's in-memory metadata, pure (no I/O).
//
// Holds the root inode, the whole remote-inode table (hard-linked inodes),
// and the directories loaded so far (each loaded whole: name -> DentryProto,
// a primary dentry embedding its inode). Every change goes through Apply(),
// which is also what journal replay calls, so "apply these entries to a
// fresh cache" and "the live cache" agree by construction.
//
// Invariants:
// - A cached directory is complete: every dentry it has in RADOS plus every
//   journaled change is in `dentries`.
// - `where_` maps every primary inode seen (in a cached dir, or one that was
//   cached and trimmed) to its (parent, name); it survives trimming so an
//   inode can be found again by number by loading its parent.
// - Dirty keys (set or removed since the last flush) are tracked per dir;
//   a dirty dir is never trimmed.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mds.pb.h"

namespace nacre::mds {

constexpr uint64_t kRootIno = 1;
inline uint64_t StrayIno(int rank) { return 0x100 + static_cast<uint64_t>(rank); }
inline uint64_t RankInoStart(int rank) { return static_cast<uint64_t>(rank + 1) << 40; }
std::string InoHex(uint64_t ino);
// "<dir ino hex>.00000000"
std::string DirObject(uint64_t ino);
// "<ino hex>.<block 8 hex>"
std::string DataObject(uint64_t ino, uint64_t block);

inline bool IsDir(const proto::InodeProto& i) { return (i.mode() & 0170000) == 0040000; }
inline bool IsReg(const proto::InodeProto& i) { return (i.mode() & 0170000) == 0100000; }
inline bool IsLnk(const proto::InodeProto& i) { return (i.mode() & 0170000) == 0120000; }

struct CachedDir {
  uint64_t ino = 0;
  std::map<std::string, proto::DentryProto> dentries;
  std::set<std::string> dirty_set, dirty_rm;  // since the last flush
  size_t bytes = 0;
  std::list<uint64_t>::iterator lru;
  bool dirty() const { return !dirty_set.empty() || !dirty_rm.empty(); }
};

// What a flush writes: per dir the keys to set (encoded) and remove.
struct FlushBatch {
  struct DirDelta {
    std::map<std::string, std::string> set;
    std::set<std::string> rm;
  };
  std::map<uint64_t, DirDelta> dirs;
  std::map<std::string, std::string> remote_set;
  std::set<std::string> remote_rm;
  bool root_dirty = false;
  proto::InodeProto root;
  bool empty() const { return dirs.empty() && remote_set.empty() && remote_rm.empty() && !root_dirty; }
};

class MdsCache {
 public:
  explicit MdsCache(int rank = 0);

  int rank() const { return rank_; }

  // Loading. A directory object that does not exist installs empty.
  void InstallDir(uint64_t ino, const std::map<std::string, std::string>& raw);
  void InstallEmptyDir(uint64_t ino);
  void InstallRoot(const proto::InodeProto& root) { root_ = root; }
  void InstallRemote(const std::map<std::string, std::string>& raw);
  // A new filesystem: the root directory (mode 0755 root:root) at `now_ns`.
  proto::InodeProto MakeRootInode(int64_t now_ns) const;

  // Every mutation. Idempotent; the dir of a dentry op must be cached.
  void Apply(const proto::MetaOp& op);
  void ApplyEntry(const proto::JournalEntry& e);

  CachedDir* GetDir(uint64_t ino);  // nullptr when not cached; touches the LRU
  bool HasDir(uint64_t ino) const { return dirs_.count(ino) > 0; }
  const proto::InodeProto& root() const { return root_; }
  const std::map<uint64_t, proto::InodeProto>& remote() const { return remote_; }

  // An inode by number. Returns it, or nullptr with *need_dir set to the
  // directory to load (0 when its location is unknown).
  const proto::InodeProto* FindInode(uint64_t ino, uint64_t* need_dir);
  // Where the primary dentry of `ino` is, if known.
  bool Where(uint64_t ino, uint64_t* parent, std::string* name) const;
  // A dentry's inode (resolving remote dentries). nullptr if the remote
  // inode is missing (should not happen).
  const proto::InodeProto* DentryInode(const proto::DentryProto& d) const;

  // Directory inodes in cached dirs whose own dir is not cached (for the
  // search of an unknown inode number). First one, 0 if none.
  uint64_t AnyUnloadedDir() const;

  // Takes the dirty state (and marks everything clean).
  FlushBatch TakeDirty();
  bool AnyDirty() const;

  // Trims clean, unreferenced (not in `pinned`) dirs, least recently used
  // first, until at most `limit` bytes are cached. Returns dirs dropped.
  size_t Trim(size_t limit, const std::set<uint64_t>& pinned);
  size_t bytes() const { return bytes_; }
  size_t num_dirs() const { return dirs_.size(); }
  size_t num_inodes() const { return inodes_; }

  uint64_t next_ino() const { return next_ino_; }
  void set_next_ino(uint64_t n) {
    if (n > next_ino_) next_ino_ = n;
  }
  uint64_t AllocIno() { return next_ino_++; }

  // Applied-state digest for tests: every cached dentry, remote inode and
  // the root, serialized in order.
  std::string DebugDump() const;

 private:
  static size_t DentryBytes(const std::string& name, const proto::DentryProto& d);
  void IndexDentry(uint64_t dir, const std::string& name, const proto::DentryProto& d);
  void UnindexDentry(uint64_t dir, const std::string& name, const proto::DentryProto& d);
  CachedDir& MustDir(uint64_t ino);

  int rank_;
  proto::InodeProto root_;
  bool root_dirty_ = false;
  std::map<uint64_t, proto::InodeProto> remote_;
  std::set<uint64_t> remote_dirty_, remote_rm_;
  std::map<uint64_t, CachedDir> dirs_;
  std::list<uint64_t> lru_;  // front: most recently used
  std::unordered_map<uint64_t, std::pair<uint64_t, std::string>> where_;
  size_t bytes_ = 0;
  size_t inodes_ = 0;
  uint64_t next_ino_;
};

}  // namespace nacre::mds
