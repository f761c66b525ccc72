// The request core without I/O: namespace ops, errnos, permissions, times,
// hard links, xattrs, readdir paging, completed-request dedup.
#include <catch2/catch.hpp>

#include "daemons/mds/mds_test_util.h"

using namespace nacre;
using namespace nacre::mds;
using nacre::mds::testing::Harness;

TEST_CASE("mkdir, create, lookup, getattr, readdir", "[mds][core]") {
  Harness h;
  auto d = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "d");
  REQUIRE(d.ino() >= RankInoStart(0));
  CHECK(IsDir(d));
  CHECK(d.nlink() == 2);
  auto f = h.Mk(proto::MDS_OP_CREATE, d.ino(), "f", 0644);
  CHECK(IsReg(f));
  CHECK(f.layout().object_size() == 4u << 20);
  proto::InodeProto got;
  CHECK(h.Lookup(d.ino(), "f", &got) == 0);
  CHECK(got.ino() == f.ino());
  CHECK(h.Lookup(d.ino(), "nope") == ENOENT);
  CHECK(h.Lookup(f.ino(), "x") == ENOTDIR);
  CHECK(h.Get(kRootIno).nlink() == 3);
  CHECK(h.Get(kRootIno).size() == 1);
  CHECK(h.Err(h.Req(proto::MDS_OP_MKDIR, kRootIno, "d")) == EEXIST);
  CHECK(h.Err(h.Req(proto::MDS_OP_MKDIR, kRootIno, std::string(256, 'x'))) == ENAMETOOLONG);
  CHECK(h.Err(h.Req(proto::MDS_OP_MKDIR, kRootIno, std::string(255, 'x'))) == 0);

  for (int i = 0; i < 10; ++i) h.Mk(proto::MDS_OP_MKNOD, d.ino(), "n" + std::to_string(i), 0100644);
  auto r = h.Req(proto::MDS_OP_READDIR, d.ino());
  r.set_readdir_max(4);
  std::vector<std::string> names;
  for (;;) {
    auto o = h.Run(r);
    REQUIRE(o.reply.status().code() == 0);
    for (const auto& e : o.reply.entries()) {
      names.push_back(e.name());
      CHECK(e.inode().ino() != 0);
    }
    if (!o.reply.more()) break;
    r.set_readdir_after(names.back());
    r.set_tid(r.tid() + 100000);
  }
  CHECK(names.size() == 11);
  CHECK(std::is_sorted(names.begin(), names.end()));
}

TEST_CASE("create O_EXCL, O_TRUNC; open; unlink and rmdir errnos", "[mds][core]") {
  Harness h;
  auto f = h.Mk(proto::MDS_OP_CREATE, kRootIno, "f");
  auto r = h.Req(proto::MDS_OP_CREATE, kRootIno, "f");
  r.set_flags(O_CREAT | O_EXCL | O_WRONLY);
  CHECK(h.Err(r) == EEXIST);
  auto d = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "d");
  h.Mk(proto::MDS_OP_CREATE, d.ino(), "inner");
  CHECK(h.Err(h.Req(proto::MDS_OP_UNLINK, kRootIno, "d")) == EISDIR);
  CHECK(h.Err(h.Req(proto::MDS_OP_RMDIR, kRootIno, "f")) == ENOTDIR);
  CHECK(h.Err(h.Req(proto::MDS_OP_RMDIR, kRootIno, "d")) == ENOTEMPTY);
  CHECK(h.Err(h.Req(proto::MDS_OP_UNLINK, d.ino(), "inner")) == 0);
  CHECK(h.Err(h.Req(proto::MDS_OP_RMDIR, kRootIno, "d")) == 0);
  CHECK(h.Get(kRootIno).nlink() == 2);
  CHECK(h.Err(h.Req(proto::MDS_OP_UNLINK, kRootIno, "zz")) == ENOENT);
  // O_TRUNC through CREATE on an existing file with data.
  auto set = h.Req(proto::MDS_OP_SETATTR, f.ino());
  set.mutable_setattr()->set_mask(8);
  set.mutable_setattr()->set_size(1000);
  REQUIRE(h.Err(set) == 0);
  auto t = h.Req(proto::MDS_OP_CREATE, kRootIno, "f");
  t.set_flags(O_CREAT | O_TRUNC | O_WRONLY);
  auto o = h.Run(t);
  CHECK(o.reply.status().code() == 0);
  CHECK(o.reply.target().size() == 0);
  CHECK(o.reply.target().truncate_seq() >= 1);
  // Opening a dir for writing.
  auto op = h.Req(proto::MDS_OP_OPEN, kRootIno);
  op.set_flags(O_WRONLY);
  CHECK(h.Err(op) == EISDIR);
}

TEST_CASE("fallocate only grows the size", "[mds][core]") {
  Harness h;
  auto f = h.Mk(proto::MDS_OP_CREATE, kRootIno, "f", 0644);
  auto fa = [&](uint64_t off, uint64_t len) {
    auto r = h.Req(proto::MDS_OP_FALLOCATE, f.ino());
    r.set_offset(off);
    r.set_length(len);
    return h.Run(r).reply;
  };
  auto r = fa(100, 900);
  CHECK(r.status().code() == 0);
  CHECK(r.target().size() == 1000);
  CHECK(h.Get(f.ino()).size() == 1000);
  // A range inside the file (another client grew it meanwhile) changes nothing.
  r = fa(0, 10);
  CHECK(r.status().code() == 0);
  CHECK(r.target().size() == 1000);
  CHECK(h.Get(f.ino()).size() == 1000);
  CHECK(fa(~0ull - 5, 10).status().code() == EFBIG);
  CHECK(h.Err(h.Req(proto::MDS_OP_FALLOCATE, kRootIno)) == EISDIR);
}

TEST_CASE("permissions: EACCES, setgid dirs, sticky bit, chmod/chown rules", "[mds][core]") {
  Harness h;
  auto pub = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "pub", 01777);
  auto priv = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "priv", 0700);
  CHECK(h.Err(h.Req(proto::MDS_OP_MKDIR, priv.ino(), "x", 1000, 1000)) == EACCES);
  CHECK(h.Err(h.Req(proto::MDS_OP_LOOKUP, priv.ino(), "x", 1000, 1000)) == EACCES);
  auto mine = h.Req(proto::MDS_OP_CREATE, pub.ino(), "mine", 1000, 1000);
  mine.set_mode(0644);
  mine.set_flags(O_CREAT | O_WRONLY);
  auto created = h.Run(mine).reply.target();
  CHECK(created.uid() == 1000);
  // Sticky: another user may not remove it.
  CHECK(h.Err(h.Req(proto::MDS_OP_UNLINK, pub.ino(), "mine", 2000, 2000)) == EPERM);
  // chmod by non-owner: EPERM; chown by non-root: EPERM.
  auto chmod = h.Req(proto::MDS_OP_SETATTR, created.ino(), "", 2000, 2000);
  chmod.mutable_setattr()->set_mask(1);
  chmod.mutable_setattr()->set_mode(0777);
  CHECK(h.Err(chmod) == EPERM);
  auto chown = h.Req(proto::MDS_OP_SETATTR, created.ino(), "", 1000, 1000);
  chown.mutable_setattr()->set_mask(2);
  chown.mutable_setattr()->set_uid(3000);
  CHECK(h.Err(chown) == EPERM);
  // utimes(now) by a non-owner without write permission: EACCES.
  auto touch = h.Req(proto::MDS_OP_SETATTR, created.ino(), "", 2000, 2000);
  touch.mutable_setattr()->set_mask(64 | 128);
  CHECK(h.Err(touch) == EACCES);
  auto explicit_t = h.Req(proto::MDS_OP_SETATTR, created.ino(), "", 2000, 2000);
  explicit_t.mutable_setattr()->set_mask(16);
  CHECK(h.Err(explicit_t) == EPERM);
  // chown by root clears suid/sgid.
  auto suid = h.Req(proto::MDS_OP_SETATTR, created.ino());
  suid.mutable_setattr()->set_mask(1);
  suid.mutable_setattr()->set_mode(06755);
  REQUIRE(h.Err(suid) == 0);
  auto rchown = h.Req(proto::MDS_OP_SETATTR, created.ino());
  rchown.mutable_setattr()->set_mask(2);
  rchown.mutable_setattr()->set_uid(5);
  auto after = h.Run(rchown).reply.target();
  CHECK((after.mode() & 06000) == 0);
  // setgid directory inheritance.
  auto sg = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "sg", 02777);
  auto sgset = h.Req(proto::MDS_OP_SETATTR, sg.ino());
  sgset.mutable_setattr()->set_mask(4 | 1);
  sgset.mutable_setattr()->set_gid(77);
  sgset.mutable_setattr()->set_mode(02777);
  REQUIRE(h.Err(sgset) == 0);
  auto sub = h.Req(proto::MDS_OP_MKDIR, sg.ino(), "sub", 1000, 1000);
  sub.set_mode(0755);
  auto subi = h.Run(sub).reply.target();
  CHECK(subi.gid() == 77);
  CHECK((subi.mode() & 02000) != 0);
}

TEST_CASE("times: create updates the parent's mtime and ctime", "[mds][core]") {
  Harness h;
  auto d = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "d");
  int64_t before = h.Get(d.ino()).mtime_ns();
  auto f = h.Mk(proto::MDS_OP_CREATE, d.ino(), "f");
  auto d2 = h.Get(d.ino());
  CHECK(d2.mtime_ns() > before);
  CHECK(d2.ctime_ns() == d2.mtime_ns());
  CHECK(f.btime_ns() == f.mtime_ns());
}

TEST_CASE("hard links move the inode to the remote table; unlink keeps the other name", "[mds][core]") {
  Harness h;
  auto f = h.Mk(proto::MDS_OP_MKNOD, kRootIno, "f", 0100644);  // not open: purged at the last unlink
  auto d = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "d");
  auto l = h.Req(proto::MDS_OP_LINK, d.ino(), "g");
  l.set_ino2(f.ino());
  auto o = h.Run(l);
  REQUIRE(o.reply.status().code() == 0);
  CHECK(o.reply.target().nlink() == 2);
  CHECK(h.cache.remote().count(f.ino()) == 1);
  auto ld = h.Req(proto::MDS_OP_LINK, kRootIno, "dd");
  ld.set_ino2(d.ino());
  CHECK(h.Err(ld) == EPERM);
  CHECK(h.Err(h.Req(proto::MDS_OP_UNLINK, kRootIno, "f")) == 0);
  proto::InodeProto g;
  CHECK(h.Lookup(d.ino(), "g", &g) == 0);
  CHECK(g.nlink() == 1);
  CHECK(h.Err(h.Req(proto::MDS_OP_UNLINK, d.ino(), "g")) == 0);
  CHECK(h.cache.remote().count(f.ino()) == 0);
  // The last unlink of a closed file journals a purge.
  bool purged = false;
  for (const auto& e : h.journal)
    for (const auto& op : e.ops()) purged |= op.has_purge_inode() && op.purge_inode().ino() == f.ino();
  CHECK(purged);
}

TEST_CASE("xattrs: user.*, flags, virtual nacre.* ones", "[mds][core]") {
  Harness h;
  auto d = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "d");
  auto f = h.Mk(proto::MDS_OP_CREATE, d.ino(), "f");
  auto set = h.Req(proto::MDS_OP_SETXATTR, f.ino());
  set.set_xattr_name("user.a");
  set.set_xattr_value("1");
  CHECK(h.Err(set) == 0);
  set.set_flags(1);
  set.set_tid(set.tid() + 50000);
  CHECK(h.Err(set) == EEXIST);
  auto get = h.Req(proto::MDS_OP_GETXATTR, f.ino());
  get.set_xattr_name("user.a");
  CHECK(h.Run(get).reply.xattr_value() == "1");
  get.set_xattr_name("user.none");
  get.set_tid(get.tid() + 50000);
  CHECK(h.Err(get) == ENODATA);
  auto list = h.Run(h.Req(proto::MDS_OP_LISTXATTR, f.ino()));
  REQUIRE(list.reply.entries_size() == 1);
  CHECK(list.reply.entries(0).name() == "user.a");
  auto rf = h.Req(proto::MDS_OP_GETXATTR, kRootIno);
  rf.set_xattr_name("nacre.dir.rfiles");
  CHECK(h.Run(rf).reply.xattr_value() == "1");
  auto rs = h.Req(proto::MDS_OP_GETXATTR, kRootIno);
  rs.set_xattr_name("nacre.dir.rsubdirs");
  CHECK(h.Run(rs).reply.xattr_value() == "1");
  auto lay = h.Req(proto::MDS_OP_GETXATTR, f.ino());
  lay.set_xattr_name("nacre.file.layout.object_size");
  CHECK(h.Run(lay).reply.xattr_value() == "4194304");
  auto ro = h.Req(proto::MDS_OP_SETXATTR, f.ino());
  ro.set_xattr_name("nacre.file.layout.pool");
  ro.set_xattr_value("3");
  CHECK(h.Err(ro) == EPERM);
  auto pin = h.Req(proto::MDS_OP_SETXATTR, d.ino());
  pin.set_xattr_name("nacre.dir.pin");
  pin.set_xattr_value("0");
  CHECK(h.Err(pin) == 0);
  auto rm = h.Req(proto::MDS_OP_RMXATTR, f.ino());
  rm.set_xattr_name("user.a");
  CHECK(h.Err(rm) == 0);
  rm.set_tid(rm.tid() + 50000);
  CHECK(h.Err(rm) == ENODATA);
}

TEST_CASE("a resent request is answered from the completed table, not redone", "[mds][core]") {
  Harness h;
  auto r = h.Req(proto::MDS_OP_MKDIR, kRootIno, "once");
  r.set_mode(0755);
  auto first = h.Run(r);
  REQUIRE(first.reply.status().code() == 0);
  size_t entries = h.journal.size();
  auto again = h.Run(r);
  CHECK(again.dedup);
  CHECK(again.reply.status().code() == 0);
  CHECK(again.reply.target().ino() == first.reply.target().ino());
  CHECK(h.journal.size() == entries);
  // After a takeover: a fresh core rebuilt from the journal answers too.
  MdsCache cache2(0);
  MdsCore core2(&cache2, CoreOptions{});
  cache2.InstallRoot(cache2.MakeRootInode(1));
  cache2.InstallEmptyDir(kRootIno);
  for (const auto& e : h.journal) {
    cache2.ApplyEntry(e);
    core2.NoteReplayed(e);
  }
  proto::MdsSessionRequest rc;
  rc.set_op(proto::MDS_SESSION_RECONNECT);
  rc.set_session(h.session);
  auto rep = core2.HandleSession("client.a", rc, h.now, 1);
  CHECK(rep.last_completed_tid() == r.tid());
  auto o = core2.Handle(h.session, r, h.now);
  CHECK(o.dedup);
  CHECK(o.reply.target().ino() == first.reply.target().ino());
}

TEST_CASE("requests without a session, unknown numbers", "[mds][core]") {
  Harness h;
  CHECK(h.Err(h.Req(proto::MDS_OP_GETATTR, kRootIno), 4242) == ESTALE);
  CHECK(h.Err(h.Req(proto::MDS_OP_GETATTR, RankInoStart(0) + 999)) == ESTALE);
  auto s = h.Run(h.Req(proto::MDS_OP_STATFS, kRootIno));
  CHECK(s.reply.status().code() == 0);
}
