// Caps (grant, revoke on another client's access, release with dirty size,
// strays purged on last close), file locks, session timeout.
#include <catch2/catch.hpp>

#include "daemons/mds/mds_test_util.h"

using namespace nacre;
using namespace nacre::mds;
using nacre::mds::testing::Harness;

namespace {
constexpr uint32_t kFw = 8, kFb = 16;

proto::FileLockProto Lock(uint32_t type, uint64_t start, uint64_t len, uint64_t owner, bool wait = false) {
  proto::FileLockProto l;
  l.set_type(type);
  l.set_start(start);
  l.set_length(len);
  l.set_owner(owner);
  l.set_wait(wait);
  return l;
}
}  // namespace

TEST_CASE("caps: writer gets Fw|Fb; another client's getattr revokes Fb and waits for the release", "[mds][caps]") {
  Harness h;
  uint64_t b = h.Open("client.b");
  auto cr = h.Req(proto::MDS_OP_CREATE, kRootIno, "f");
  cr.set_flags(O_CREAT | O_RDWR);
  cr.set_mode(0644);
  auto o = h.Run(cr);
  REQUIRE(o.reply.status().code() == 0);
  CHECK((o.reply.caps() & (kFw | kFb)) == (kFw | kFb));
  uint64_t ino = o.reply.target().ino();

  auto get = h.Req(proto::MDS_OP_GETATTR, ino);
  auto w = h.Run(get, b);
  REQUIRE(w.kind == Outcome::kWait);
  auto out = h.core.TakeOutbox();
  REQUIRE(out.size() == 1);
  CHECK(out[0].session == h.session);
  CHECK(out[0].cap.op() == proto::CAP_OP_REVOKE);
  CHECK((out[0].cap.caps() & kFb) == 0);
  // Asking again does not revoke twice.
  CHECK(h.Run(get, b).kind == Outcome::kWait);
  CHECK(h.core.TakeOutbox().empty());

  uint64_t wakes = h.core.WakeCount();
  proto::CapProto rel;
  rel.set_op(proto::CAP_OP_RELEASE);
  rel.set_ino(ino);
  rel.set_caps(out[0].cap.caps());
  rel.set_size(12345);
  rel.set_dirty(1 | 2);
  rel.set_mtime_ns(777);
  auto ro = h.core.HandleCap(h.session, rel, h.now);
  REQUIRE(ro.journal);
  CHECK(h.core.WakeCount() > wakes);
  auto done = h.Run(get, b);
  REQUIRE(done.kind == Outcome::kReply);
  CHECK(done.reply.target().size() == 12345);
  CHECK(done.reply.target().mtime_ns() == 777);

  // A second writer while the first still has it open: the first loses Fc
  // (no data caching with two writers); the second gets Fw without Fb.
  auto op = h.Req(proto::MDS_OP_OPEN, ino);
  op.set_flags(O_WRONLY);
  REQUIRE(h.Run(op, b).kind == Outcome::kWait);
  auto rev = h.core.TakeOutbox();
  REQUIRE(rev.size() == 1);
  CHECK((rev[0].cap.caps() & 4) == 0);
  rel.set_caps(rev[0].cap.caps());
  rel.set_dirty(0);
  (void)h.core.HandleCap(h.session, rel, h.now);
  auto o2 = h.Run(op, b);
  REQUIRE(o2.kind == Outcome::kReply);
  CHECK((o2.reply.caps() & kFw) != 0);
  CHECK((o2.reply.caps() & kFb) == 0);
}

TEST_CASE("caps: sync update gets a flush ack after the journal; unlinked open file is a stray until release",
          "[mds][caps]") {
  Harness h;
  auto f = h.Mk(proto::MDS_OP_CREATE, kRootIno, "f");
  proto::CapProto up;
  up.set_op(proto::CAP_OP_UPDATE);
  up.set_ino(f.ino());
  up.set_size(10);
  up.set_dirty(1);
  up.set_sync(true);
  up.set_seq(5);
  auto o = h.core.HandleCap(h.session, up, h.now);
  REQUIRE(o.journal);
  auto out = h.core.TakeOutbox();
  REQUIRE(out.size() == 1);
  CHECK(out[0].cap.op() == proto::CAP_OP_FLUSH_ACK);
  CHECK(out[0].after_journal);
  CHECK(out[0].cap.seq() == 5);

  REQUIRE(h.Err(h.Req(proto::MDS_OP_UNLINK, kRootIno, "f")) == 0);
  CHECK(h.cache.GetDir(StrayIno(0))->dentries.count(InoHex(f.ino())) == 1);
  proto::CapProto rel;
  rel.set_op(proto::CAP_OP_RELEASE);
  rel.set_ino(f.ino());
  rel.set_caps(0);
  auto r = h.core.HandleCap(h.session, rel, h.now);
  auto internal = h.core.TakeInternal();
  REQUIRE(internal.size() == 1);
  bool purge = false;
  for (const auto& op : internal[0].ops()) purge |= op.has_purge_inode() && op.purge_inode().ino() == f.ino();
  CHECK(purge);
  CHECK(h.cache.GetDir(StrayIno(0))->dentries.empty());
}

TEST_CASE("session timeout drops caps and locks, waking waiters", "[mds][caps]") {
  Harness h;
  uint64_t b = h.Open("client.b");
  auto f = h.Mk(proto::MDS_OP_CREATE, kRootIno, "f");
  auto get = h.Req(proto::MDS_OP_GETATTR, f.ino());
  CHECK(h.Run(get, b).kind == Outcome::kWait);
  // b keeps renewing; a goes silent.
  h.now += 30'000'000'000;
  proto::MdsSessionRequest renew;
  renew.set_op(proto::MDS_SESSION_RENEW);
  renew.set_session(b);
  h.core.HandleSession("client.b", renew, h.now, 0);
  h.now += 31'000'000'000;
  auto gone = h.core.Tick(h.now);
  REQUIRE(gone.size() == 1);
  CHECK(gone[0] == h.session);
  CHECK(h.Run(get, b).kind == Outcome::kReply);
}

TEST_CASE("fcntl and flock locks", "[mds][locks]") {
  FileLocks L;
  auto a = Lock(kWrLck, 0, 100, 1);
  a.set_session(1);
  L.Set(7, a);
  auto b = Lock(kRdLck, 50, 10, 2);
  b.set_session(2);
  CHECK(L.Conflict(7, b) != nullptr);
  auto c = Lock(kRdLck, 100, 10, 2);
  c.set_session(2);
  CHECK(L.Conflict(7, c) == nullptr);  // adjacent, not overlapping
  // Unlocking the middle splits the range.
  auto u = Lock(kUnLck, 40, 20, 1);
  u.set_session(1);
  L.Set(7, u);
  CHECK(L.count(7) == 2);
  CHECK(L.Conflict(7, b) == nullptr);
  // Same owner never conflicts with itself; flock is its own namespace.
  auto same = Lock(kWrLck, 0, 0, 1);
  same.set_session(1);
  CHECK(L.Conflict(7, same) == nullptr);
  auto fl = Lock(kWrLck, 0, 0, 2);
  fl.set_session(2);
  fl.set_flock(true);
  CHECK(L.Conflict(7, fl) == nullptr);
  L.Set(7, fl);
  auto fl2 = fl;
  fl2.set_session(3);
  CHECK(L.Conflict(7, fl2) != nullptr);
  CHECK(L.DropSession(1).size() == 1);
  CHECK(L.count(7) == 1);
}

TEST_CASE("blocking SETLK waits until the holder unlocks", "[mds][locks]") {
  Harness h;
  uint64_t b = h.Open("client.b");
  auto f = h.Mk(proto::MDS_OP_CREATE, kRootIno, "f");
  auto lk = h.Req(proto::MDS_OP_SETLK, f.ino());
  *lk.mutable_lock() = Lock(kWrLck, 0, 0, 1);
  REQUIRE(h.Err(lk) == 0);
  auto lk2 = h.Req(proto::MDS_OP_SETLK, f.ino());
  *lk2.mutable_lock() = Lock(kWrLck, 0, 10, 9);
  CHECK(h.Err(lk2, b) == EAGAIN);
  auto gl = h.Req(proto::MDS_OP_GETLK, f.ino());
  *gl.mutable_lock() = Lock(kRdLck, 5, 1, 9);
  auto g = h.Run(gl, b);
  CHECK(g.reply.lock().type() == kWrLck);
  CHECK(g.reply.lock().session() == h.session);
  auto wait = h.Req(proto::MDS_OP_SETLK, f.ino());
  *wait.mutable_lock() = Lock(kWrLck, 0, 10, 9, true);
  CHECK(h.Run(wait, b).kind == Outcome::kWait);
  auto un = h.Req(proto::MDS_OP_SETLK, f.ino());
  *un.mutable_lock() = Lock(kUnLck, 0, 0, 1);
  REQUIRE(h.Err(un) == 0);
  CHECK(h.Err(wait, b) == 0);
}

TEST_CASE("strays: a closed session's open file is purged; after a takeover unheld strays are", "[mds][caps]") {
  Harness h;
  auto f = h.Mk(proto::MDS_OP_CREATE, kRootIno, "f");  // open by h.session
  REQUIRE(h.Err(h.Req(proto::MDS_OP_UNLINK, kRootIno, "f")) == 0);
  REQUIRE(h.cache.GetDir(StrayIno(0))->dentries.count(InoHex(f.ino())) == 1);
  // A takeover: a fresh core knows no caps; once clients had their chance
  // to reconnect, the stray goes.
  MdsCore core2(&h.cache, CoreOptions{});
  core2.PurgeUnheldStrays();
  auto internal = core2.TakeInternal();
  REQUIRE(internal.size() == 1);
  CHECK(h.cache.GetDir(StrayIno(0))->dentries.empty());

  // Same thing through a session closing in the live core.
  auto g = h.Mk(proto::MDS_OP_CREATE, kRootIno, "g");
  REQUIRE(h.Err(h.Req(proto::MDS_OP_UNLINK, kRootIno, "g")) == 0);
  REQUIRE(h.cache.GetDir(StrayIno(0))->dentries.count(InoHex(g.ino())) == 1);
  h.core.CloseSession(h.session);
  CHECK(h.core.TakeInternal().size() == 1);
  CHECK(h.cache.GetDir(StrayIno(0))->dentries.empty());
}

TEST_CASE("a reconnect resends a revoke the client may have missed and drops caps it no longer names",
          "[mds][caps]") {
  Harness h;
  uint64_t b = h.Open("client.b");
  auto f = h.Mk(proto::MDS_OP_CREATE, kRootIno, "f");
  auto g = h.Mk(proto::MDS_OP_CREATE, kRootIno, "g");
  auto get = h.Req(proto::MDS_OP_GETATTR, f.ino());
  REQUIRE(h.Run(get, b).kind == Outcome::kWait);
  REQUIRE(h.core.TakeOutbox().size() == 1);  // lost on the way
  proto::MdsSessionRequest rc;
  rc.set_op(proto::MDS_SESSION_RECONNECT);
  rc.set_session(h.session);
  auto* held = rc.add_caps();
  held->set_ino(f.ino());
  held->set_caps(8 | 16);
  REQUIRE(h.core.HandleSession("client.a", rc, h.now, 0).status().code() == 0);
  CHECK(h.core.CapsOn(g.ino()).empty());  // not named: dropped
  REQUIRE(h.Run(get, b).kind == Outcome::kWait);
  auto again = h.core.TakeOutbox();
  REQUIRE(again.size() == 1);
  CHECK(again[0].cap.op() == proto::CAP_OP_REVOKE);
}
