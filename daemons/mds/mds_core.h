// MdsCore: the MDS request core, pure (no I/O, no clock of its own).
//
// It answers every MdsOp against the MdsCache with POSIX semantics and
// errnos, keeps client sessions, caps (mds_caps.cc) and file locks
// (mds_locks.h), and the completed-requests table. The daemon shell feeds it
// requests, cap messages and the time, and does what the Outcome says:
//   - kReply: send `reply`; if `journal` is set, only after the entry is
//     durable in the journal (the core has already applied it to the cache,
//     so later requests see it);
//   - kNeedDir: load directory `need_dir` (paged omap reads) and run the
//     request again;
//   - kWait: park the request; run it again after any cap release, lock
//     change or session close (WakeCount() tells when something changed);
//   - kTruncate: remove/truncate the file's data objects past `truncate_to`,
//     then run the request again with data_truncated = true.
// Messages to clients that are not replies (cap revokes, flush acks) go to
// the outbox (TakeOutbox). The core never mutates state for a request it
// does not complete: every check comes before the first MetaOp.
// Files: mds_core.cc (sessions, dispatch, reads), mds_namespace.cc (creating
// and removing names), mds_rename.cc, mds_setattr.cc, mds_xattr.cc,
// mds_caps.cc (caps, locks, open files).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/status.h"
#include "daemons/mds/mds_cache.h"
#include "daemons/mds/mds_locks.h"
#include "mds.pb.h"

namespace nacre::mds {

struct CoreOptions {
  int rank = 0;
  int64_t data_pool = 0;               // the filesystem's first data pool
  uint32_t object_size = 4u << 20;     // of new files
  int64_t session_timeout_ns = 60'000'000'000;
  size_t max_completed_per_session = 4096;
};

struct Outcome {
  enum Kind { kReply, kNeedDir, kWait, kTruncate };
  Kind kind = kReply;
  proto::MdsReply reply;
  std::optional<proto::JournalEntry> journal;  // send the reply once this is durable
  uint64_t need_dir = 0;
  proto::InodeProto truncate_inode;  // kTruncate: the inode before the change
  uint64_t truncate_to = 0;
  bool dedup = false;  // answered from the completed-requests table
};

// A message to a client session (not a reply).
struct CapMsg {
  uint64_t session = 0;
  proto::CapProto cap;
  bool after_journal = false;  // send once the outcome's entry is durable
};

struct Session {
  uint64_t id = 0;
  std::string client;  // entity, "client.admin"
  std::string uuid, root;
  int64_t last_renew_ns = 0;
  uint64_t renew_seq = 0;
};

class MdsCore {
 public:
  MdsCore(MdsCache* cache, CoreOptions opts);

  // --- sessions (new_id: a fresh random id for OPEN, chosen by the shell)
  proto::MdsSessionReply HandleSession(const std::string& client, const proto::MdsSessionRequest& r, int64_t now_ns,
                                       uint64_t new_id);
  // Closes sessions silent past the timeout; returns their ids.
  std::vector<uint64_t> Tick(int64_t now_ns);
  void CloseSession(uint64_t id);
  const Session* GetSession(uint64_t id) const;
  size_t num_sessions() const { return sessions_.size(); }

  // --- requests
  Outcome Handle(uint64_t session, const proto::MdsRequest& req, int64_t now_ns, bool data_truncated = false);
  // A cap message from a client (UPDATE, RELEASE). May need a dir loaded.
  Outcome HandleCap(uint64_t session, const proto::CapProto& c, int64_t now_ns);

  // Internal work the shell should run like a request when WakeCount moves
  // or a flush happens: purges of strays nobody holds any more.
  std::vector<CapMsg> TakeOutbox();
  uint64_t WakeCount() const { return wakes_; }
  // Journal entries of internal updates (stray purges) to append.
  std::vector<proto::JournalEntry> TakeInternal();

  // After a takeover, once clients had their chance to reconnect: purges
  // strays no session holds (their holders did not come back).
  void PurgeUnheldStrays();

  // Rebuilds the completed-requests table from a replayed entry.
  void NoteReplayed(const proto::JournalEntry& e);

  void set_statfs(const proto::StatfsProto& s) { statfs_ = s; }
  const FileLocks& locks() const { return locks_; }
  // Sessions holding caps on ino, with their caps.
  std::map<uint64_t, uint32_t> CapsOn(uint64_t ino) const;
  // Directories pinned in the cache by open files' parents (not trimmed).
  std::set<uint64_t> PinnedDirs() const;
  uint64_t journal_seq() const { return seq_; }
  void set_journal_seq(uint64_t s) { seq_ = s; }

 private:
  friend struct CoreTestPeer;
  struct Caller {
    uint32_t uid = 0, gid = 0;
    std::vector<uint32_t> groups;
    bool InGroup(uint32_t g) const;
  };
  struct CapState {
    uint32_t issued = 0;
    uint64_t seq = 0;
    bool revoking = false;
  };
  using ReqKey = std::tuple<std::string, uint64_t, uint64_t>;  // client, session, tid

  // A handler's state: the request, its caller, its reply and the entry
  // being built (ops are applied to the cache as they are added).
  struct Ctx {
    uint64_t session;
    const proto::MdsRequest& req;
    int64_t now;
    bool data_truncated;
    Caller caller;
    Outcome out;
    proto::JournalEntry entry;
    bool mutated = false;
  };

  // mds_core.cc
  Outcome Dispatch(Ctx& c);
  Outcome Reply(Ctx& c, int err, const std::string& msg = "");
  Outcome Need(uint64_t dir);
  Outcome Wait(Ctx& c);
  // An inode by number: nullptr with *o set when it must load or is unknown.
  const proto::InodeProto* Inode(uint64_t ino, Outcome* o);
  // A directory's dentries (loaded) and its inode.
  CachedDir* Dir(uint64_t ino, Outcome* o);
  static bool MayAccess(const proto::InodeProto& i, const Caller& c, int want);  // 4 r, 2 w, 1 x
  // Sticky-bit rule for removing `victim` from `dir`.
  static bool StickyDenies(const proto::InodeProto& dir, const proto::InodeProto& victim, const Caller& c);
  static int CheckName(const std::string& name);
  void AddOp(Ctx& c, proto::MetaOp op);
  // Writes a changed inode back where it lives (root, remote table, dentry).
  void PutInode(Ctx& c, proto::InodeProto i);
  void SetDentry(Ctx& c, uint64_t dir, const std::string& name, const proto::DentryProto& d);
  void RmDentry(Ctx& c, uint64_t dir, const std::string& name);
  // Bumps a directory's mtime/ctime and entry count / link count.
  void TouchDir(Ctx& c, uint64_t dir, int entries_delta, int links_delta);
  proto::InodeProto NewInode(Ctx& c, const proto::InodeProto& parent, uint32_t mode);
  Outcome OpLookup(Ctx& c);
  Outcome OpGetattr(Ctx& c);
  Outcome OpReaddir(Ctx& c);
  Outcome OpStatfs(Ctx& c);
  Outcome OpLookupIno(Ctx& c);
  // mds_namespace.cc
  Outcome OpMake(Ctx& c);  // MKNOD, MKDIR, SYMLINK
  Outcome OpCreate(Ctx& c);
  Outcome OpOpen(Ctx& c);
  Outcome OpUnlink(Ctx& c);  // UNLINK, RMDIR
  Outcome OpLink(Ctx& c);
  // Drops one link of `i` (already removed from its dentry): updates the
  // remote table, moves it to the stray dir if open, or purges it.
  Outcome* DropLink(Ctx& c, const proto::InodeProto& i, bool was_remote);
  // Opens (or truncates) an existing file: permission, O_TRUNC, caps.
  Outcome OpenExisting(Ctx& c, proto::InodeProto i, uint32_t flags, bool created);
  // mds_rename.cc
  Outcome OpRename(Ctx& c);
  // Is `ino` (a dir) `anc` or below it? Needs the chain: may set *o.
  bool IsUnder(uint64_t ino, uint64_t anc, Outcome* o);
  // mds_setattr.cc
  Outcome OpSetattr(Ctx& c);
  Outcome OpFallocate(Ctx& c);
  // mds_xattr.cc
  Outcome OpSetxattr(Ctx& c);
  Outcome OpRmxattr(Ctx& c);
  Outcome OpGetxattr(Ctx& c);
  Outcome OpListxattr(Ctx& c);
  // Recursive statistics of a dir; false with *o when a subdir must load.
  bool RStats(uint64_t dir, uint64_t* bytes, uint64_t* files, uint64_t* subdirs, Outcome* o);
  // mds_caps.cc
  // Revokes `mask` from every other session's caps on ino; true if the
  // request must wait for releases.
  bool RevokeOthers(uint64_t ino, uint64_t session, uint32_t mask);
  uint32_t GrantOpen(uint64_t ino, uint64_t session, bool write, uint64_t* seq);
  Outcome OpSetlk(Ctx& c);
  Outcome OpGetlk(Ctx& c);
  void DropCaps(uint64_t session, uint64_t ino);
  // A stray nobody holds any more: journal its removal and purge.
  void MaybePurgeStray(uint64_t ino);

  MdsCache* cache_;
  CoreOptions opts_;
  std::map<uint64_t, Session> sessions_;
  std::map<uint64_t, std::map<uint64_t, CapState>> caps_;  // ino -> session -> state
  FileLocks locks_;
  std::map<ReqKey, proto::MdsReply> completed_;
  std::map<std::pair<std::string, uint64_t>, size_t> completed_count_;
  std::vector<CapMsg> outbox_;
  std::vector<proto::JournalEntry> internal_;
  proto::StatfsProto statfs_;
  uint64_t wakes_ = 0;
  uint64_t seq_ = 0;
};

}  // namespace nacre::mds
