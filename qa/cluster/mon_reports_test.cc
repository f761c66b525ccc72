// Monitors and the daemons that follow them, over real sockets: map
// subscriptions with incrementals, OSD boot, failure reports, missed beacons
// and automatic out. The "OSDs" here are messenger endpoints speaking the
// OSD's monitor protocol; the OSD daemon itself comes with the object layer.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/asio_event_loop.h"
#include "common/msg/tcp_messenger.h"
#include "daemons/mon/cluster_maps.h"
#include "cluster/osdmap_incremental.h"
#include "cluster/mon_client.h"
#include "messenger.pb.h"
#include "mon.pb.h"
#include "qa/cluster/test_cluster.h"

using namespace nacre;
using namespace nacre::qa;

namespace {

// A messenger endpoint on its own loop thread that records what the
// monitors send it.
class FakeDaemon : public msg::Dispatcher {
 public:
  FakeDaemon(const std::string& name, const std::string& secret)
      : ms_(loop_, name, [](const std::string&) -> Result<std::string> { return NotFound("no peers"); }, secret,
            msg::TcpMessengerOptions{}) {
    ms_.SetDispatcher(this);
    REQUIRE(ms_.Bind({"127.0.0.1", 0}).ok());
    REQUIRE(ms_.Start().ok());
    thread_ = std::thread([this] { loop_.Run(); });
  }
  ~FakeDaemon() override {
    ms_.Shutdown();
    loop_.Stop();
    thread_.join();
  }

  void OnMessage(const msg::ConnectionRef&, msg::Message&& m) override {
    std::lock_guard<std::mutex> g(mu_);
    if (m.type == proto::MSG_OSD_BOOT_REPLY) {
      proto::OsdBootReply r;
      if (m.ParseHeader(&r)) boot_replies_.push_back(r);
    } else if (m.type == proto::MSG_MON_MAPS) {
      proto::MonMaps maps;
      if (maps.ParseFromString(std::string(m.payload.view()))) {
        if (maps.has_osdmap_full()) {
          osdmap_ = maps.osdmap_full();
          ++fulls_;
        }
        for (const auto& inc : maps.osdmap_incrementals()) {
          if (monc::ApplyOsdMapIncremental(inc, &osdmap_).ok()) ++incrementals_;
          else ++bad_incrementals_;
        }
      }
    }
  }

  Status Send(const msg::EntityAddr& mon, const std::string& mon_name, msg::Message m) {
    return ms_.Connect(mon_name, mon, msg::Policy::kLossless)->Send(std::move(m));
  }

  std::mutex mu_;
  std::vector<proto::OsdBootReply> boot_replies_;
  proto::OSDMapProto osdmap_;
  int fulls_ = 0, incrementals_ = 0, bad_incrementals_ = 0;

 private:
  AsioEventLoop loop_;
  msg::TcpMessenger ms_;
  std::thread thread_;
};

bool OsdState(TestCluster& c, int id, const char* field, int want) {
  nlohmann::json d = c.JsonCommand("osd dump");
  if (d.is_null()) return false;
  for (const auto& o : d["osds"])
    if (o["osd"] == id) return o[field] == want;
  return false;
}

}  // namespace

TEST_CASE("OSD boot, subscriptions, failure reports, missed beacons and auto-out", "[qa][mon]") {
  TestCluster c(3);
  REQUIRE(c.Create("mon osd report timeout = 4\nmon osd down out interval = 3\n").ok());
  REQUIRE(c.WaitForQuorum(3));
  auto mons = *monc::ParseMonHost(c.mon_host());
  auto mon_index = [&](const std::string& name) {
    for (int i = 0; i < c.num_mons(); ++i)
      if (c.MonName(i) == name) return i;
    return -1;
  };
  int leader = mon_index(c.Leader());
  REQUIRE(leader >= 0);
  int peon = (leader + 1) % c.num_mons();

  FakeDaemon d("client.admin", c.admin_secret());
  // Subscribe through a peon, from nothing: the full map arrives.
  proto::MonSubscribe sub;
  sub.set_osdmap(true);
  // A peon without its first lease yet stays silent: ask until it answers.
  REQUIRE(WaitFor([&] {
    {
      std::lock_guard<std::mutex> g(d.mu_);
      if (d.fulls_ >= 1) return true;
    }
    (void)d.Send(mons[peon], "mon." + c.MonName(peon), msg::Message::Make(proto::MSG_MON_SUBSCRIBE, sub));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return false;
  }, std::chrono::seconds(30)));


  // Three OSDs boot at the leader; a boot sent to a peon is turned away.
  proto::OsdBoot boot;
  boot.set_uuid("uuid-peon");
  boot.set_host("h9");
  boot.set_want_id(-1);
  REQUIRE(d.Send(mons[peon], "mon." + c.MonName(peon), msg::Message::Make(proto::MSG_OSD_BOOT, boot)).ok());
  for (int i = 0; i < 3; ++i) {
    boot.set_uuid("uuid-" + std::to_string(i));
    boot.set_host("host" + std::to_string(i));
    boot.mutable_addr()->set_host("127.0.0.1");
    boot.mutable_addr()->set_port(static_cast<uint32_t>(7100 + i));
    REQUIRE(d.Send(mons[leader], "mon." + c.MonName(leader), msg::Message::Make(proto::MSG_OSD_BOOT, boot)).ok());
  }
  REQUIRE(WaitFor([&] { std::lock_guard<std::mutex> g(d.mu_); return d.boot_replies_.size() == 4; }, std::chrono::seconds(30)));
  {
    std::lock_guard<std::mutex> g(d.mu_);
    int ok = 0, again = 0;
    std::set<int> ids;
    for (const auto& r : d.boot_replies_) {
      if (r.status().code() == 0) {
        ++ok;
        ids.insert(r.id());
      }
      if (r.status().code() == EAGAIN) ++again;
    }
    CHECK(ok == 3);
    CHECK(again == 1);
    CHECK(ids == std::set<int>{0, 1, 2});
  }
  // The subscriber followed by incrementals, and its copy matches the monitors'.
  REQUIRE(WaitFor([&] { std::lock_guard<std::mutex> g(d.mu_); return d.osdmap_.osds_size() == 3; }, std::chrono::seconds(30)));
  {
    std::lock_guard<std::mutex> g(d.mu_);
    CHECK(d.incrementals_ >= 1);  // later changes came as incrementals
    CHECK(d.bad_incrementals_ == 0);
  }
  ProcResult tree = c.Cli("osd tree");
  CHECK(tree.out.find("host host1") != std::string::npos);
  CHECK(tree.out.find("osd.2") != std::string::npos);
  REQUIRE(c.Command("osd pool create", {{"pool", "p1"}}).ok());
  REQUIRE(WaitFor([&] { std::lock_guard<std::mutex> g(d.mu_); return d.osdmap_.pools_size() == 1; }, std::chrono::seconds(30)));

  // Two peers report osd.2 failed (through a peon, which forwards): it goes down.
  auto beacon = [&](int id) {
    proto::OsdBeacon b;
    b.set_id(id);
    return d.Send(mons[leader], "mon." + c.MonName(leader), msg::Message::Make(proto::MSG_OSD_BEACON, b));
  };
  for (int reporter : {0, 1}) {
    proto::OsdFailureReport r;
    r.set_reporter(reporter);
    r.set_target(2);
    REQUIRE(d.Send(mons[peon], "mon." + c.MonName(peon), msg::Message::Make(proto::MSG_OSD_FAILURE, r)).ok());
  }
  CHECK(WaitFor([&] { (void)beacon(0); (void)beacon(1); return OsdState(c, 2, "up", 0); }, std::chrono::seconds(30)));
  // osd.2 goes out after the down-out interval; osd.1 stops beaconing and goes down.
  CHECK(WaitFor([&] { (void)beacon(0); return OsdState(c, 2, "in", 0); }, std::chrono::seconds(30)));
  CHECK(WaitFor([&] { (void)beacon(0); return OsdState(c, 1, "up", 0); }, std::chrono::seconds(30)));
  CHECK(OsdState(c, 0, "up", 1));
}
