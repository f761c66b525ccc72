// The monitors' side of the filesystem over real sockets: stand-in MDS
// daemons (a messenger endpoint authenticated as mds.NAME, with a MonSession
// following the FSMap) beacon three monitors. Checks standby registration,
// rank assignment and activation, beacon statistics seen by every monitor,
// failover after mds_beacon_grace, re-registration after a restart, and
// `fs volume create` / `fs status` / `status` output.
//
// The stand-in follows the contract the real nacre-mds keeps (doc/
// filesystem.md): beacon every interval with its state; when its MdsInfo in
// the FSMap shows a rank in up:replay, "replay" (at once here) and beacon
// up:active; when its MdsInfo no longer has the gid, fs and rank it serves
// under, stop serving (the real daemon exits and restarts as a standby).
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "common/asio_event_loop.h"
#include "common/keyring.h"
#include "common/msg/tcp_messenger.h"
#include "cluster/mon_client.h"
#include "cluster/mon_session.h"
#include "mds.pb.h"
#include "messenger.pb.h"
#include "qa/cluster/test_cluster.h"

using namespace nacre;
using namespace nacre::qa;

namespace {

class FakeMds : public msg::Dispatcher {
 public:
  // `entity` is who the messenger authenticates as: "mds.NAME" unless a
  // test wants an impostor.
  FakeMds(TestCluster& c, const std::string& name, const std::string& secret, uint64_t incarnation,
          const std::string& entity = "")
      : name_(name),
        incarnation_(incarnation),
        ms_(loop_, entity.empty() ? "mds." + name : entity, [](const std::string&) -> Result<std::string> { return NotFound("none"); }, secret,
            msg::TcpMessengerOptions{}) {
    monc::MonSession::Options o;
    o.mons = *monc::ParseMonHost(c.mon_host());
    for (int i = 0; i < c.num_mons(); ++i) o.mon_names.push_back("mon." + c.MonName(i));
    o.hunt_timeout = std::chrono::seconds(2);
    o.want_fsmap = true;
    o.on_fsmap = [this](const proto::FSMapProto& f) { OnFsMap(f); };
    session_ = std::make_unique<monc::MonSession>(&ms_, o);
    ms_.SetDispatcher(this);
    REQUIRE(ms_.Bind({"127.0.0.1", 0}).ok());
    REQUIRE(ms_.Start().ok());
    loop_.Post([this] {
      session_->Start();
      Tick();
    });
    thread_ = std::thread([this] { loop_.Run(); });
  }
  ~FakeMds() override {
    std::promise<void> done;
    loop_.Post([&] {
      loop_.Cancel(timer_);
      session_->Stop();
      done.set_value();
    });
    done.get_future().wait();
    ms_.Shutdown();
    loop_.Stop();
    thread_.join();
  }
  void OnMessage(const msg::ConnectionRef& con, msg::Message&& m) override { session_->HandleMessage(con, m); }
  void OnReset(const msg::ConnectionRef& con) override { session_->HandleReset(con); }

  // Stops beaconing (a hung daemon): the monitors must fail it over.
  void Silence() { silent_ = true; }
  std::string state() {
    std::lock_guard<std::mutex> g(mu_);
    return state_;
  }
  int32_t rank() {
    std::lock_guard<std::mutex> g(mu_);
    return rank_;
  }
  uint64_t fsmap_epoch() {
    std::lock_guard<std::mutex> g(mu_);
    return fsmap_epoch_;
  }

 private:
  void Tick() {
    if (!silent_) SendBeacon();
    timer_ = loop_.CallAfter(std::chrono::milliseconds(250), [this] { Tick(); });
  }
  void SendBeacon() {
    proto::MdsBeacon b;
    {
      std::lock_guard<std::mutex> g(mu_);
      b.set_name(name_);
      b.set_state(state_);
      b.set_fs_id(fs_id_);
      b.set_rank(rank_);
      b.set_fsmap_epoch(fsmap_epoch_);
    }
    b.set_incarnation(incarnation_);
    b.set_seq(++seq_);
    b.mutable_addr()->set_host(ms_.my_addr().host);
    b.mutable_addr()->set_port(ms_.my_addr().port);
    b.set_clients(1);
    b.set_requests_per_sec(2.5);
    b.set_cache_bytes(4096);
    b.set_cache_limit(1 << 30);
    b.set_inodes(7);
    (void)session_->SendToMon(msg::Message::Make(proto::MSG_MDS_BEACON, b));
  }
  void OnFsMap(const proto::FSMapProto& f) {
    bool beacon_now = false;
    {
      std::lock_guard<std::mutex> g(mu_);
      fsmap_epoch_ = f.epoch();
      auto it = f.mds().find(name_);
      if (it != f.mds().end() && it->second.incarnation() == incarnation_) {
        const proto::MdsInfo& me = it->second;
        // The assignment served is (gid, fs_id, rank); any change ends it.
        if (rank_ >= 0 && (me.gid() != gid_ || me.rank() != rank_ || me.fs_id() != fs_id_)) {
          state_ = "up:standby";  // the real daemon exits and restarts here
          rank_ = fs_id_ = -1;
        }
        if (me.rank() >= 0 && me.state() == "up:replay" && state_ == "up:standby") {
          gid_ = me.gid();
          fs_id_ = me.fs_id();
          rank_ = me.rank();
          state_ = "up:active";  // replay done at once
          beacon_now = true;
        }
      }
    }
    if (beacon_now && !silent_) SendBeacon();
  }

  std::string name_;
  uint64_t incarnation_;
  AsioEventLoop loop_;
  msg::TcpMessenger ms_;
  std::unique_ptr<monc::MonSession> session_;
  std::thread thread_;
  EventLoop::TimerId timer_ = 0;
  uint64_t seq_ = 0;
  std::atomic<bool> silent_{false};
  std::mutex mu_;
  std::string state_ = "up:standby";
  int32_t fs_id_ = -1, rank_ = -1;
  uint64_t gid_ = 0;
  uint64_t fsmap_epoch_ = 0;
};

std::string MdsSecret(TestCluster& c, const std::string& name) {
  auto created = c.JsonCommand("auth get-or-create", {{"entity", "mds." + name}, {"caps", R"(["mon","allow profile mds"])"}});
  REQUIRE(created.is_array());
  auto secret = Base64Decode(created[0]["key"].get<std::string>());
  REQUIRE(secret.ok());
  return *secret;
}

// name -> (rank, state) per `fs dump`; empty on any failure.
std::map<std::string, std::pair<int, std::string>> Ranks(TestCluster& c) {
  std::map<std::string, std::pair<int, std::string>> out;
  nlohmann::json d = c.JsonCommand("fs dump");
  if (!d.is_object()) return out;
  for (const auto& m : d["mds"]) out[m["name"]] = {m["rank"].get<int>(), m["state"].get<std::string>()};
  return out;
}

bool Holds(TestCluster& c, const std::string& name, int rank, const std::string& state) {
  auto r = Ranks(c);
  auto it = r.find(name);
  return it != r.end() && it->second.first == rank && it->second.second == state;
}

}  // namespace

TEST_CASE("MDS beacons: standby, rank assignment, activation, failover and restart", "[qa][mon][mds]") {
  TestCluster c(3);
  REQUIRE(c.Create("mds beacon grace = 3\n").ok());
  REQUIRE(c.WaitForQuorum(3));

  auto vol = c.Command("fs volume create", {{"name", "cephfs"}});
  REQUIRE(vol.ok());
  REQUIRE(vol->status().code() == 0);
  nlohmann::json pools = c.JsonCommand("osd pool ls");
  REQUIRE(pools.is_array());
  CHECK(pools.get<std::set<std::string>>() == std::set<std::string>{"cephfs.cephfs.meta", "cephfs.cephfs.data"});
  CHECK(c.JsonCommand("fs volume ls") == nlohmann::json::parse(R"([{"name":"cephfs"}])"));
  // A filesystem and no MDS: offline.
  CHECK(c.JsonCommand("health")["checks"].contains("MDS_ALL_DOWN"));

  std::string sa = MdsSecret(c, "a"), sb = MdsSecret(c, "b");
  // client.admin beaconing for "z": the FSMap reaches it (any authenticated
  // subscriber), but its beacons are dropped (an MDS speaks for itself).
  FakeMds impostor(c, "z", c.admin_secret(), 1, "client.admin");
  auto a = std::make_unique<FakeMds>(c, "a", sa, 1);
  // a registers, gets rank 0 (up:replay), follows the FSMap, goes active.
  REQUIRE(WaitFor([&] { return Holds(c, "a", 0, "up:active"); }, std::chrono::seconds(30)));
  CHECK(a->state() == "up:active");
  CHECK(a->rank() == 0);
  CHECK(a->fsmap_epoch() >= 3);  // the session delivered the FSMap changes
  CHECK(WaitFor([&] { return impostor.fsmap_epoch() >= a->fsmap_epoch(); }, std::chrono::seconds(30)));
  CHECK(Ranks(c).count("z") == 0);
  FakeMds b(c, "b", sb, 2);
  REQUIRE(WaitFor([&] { return Holds(c, "b", -1, "up:standby"); }, std::chrono::seconds(30)));

  // Every monitor has the beacons' statistics (the one reached relays them).
  for (int i = 0; i < c.num_mons(); ++i) {
    INFO("mon." << c.MonName(i));
    CHECK(WaitFor([&] {
      nlohmann::json st = c.JsonCommand("fs status", {{"fs_name", "cephfs"}}, i);
      return st.is_object() && st["filesystems"].size() == 1 && st["filesystems"][0]["mdsmap"].size() == 1 &&
             st["filesystems"][0]["mdsmap"][0]["rate"] == 2.5 && st["filesystems"][0]["clients"] == 1;
    }, std::chrono::seconds(30)));
  }
  ProcResult st = c.Cli("fs status");
  INFO(st.out);
  CHECK(st.exit_code == 0);
  CHECK(st.out.find("cephfs - 1 clients") != std::string::npos);
  CHECK(st.out.find("Reqs: 2.5 /s") != std::string::npos);
  CHECK(st.out.find("cephfs.cephfs.data") != std::string::npos);
  CHECK(st.out.find("STANDBY MDS") != std::string::npos);
  ProcResult s = c.Cli("-s");
  INFO(s.out);
  CHECK(s.out.find("mds: cephfs:1 {0=a=up:active} 1 up:standby") != std::string::npos);
  CHECK_FALSE(c.JsonCommand("health")["checks"].contains("MDS_ALL_DOWN"));
  CHECK(c.Cli("fs status nope").exit_code == ENOENT);

  // a hangs: after the grace it is removed and b takes rank 0.
  a->Silence();
  REQUIRE(WaitFor([&] { return Holds(c, "b", 0, "up:active"); }, std::chrono::seconds(60)));
  CHECK(Ranks(c).count("a") == 0);
  CHECK(b.rank() == 0);

  // a restarts (new incarnation): a standby again, with a new gid.
  a.reset();
  FakeMds a2(c, "a", sa, 3);
  REQUIRE(WaitFor([&] { return Holds(c, "a", -1, "up:standby"); }, std::chrono::seconds(30)));
  CHECK(Holds(c, "b", 0, "up:active"));

  // fs fail: nobody holds a rank; joinable again: a standby takes it.
  REQUIRE(c.Command("fs fail", {{"fs_name", "cephfs"}}).ok());
  REQUIRE(WaitFor([&] {
    auto r = Ranks(c);
    return r.size() == 2 && r["a"].first == -1 && r["b"].first == -1;
  }, std::chrono::seconds(30)));
  CHECK(c.JsonCommand("health")["checks"].contains("MDS_ALL_DOWN"));
  REQUIRE(c.Command("fs set", {{"fs_name", "cephfs"}, {"var", "joinable"}, {"val", "true"}}).ok());
  CHECK(WaitFor([&] {
    auto r = Ranks(c);
    return (r["a"].first == 0 && r["a"].second == "up:active") || (r["b"].first == 0 && r["b"].second == "up:active");
  }, std::chrono::seconds(30)));

  // Removing the volume needs the flag, then takes the pools with it.
  CHECK(c.Cli("fs volume rm cephfs").exit_code == EPERM);
  ProcResult rm = c.Cli("fs volume rm cephfs --yes-i-really-mean-it");
  INFO(rm.out);
  CHECK(rm.exit_code == 0);
  CHECK(c.JsonCommand("osd pool ls") == nlohmann::json::array());
  CHECK(WaitFor([&] { auto r = Ranks(c); return r.size() == 2 && r["a"].first == -1 && r["b"].first == -1; },
                std::chrono::seconds(30)));
}
