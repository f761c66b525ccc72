// Journal framing and replay equivalence: the entries the core produced,
// applied to a fresh cache (that loaded nothing), give the same state; and
// applying them twice changes nothing (replay is idempotent).
#include <catch2/catch.hpp>

#include "daemons/mds/mds_journal_codec.h"
#include "daemons/mds/mds_test_util.h"

using namespace nacre;
using namespace nacre::mds;
using nacre::mds::testing::Harness;

TEST_CASE("journal records round-trip; a torn or corrupt tail ends the journal", "[mds][journal]") {
  std::string seg;
  for (int i = 1; i <= 3; ++i) {
    proto::JournalEntry e;
    e.set_seq(static_cast<uint64_t>(i));
    e.add_ops()->set_remote_inode_rm(static_cast<uint64_t>(i));
    EncodeRecord(e, &seg);
  }
  size_t used = 0;
  auto all = DecodeRecords(seg, &used);
  REQUIRE(all.size() == 3);
  CHECK(used == seg.size());
  CHECK(all[2].seq() == 3);
  CHECK(DecodeRecords(seg.substr(0, seg.size() - 1)).size() == 2);
  std::string bad = seg;
  bad[bad.size() - 2] ^= 0x55;
  CHECK(DecodeRecords(bad).size() == 2);
  CHECK(JournalSegmentObject(0, 10) == "mds0_journal.000000000000000a");
  CHECK(JournalHeadObject(1) == "mds1_journal_head");
}

TEST_CASE("replaying the journal into a fresh cache gives the same state, twice too", "[mds][journal]") {
  Harness h;
  auto d = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "d");
  auto e = h.Mk(proto::MDS_OP_MKDIR, d.ino(), "e");
  auto f = h.Mk(proto::MDS_OP_CREATE, e.ino(), "f");
  h.Mk(proto::MDS_OP_SYMLINK, kRootIno, "s");
  auto l = h.Req(proto::MDS_OP_LINK, kRootIno, "hard");
  l.set_ino2(f.ino());
  REQUIRE(h.Err(l) == 0);
  auto r = h.Req(proto::MDS_OP_RENAME, d.ino(), "e");
  r.set_ino2(kRootIno);
  r.set_name2("e2");
  REQUIRE(h.Err(r) == 0);
  auto x = h.Req(proto::MDS_OP_SETXATTR, f.ino());
  x.set_xattr_name("user.k");
  x.set_xattr_value("v");
  REQUIRE(h.Err(x) == 0);
  REQUIRE(h.Err(h.Req(proto::MDS_OP_RMDIR, kRootIno, "d")) == 0);
  auto set = h.Req(proto::MDS_OP_SETATTR, kRootIno);
  set.mutable_setattr()->set_mask(1);
  set.mutable_setattr()->set_mode(0700);
  REQUIRE(h.Err(set) == 0);

  // Through the framing, as the daemon stores it.
  std::string seg;
  for (const auto& en : h.journal) EncodeRecord(en, &seg);
  auto entries = DecodeRecords(seg);
  REQUIRE(entries.size() == h.journal.size());

  MdsCache fresh(0);
  fresh.InstallRoot(fresh.MakeRootInode(1));
  fresh.InstallEmptyDir(kRootIno);
  fresh.InstallEmptyDir(StrayIno(0));
  // The daemon loads every dir an entry names before applying (objects of
  // a new fs are empty).
  for (const auto& en : entries)
    for (const auto& op : en.ops())
      if (op.has_dentry_set()) fresh.InstallEmptyDir(op.dentry_set().dir_ino());
  for (const auto& en : entries) fresh.ApplyEntry(en);
  // The live cache may hold extra empty dirs (d, now removed); compare
  // what both have for the dirs that exist.
  auto strip = [](std::string s) { return s; };
  MdsCache twice(0);
  twice.InstallRoot(twice.MakeRootInode(1));
  twice.InstallEmptyDir(kRootIno);
  twice.InstallEmptyDir(StrayIno(0));
  for (const auto& en : entries)
    for (const auto& op : en.ops())
      if (op.has_dentry_set()) twice.InstallEmptyDir(op.dentry_set().dir_ino());
  for (const auto& en : entries) twice.ApplyEntry(en);
  for (const auto& en : entries) twice.ApplyEntry(en);
  CHECK(strip(fresh.DebugDump()) == strip(twice.DebugDump()));
  CHECK(fresh.DebugDump() == h.cache.DebugDump());
}

TEST_CASE("cache trimming drops clean unpinned dirs; their inodes are found again by loading", "[mds][cache]") {
  Harness h;
  auto a = h.Mk(proto::MDS_OP_MKDIR, kRootIno, "a");
  auto f = h.Mk(proto::MDS_OP_MKNOD, a.ino(), "f", 0100644);
  for (int i = 0; i < 50; ++i) h.Mk(proto::MDS_OP_MKNOD, a.ino(), "pad" + std::to_string(i), 0100644);
  // Dirty dirs stay whatever the limit.
  CHECK(h.cache.Trim(0, {}) == 0);
  FlushBatch b = h.cache.TakeDirty();
  REQUIRE(b.dirs.count(a.ino()));
  CHECK(b.dirs[a.ino()].set.count("f"));
  CHECK(!h.cache.AnyDirty());
  size_t before = h.cache.bytes();
  // Pinned dirs stay too.
  CHECK(h.cache.Trim(0, {a.ino()}) == 0);
  CHECK(h.cache.Trim(0, {}) == 1);  // root and stray are never trimmed
  CHECK(h.cache.bytes() < before);
  CHECK_FALSE(h.cache.HasDir(a.ino()));
  // GETATTR of f now asks for a's dir; "loading" it from what the flush
  // wrote finds f again.
  auto o = h.core.Handle(h.session, h.Req(proto::MDS_OP_GETATTR, f.ino()), h.now);
  REQUIRE(o.kind == Outcome::kNeedDir);
  CHECK(o.need_dir == a.ino());
  h.cache.InstallDir(a.ino(), b.dirs[a.ino()].set);
  auto again = h.core.Handle(h.session, h.Req(proto::MDS_OP_GETATTR, f.ino()), h.now);
  REQUIRE(again.kind == Outcome::kReply);
  CHECK(again.reply.target().ino() == f.ino());
}
