// RENAME edge cases: replace rules, NOREPLACE, EXCHANGE, moving a directory
// into its own subtree, links of the same inode, sticky bit, link counts.
#include <catch2/catch.hpp>

#include "daemons/mds/mds_test_util.h"

using namespace nacre;
using namespace nacre::mds;
using nacre::mds::testing::Harness;

namespace {
proto::MdsRequest Rename(Harness& h, uint64_t p1, const std::string& n1, uint64_t p2, const std::string& n2,
                         uint32_t flags = 0, uint32_t uid = 0) {
  auto r = h.Req(proto::MDS_OP_RENAME, p1, n1, uid, uid);
  r.set_ino2(p2);
  r.set_name2(n2);
  r.set_flags(flags);
  return r;
}
}  // namespace

TEST_CASE("rename: simple moves and link counts", "[mds][rename]") {
  Harness h;
  auto a = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "a");
  auto b = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "b");
  auto f = h.Mk(proto::MDS_OP_CREATE, a.ino(), "f");
  CHECK(h.Err(Rename(h, a.ino(), "f", b.ino(), "g")) == 0);
  CHECK(h.Lookup(a.ino(), "f") == ENOENT);
  proto::InodeProto g;
  CHECK(h.Lookup(b.ino(), "g", &g) == 0);
  CHECK(g.ino() == f.ino());
  CHECK(g.parent_ino() == b.ino());
  // A directory moving changes both parents' link counts.
  auto sub = h.Mk(proto::MDS_OP_MKDIR, a.ino(), "sub");
  CHECK(h.Get(a.ino()).nlink() == 3);
  CHECK(h.Err(Rename(h, a.ino(), "sub", b.ino(), "sub")) == 0);
  CHECK(h.Get(a.ino()).nlink() == 2);
  CHECK(h.Get(b.ino()).nlink() == 3);
  CHECK(h.Get(sub.ino()).parent_ino() == b.ino());
  CHECK(h.Err(Rename(h, a.ino(), "missing", b.ino(), "x")) == ENOENT);
  CHECK(h.Err(Rename(h, a.ino(), "x", b.ino(), std::string(300, 'y'))) == ENAMETOOLONG);
}

TEST_CASE("rename: into its own subtree is EINVAL", "[mds][rename]") {
  Harness h;
  auto a = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "a");
  auto b = h.Mk(proto::MDS_OP_MKDIR, a.ino(), "b");
  auto c = h.Mk(proto::MDS_OP_MKDIR, b.ino(), "c");
  CHECK(h.Err(Rename(h, kRootIno, "a", c.ino(), "a")) == EINVAL);
  CHECK(h.Err(Rename(h, kRootIno, "a", a.ino(), "x")) == EINVAL);
  CHECK(h.Err(Rename(h, a.ino(), "b", kRootIno, "b")) == 0);  // out of it is fine
}

TEST_CASE("rename: replace rules", "[mds][rename]") {
  Harness h;
  auto d1 = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "d1");
  auto d2 = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "d2");
  auto f1 = h.Mk(proto::MDS_OP_CREATE, kRootIno, "f1");
  auto f2 = h.Mk(proto::MDS_OP_CREATE, kRootIno, "f2");
  CHECK(h.Err(Rename(h, kRootIno, "d1", kRootIno, "f1")) == ENOTDIR);
  CHECK(h.Err(Rename(h, kRootIno, "f1", kRootIno, "d1")) == EISDIR);
  h.Mk(proto::MDS_OP_CREATE, d2.ino(), "x");
  CHECK(h.Err(Rename(h, kRootIno, "d1", kRootIno, "d2")) == ENOTEMPTY);
  CHECK(h.Err(Rename(h, kRootIno, "f1", kRootIno, "f2", 1)) == EEXIST);
  CHECK(h.Err(Rename(h, kRootIno, "f1", kRootIno, "f2")) == 0);
  proto::InodeProto now;
  CHECK(h.Lookup(kRootIno, "f2", &now) == 0);
  CHECK(now.ino() == f1.ino());
  (void)f2;
  // Replacing an empty dir.
  auto d3 = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "d3");
  (void)d3;
  uint32_t links = h.Get(kRootIno).nlink();
  CHECK(h.Err(Rename(h, kRootIno, "d1", kRootIno, "d3")) == 0);
  CHECK(h.Get(kRootIno).nlink() == links - 1);
  CHECK(h.Lookup(kRootIno, "d3", &now) == 0);
  CHECK(now.ino() == d1.ino());
  CHECK(h.Err(Rename(h, kRootIno, "d3", kRootIno, "d3")) == 0);
}

TEST_CASE("rename: exchange, same-inode links, sticky", "[mds][rename]") {
  Harness h;
  auto a = h.Mk(proto::MDS_OP_CREATE, kRootIno, "a");
  auto d = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "d");
  CHECK(h.Err(Rename(h, kRootIno, "a", kRootIno, "zz", 2)) == ENOENT);
  CHECK(h.Err(Rename(h, kRootIno, "a", kRootIno, "d", 3)) == EINVAL);
  CHECK(h.Err(Rename(h, kRootIno, "a", kRootIno, "d", 2)) == 0);
  proto::InodeProto x;
  CHECK(h.Lookup(kRootIno, "a", &x) == 0);
  CHECK(x.ino() == d.ino());
  CHECK(h.Lookup(kRootIno, "d", &x) == 0);
  CHECK(x.ino() == a.ino());
  // Two links of one inode: rename one onto the other does nothing.
  auto l = h.Req(proto::MDS_OP_LINK, kRootIno, "a2");
  l.set_ino2(a.ino());
  REQUIRE(h.Err(l) == 0);
  CHECK(h.Err(Rename(h, kRootIno, "d", kRootIno, "a2")) == 0);
  CHECK(h.Lookup(kRootIno, "d") == 0);
  CHECK(h.Lookup(kRootIno, "a2") == 0);
  // Sticky directory: another user's file cannot be renamed away.
  auto t = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "tmp", 01777);
  auto mine = h.Req(proto::MDS_OP_CREATE, t.ino(), "mine", 1000, 1000);
  mine.set_mode(0644);
  REQUIRE(h.Err(mine) == 0);
  CHECK(h.Err(Rename(h, t.ino(), "mine", t.ino(), "stolen", 0, 2000)) == EPERM);
  CHECK(h.Err(Rename(h, t.ino(), "mine", t.ino(), "moved", 0, 1000)) == 0);
}
