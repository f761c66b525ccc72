// A small harness for the core's tests: a fresh filesystem (root loaded,
// stray dir empty), one session, and helpers that run a request to its
// reply (loading "missing" dirs as empty, which a fresh fs has) and keep
// every journal entry so tests can replay them.
#pragma once

#include <fcntl.h>

#include <string>
#include <vector>

#include "daemons/mds/mds_core.h"

namespace nacre::mds::testing {

struct Harness {
  MdsCache cache{0};
  MdsCore core{&cache, CoreOptions{}};
  std::vector<proto::JournalEntry> journal;
  uint64_t session = 0;
  int64_t now = 1'000'000'000;

  Harness() {
    cache.InstallRoot(cache.MakeRootInode(now));
    cache.InstallEmptyDir(kRootIno);
    cache.InstallEmptyDir(StrayIno(0));
    session = Open("client.a");
  }
  uint64_t Open(const std::string& client) {
    proto::MdsSessionRequest r;
    r.set_op(proto::MDS_SESSION_OPEN);
    static uint64_t next = 1000;
    return core.HandleSession(client, r, now, ++next).session();
  }
  proto::MdsRequest Req(proto::MdsOp op, uint64_t ino, const std::string& name = "", uint32_t uid = 0,
                        uint32_t gid = 0) {
    static uint64_t tid = 0;
    proto::MdsRequest r;
    r.set_tid(++tid);
    r.set_op(op);
    r.set_ino(ino);
    r.set_name(name);
    r.mutable_caller()->set_uid(uid);
    r.mutable_caller()->set_gid(gid);
    return r;
  }
  // Runs to completion; kWait comes back as is.
  Outcome Run(const proto::MdsRequest& r, uint64_t s = 0) {
    for (int i = 0; i < 100; ++i) {
      now += 1000;
      Outcome o = core.Handle(s ? s : session, r, now, /*data_truncated=*/true);
      if (o.kind == Outcome::kNeedDir) {
        cache.InstallEmptyDir(o.need_dir);
        continue;
      }
      if (o.journal) journal.push_back(*o.journal);
      for (auto& e : core.TakeInternal()) journal.push_back(e);
      return o;
    }
    return {};
  }
  int Err(const proto::MdsRequest& r, uint64_t s = 0) { return Run(r, s).reply.status().code(); }
  proto::InodeProto Mk(proto::MdsOp op, uint64_t parent, const std::string& name, uint32_t mode = 0755,
                       uint32_t uid = 0, uint32_t gid = 0) {
    auto r = Req(op, parent, name, uid, gid);
    r.set_mode(mode);
    if (op == proto::MDS_OP_SYMLINK) r.set_symlink("target");
    if (op == proto::MDS_OP_CREATE) r.set_flags(O_CREAT | O_RDWR);
    return Run(r).reply.target();
  }
  proto::InodeProto Get(uint64_t ino) { return Run(Req(proto::MDS_OP_GETATTR, ino)).reply.target(); }
  int Lookup(uint64_t parent, const std::string& name, proto::InodeProto* out = nullptr) {
    Outcome o = Run(Req(proto::MDS_OP_LOOKUP, parent, name));
    if (out) *out = o.reply.target();
    return o.reply.status().code();
  }
};

}  // namespace nacre::mds::testing
