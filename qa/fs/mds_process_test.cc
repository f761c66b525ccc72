// nacre-mds processes with real monitors and OSDs: after `fs volume create`
// one of two MDSs becomes up:active; a client (speaking MdsRequest over a
// messenger, as libfs does) creates files; after kill -9 of the active MDS
// the standby takes the rank over, replays the journal, and the client's
// session reconnects: the names are there and a resent request is answered
// from the journal instead of being done twice.
#include <catch2/catch.hpp>

#include <fcntl.h>

#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "cluster/mon_client.h"
#include "common/asio_event_loop.h"
#include "common/msg/tcp_messenger.h"
#include "mds.pb.h"
#include "messenger.pb.h"
#include "qa/cluster/test_cluster.h"

using namespace nacre;
using namespace nacre::qa;

namespace {

// The active MDS of rank 0 of the only filesystem, from `fs dump`:
// {name, addr}; empty name if none.
std::pair<std::string, std::string> ActiveMds(TestCluster& c) {
  nlohmann::json dump = c.JsonCommand("fs dump");
  if (!dump.is_object() || !dump.contains("mds")) return {};
  for (const auto& m : dump["mds"])
    if (m["rank"] == 0 && m["state"] == "up:active") return {m["name"].get<std::string>(), m["addr"].get<std::string>()};
  return {};
}

// `fs status --format json`: the state of rank 0 ("active", "replay", ...).
std::string Rank0State(TestCluster& c) {
  nlohmann::json st = c.JsonCommand("fs status");
  if (!st.is_object()) return "";
  for (const auto& fs : st["filesystems"])
    for (const auto& r : fs["mdsmap"])
      if (r.contains("rank") && r["rank"] == 0) return r["state"].get<std::string>();
  return "";
}

// A minimal MDS client: one lossy connection, one session, synchronous calls.
class MdsClient : public msg::Dispatcher {
 public:
  explicit MdsClient(TestCluster& c)
      : ms_(loop_, "client.admin", [](const std::string&) -> Result<std::string> { return NotFound("no peers"); },
            c.admin_secret(), msg::TcpMessengerOptions{}) {
    ms_.SetDispatcher(this);
    REQUIRE(ms_.Start().ok());
    thread_ = std::thread([this] { loop_.Run(); });
  }
  ~MdsClient() override {
    ms_.Shutdown();
    loop_.Stop();
    thread_.join();
  }
  void Connect(const std::string& name, const std::string& addr) {
    auto a = msg::EntityAddr::Parse(addr);
    REQUIRE(a.ok());
    con_ = ms_.Connect("mds." + name, *a, msg::Policy::kLossy);
  }
  proto::MdsSessionReply Session(proto::MdsSessionRequest r) {
    std::unique_lock<std::mutex> l(mu_);
    session_reply_.reset();
    l.unlock();
    REQUIRE(con_->Send(msg::Message::Make(proto::MSG_MDS_SESSION, r)).ok());
    l.lock();
    REQUIRE(cv_.wait_for(l, std::chrono::seconds(30), [&] { return session_reply_.has_value(); }));
    return *session_reply_;
  }
  proto::MdsReply Call(proto::MdsRequest r) {
    REQUIRE(con_->Send(msg::Message::Make(proto::MSG_MDS_REQUEST, r)).ok());
    std::unique_lock<std::mutex> l(mu_);
    REQUIRE(cv_.wait_for(l, std::chrono::seconds(30), [&] { return replies_.count(r.tid()) > 0; }));
    return replies_[r.tid()];
  }
  // Sends a request without waiting (its reply comes later: Wait).
  void Send(const proto::MdsRequest& r) {
    REQUIRE(con_->Send(msg::Message::Make(proto::MSG_MDS_REQUEST, r)).ok());
  }
  std::optional<proto::MdsReply> Reply(uint64_t tid, double secs) {
    std::unique_lock<std::mutex> l(mu_);
    if (!cv_.wait_for(l, std::chrono::duration<double>(secs), [&] { return replies_.count(tid) > 0; })) return {};
    return replies_[tid];
  }
  void SendCap(const proto::CapProto& c) { REQUIRE(con_->Send(msg::Message::Make(proto::MSG_MDS_CAP, c)).ok()); }
  // The first cap message of type `op` received (waits for it).
  std::optional<proto::CapProto> WaitCap(proto::CapOp op) {
    std::unique_lock<std::mutex> l(mu_);
    auto has = [&] {
      for (const auto& c : caps_)
        if (c.op() == op) return true;
      return false;
    };
    if (!cv_.wait_for(l, std::chrono::seconds(30), has)) return {};
    for (const auto& c : caps_)
      if (c.op() == op) return c;
    return {};
  }
  void OnMessage(const msg::ConnectionRef&, msg::Message&& m) override {
    std::lock_guard<std::mutex> g(mu_);
    if (m.type == proto::MSG_MDS_CAP) {
      proto::CapProto c;
      if (m.ParseHeader(&c)) caps_.push_back(c);
    }
    if (m.type == proto::MSG_MDS_SESSION_REPLY) {
      proto::MdsSessionReply r;
      if (m.ParseHeader(&r)) session_reply_ = r;
    } else if (m.type == proto::MSG_MDS_REPLY) {
      proto::MdsReply r;
      if (m.ParseHeader(&r)) replies_[r.tid()] = r;
    }
    cv_.notify_all();
  }

 private:
  AsioEventLoop loop_;
  msg::TcpMessenger ms_;
  std::thread thread_;
  msg::ConnectionRef con_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<proto::MdsSessionReply> session_reply_;
  std::map<uint64_t, proto::MdsReply> replies_;
  std::vector<proto::CapProto> caps_;
};

proto::MdsRequest Req(uint64_t tid, proto::MdsOp op, uint64_t ino, const std::string& name) {
  proto::MdsRequest r;
  r.set_tid(tid);
  r.set_op(op);
  r.set_ino(ino);
  r.set_name(name);
  r.set_mode(0755);
  return r;
}

// 3 mons, 3 OSDs, MDSs a and b, `fs volume create cephfs`; waits for an
// active rank 0 and returns it.
std::pair<std::string, std::string> StartFs(TestCluster& c, const std::string& conf) {
  REQUIRE(c.Create("mon osd report timeout = 10\nmds beacon interval = 0.5\nmds beacon grace = 4\n" + conf).ok());
  REQUIRE(c.WaitForQuorum(3));
  for (int i = 0; i < 3; ++i) REQUIRE(c.AddOsd().ok());
  REQUIRE(c.StartMds("a").ok());
  REQUIRE(c.StartMds("b").ok());
  auto vol = c.Command("fs volume create", {{"name", "cephfs"}});
  REQUIRE(vol.ok());
  INFO(vol->status().message());
  REQUIRE(vol->status().code() == 0);
  std::pair<std::string, std::string> active;
  bool up = WaitFor([&] { return !(active = ActiveMds(c)).first.empty(); }, std::chrono::seconds(120));
  INFO(c.Cli("fs status").out);
  REQUIRE(up);
  CHECK(Rank0State(c) == "active");
  return active;
}

// Kills the active MDS and waits for the other to take rank 0.
std::pair<std::string, std::string> Takeover(TestCluster& c, const std::string& first) {
  c.KillMds(first);
  std::pair<std::string, std::string> active;
  bool up = WaitFor([&] { active = ActiveMds(c); return !active.first.empty() && active.first != first; },
                    std::chrono::seconds(120));
  INFO(c.Cli("fs status").out);
  REQUIRE(up);
  CHECK(Rank0State(c) == "active");
  return active;
}

}  // namespace

TEST_CASE("an MDS becomes active, and after kill -9 the standby takes over with the journal", "[qa][mds]") {
  TestCluster c(3);
  // Flushes are rare here: the standby must find everything in the journal.
  auto active = StartFs(c, "mds journal flush interval = 1000\n");

  MdsClient cl(c);
  cl.Connect(active.first, active.second);
  proto::MdsSessionRequest open;
  open.set_op(proto::MDS_SESSION_OPEN);
  open.set_client_uuid("test");
  auto sess = cl.Session(open);
  REQUIRE(sess.status().code() == 0);
  auto mkdir = Req(1, proto::MDS_OP_MKDIR, 1, "dir");
  auto d = cl.Call(mkdir);
  REQUIRE(d.status().code() == 0);
  REQUIRE(d.safe());
  auto create = Req(2, proto::MDS_OP_CREATE, d.target().ino(), "file");
  create.set_mode(0644);
  create.set_flags(O_CREAT | O_RDWR);
  auto f = cl.Call(create);
  REQUIRE(f.status().code() == 0);
  CHECK(f.caps() != 0);
  CHECK(cl.Call(Req(3, proto::MDS_OP_MKDIR, 1, "dir")).status().code() == EEXIST);

  // Another client's GETATTR revokes the writer's Fb and waits for its
  // release, which carries the size the writer kept.
  MdsClient other(c);
  other.Connect(active.first, active.second);
  REQUIRE(other.Session(open).status().code() == 0);
  other.Send(Req(1, proto::MDS_OP_GETATTR, f.target().ino(), ""));
  auto revoke = cl.WaitCap(proto::CAP_OP_REVOKE);
  REQUIRE(revoke);
  CHECK(revoke->ino() == f.target().ino());
  CHECK((revoke->caps() & proto::CAP_FILE_BUFFER) == 0);
  CHECK_FALSE(other.Reply(1, 0.2));  // still waiting for the holder
  proto::CapProto rel;
  rel.set_op(proto::CAP_OP_RELEASE);
  rel.set_ino(f.target().ino());
  rel.set_caps(revoke->caps());
  rel.set_seq(revoke->seq());
  rel.set_size(4096);
  rel.set_mtime_ns(12345);
  rel.set_dirty(1 | 2);
  cl.SendCap(rel);
  auto attr = other.Reply(1, 30);
  REQUIRE(attr);
  CHECK(attr->status().code() == 0);
  CHECK(attr->target().size() == 4096);

  active = Takeover(c, active.first);
  MdsClient cl2(c);
  cl2.Connect(active.first, active.second);
  proto::MdsSessionRequest rc;
  rc.set_op(proto::MDS_SESSION_RECONNECT);
  rc.set_session(sess.session());
  auto re = cl2.Session(rc);
  REQUIRE(re.status().code() == 0);
  CHECK(re.last_completed_tid() >= 2);
  // The resent mkdir is answered from the journal with the same inode.
  auto again = cl2.Call(mkdir);
  CHECK(again.status().code() == 0);
  CHECK(again.target().ino() == d.target().ino());
  // A resent CREATE opens the file again: same inode, caps granted.
  auto again_create = cl2.Call(create);
  CHECK(again_create.status().code() == 0);
  CHECK(again_create.target().ino() == f.target().ino());
  CHECK(again_create.caps() != 0);
  auto look = cl2.Call(Req(10, proto::MDS_OP_LOOKUP, d.target().ino(), "file"));
  CHECK(look.status().code() == 0);
  CHECK(look.target().ino() == f.target().ino());
  CHECK(look.target().size() == 4096);
  // New work goes on with fresh numbers.
  auto more = cl2.Call(Req(11, proto::MDS_OP_MKDIR, 1, "after"));
  CHECK(more.status().code() == 0);
  CHECK(more.target().ino() > f.target().ino());
}

TEST_CASE("flushed directories and the rest of the journal both survive a takeover", "[qa][mds]") {
  TestCluster c(3);
  // Frequent flushes and tiny segments: dirs are written to their objects
  // and old segments deleted while the client works.
  // A tiny cache: flushed dirs are trimmed and loaded again on use.
  auto active = StartFs(c, "mds journal flush interval = 0.2\nmds journal segment bytes = 2048\n"
                           "mds cache memory limit = 2048\n");
  MdsClient cl(c);
  cl.Connect(active.first, active.second);
  proto::MdsSessionRequest open;
  open.set_op(proto::MDS_SESSION_OPEN);
  REQUIRE(cl.Session(open).status().code() == 0);
  auto d = cl.Call(Req(1, proto::MDS_OP_MKDIR, 1, "many"));
  REQUIRE(d.status().code() == 0);
  uint64_t tid = 100;
  for (int i = 0; i < 60; ++i) {
    auto r = Req(++tid, proto::MDS_OP_MKNOD, d.target().ino(), "f" + std::to_string(i));
    r.set_mode(0100644);
    REQUIRE(cl.Call(r).status().code() == 0);
    if (i == 20) {
      // A flush has written the directory's object (its omap holds names).
      char oid[64];
      snprintf(oid, sizeof oid, "%llx.00000000", static_cast<unsigned long long>(d.target().ino()));
      CHECK(WaitFor([&] {
        return c.Cli(std::string("rados -p cephfs.cephfs.meta listomapkeys ") + oid).out.find("f1\n") !=
               std::string::npos;
      }, std::chrono::seconds(30)));
    }
  }
  REQUIRE(cl.Call(Req(++tid, proto::MDS_OP_UNLINK, d.target().ino(), "f7")).status().code() == 0);
  // Names stay reachable whether their dir is cached or was trimmed.
  for (int i = 0; i < 60; i += 13) {
    auto l = cl.Call(Req(++tid, proto::MDS_OP_LOOKUP, d.target().ino(), "f" + std::to_string(i)));
    CHECK(l.status().code() == (i == 7 ? ENOENT : 0));
  }
  auto x = Req(++tid, proto::MDS_OP_SETXATTR, d.target().ino(), "");
  x.set_xattr_name("user.k");
  x.set_xattr_value("v");
  REQUIRE(cl.Call(x).status().code() == 0);

  active = Takeover(c, active.first);
  MdsClient cl2(c);
  cl2.Connect(active.first, active.second);
  REQUIRE(cl2.Session(open).status().code() == 0);
  std::vector<std::string> names;
  auto rd = Req(1, proto::MDS_OP_READDIR, d.target().ino(), "");
  rd.set_readdir_max(16);
  for (uint64_t t = 2;; ++t) {
    auto r = cl2.Call(rd);
    REQUIRE(r.status().code() == 0);
    for (const auto& e : r.entries()) names.push_back(e.name());
    if (!r.more()) break;
    rd.set_tid(t);
    rd.set_readdir_after(names.back());
  }
  CHECK(names.size() == 59);
  CHECK(std::find(names.begin(), names.end(), "f7") == names.end());
  auto g = Req(1000, proto::MDS_OP_GETXATTR, d.target().ino(), "");
  g.set_xattr_name("user.k");
  CHECK(cl2.Call(g).xattr_value() == "v");
}
