// MonSession against real monitors: it follows the OSDMap by incrementals
// and hunts to another monitor when the one it uses is killed.
#include <catch2/catch.hpp>

#include <future>
#include <mutex>
#include <thread>

#include "common/asio_event_loop.h"
#include "common/keyring.h"
#include "common/msg/tcp_messenger.h"
#include "cluster/mon_client.h"
#include "cluster/mon_session.h"
#include "messenger.pb.h"
#include "osd.pb.h"
#include "qa/cluster/test_cluster.h"

using namespace nacre;
using namespace nacre::qa;

namespace {

// A client process's messenger with a MonSession, on its own loop thread.
class Client : public msg::Dispatcher {
 public:
  explicit Client(TestCluster& c) : Client(c, "client.admin", c.admin_secret(), false) {}
  // As `entity` with its raw secret; `want_auth` asks for the Auth map too.
  Client(TestCluster& c, const std::string& entity, const std::string& secret, bool want_auth)
      : ms_(loop_, entity, [](const std::string&) -> Result<std::string> { return NotFound("none"); }, secret,
            msg::TcpMessengerOptions{}) {
    monc::MonSession::Options o;
    o.mons = *monc::ParseMonHost(c.mon_host());
    for (int i = 0; i < c.num_mons(); ++i) o.mon_names.push_back("mon." + c.MonName(i));
    o.hunt_timeout = std::chrono::seconds(2);
    o.on_osdmap = [this](const proto::OSDMapProto& m) {
      std::lock_guard<std::mutex> g(mu_);
      map_ = m;
    };
    o.want_auth = want_auth;
    o.on_authmap = [this](const proto::AuthMapProto& a) {
      std::lock_guard<std::mutex> g(mu_);
      auth_ = a;
    };
    session_ = std::make_unique<monc::MonSession>(&ms_, o);
    ms_.SetDispatcher(this);
    REQUIRE(ms_.Bind({"127.0.0.1", 0}).ok());
    REQUIRE(ms_.Start().ok());
    loop_.Post([this] { session_->Start(); });
    thread_ = std::thread([this] { loop_.Run(); });
  }
  ~Client() override {
    loop_.Post([this] { session_->Stop(); });
    ms_.Shutdown();
    loop_.Stop();
    thread_.join();
  }
  void OnMessage(const msg::ConnectionRef& con, msg::Message&& m) override { session_->HandleMessage(con, m); }
  void OnReset(const msg::ConnectionRef& con) override { session_->HandleReset(con); }

  bool HasPool(const std::string& name) {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& [id, p] : map_.pools())
      if (p.name() == name) return true;
    return false;
  }
  uint64_t epoch() {
    std::lock_guard<std::mutex> g(mu_);
    return map_.epoch();
  }
  proto::AuthMapProto authmap() {
    std::lock_guard<std::mutex> g(mu_);
    return auth_;
  }
  // Loop-thread state, read through the loop.
  template <class F>
  auto OnLoop(F f) {
    std::promise<decltype(f())> p;
    loop_.Post([&] { p.set_value(f()); });
    return p.get_future().get();
  }

  monc::MonSession& session() { return *session_; }
  // Sends straight to one monitor, beside the session (OSD reports).
  Status SendTo(const msg::EntityAddr& mon, const std::string& mon_name, msg::Message m) {
    return ms_.Connect(mon_name, mon, msg::Policy::kLossless)->Send(std::move(m));
  }

 private:
  AsioEventLoop loop_;
  msg::TcpMessenger ms_;
  std::unique_ptr<monc::MonSession> session_;
  std::thread thread_;
  std::mutex mu_;
  proto::OSDMapProto map_;
  proto::AuthMapProto auth_;
};

}  // namespace

TEST_CASE("a monitor session follows the OSDMap and survives losing its monitor", "[qa][mon]") {
  TestCluster c(3);
  REQUIRE(c.Create().ok());
  REQUIRE(c.WaitForQuorum(3));
  Client client(c);
  REQUIRE(WaitFor([&] { return client.epoch() >= 1; }, std::chrono::seconds(30)));
  REQUIRE(c.Command("osd pool create", {{"pool", "before"}}).ok());
  REQUIRE(WaitFor([&] { return client.HasPool("before"); }, std::chrono::seconds(30)));

  std::string first = client.OnLoop([&] { return client.session().current_mon(); });
  REQUIRE_FALSE(first.empty());
  int idx = -1;
  for (int i = 0; i < c.num_mons(); ++i)
    if ("mon." + c.MonName(i) == first) idx = i;
  REQUIRE(idx >= 0);
  c.KillMon(idx);
  REQUIRE(c.WaitForQuorum(2));
  auto r = c.Command("osd pool create", {{"pool", "after"}}, 60);
  REQUIRE(r.ok());
  REQUIRE(r->status().code() == 0);
  // The session notices, moves to a live monitor, and catches up.
  CHECK(WaitFor([&] { return client.HasPool("after"); }, std::chrono::seconds(30)));
  CHECK(client.OnLoop([&] { return client.session().hunts(); }) >= 1);
  CHECK(client.OnLoop([&] { return client.session().current_mon(); }) != first);
  CHECK(client.HasPool("before"));
}

TEST_CASE("the auth map goes to OSD sessions only", "[qa][mon]") {
  TestCluster c(3);
  REQUIRE(c.Create().ok());
  REQUIRE(c.WaitForQuorum(3));
  auto created = c.JsonCommand("auth get-or-create", {{"entity", "osd.0"}, {"caps", R"(["mon","allow profile osd"])"}});
  REQUIRE(created.is_array());
  auto secret = Base64Decode(created[0]["key"].get<std::string>());
  REQUIRE(secret.ok());

  Client osd(c, "osd.0", *secret, /*want_auth=*/true);
  Client admin(c, "client.admin", c.admin_secret(), /*want_auth=*/true);
  REQUIRE(WaitFor([&] { return osd.authmap().entities().count("osd.0") == 1; }, std::chrono::seconds(30)));
  CHECK(osd.authmap().entities().count("client.admin") == 1);
  CHECK(osd.OnLoop([&] { return osd.session().authmap().epoch(); }) >= 1);

  // A new entity reaches the OSD through the subscription.
  REQUIRE(c.Command("auth get-or-create", {{"entity", "client.new"}, {"caps", R"(["mon","allow r"])"}}).ok());
  CHECK(WaitFor([&] { return osd.authmap().entities().count("client.new") == 1; }, std::chrono::seconds(30)));

  // The client's session works (it follows the OSDMap) but never gets the keys.
  REQUIRE(WaitFor([&] { return admin.epoch() >= 1; }, std::chrono::seconds(30)));
  CHECK(admin.authmap().entities().empty());
  CHECK(admin.OnLoop([&] { return admin.session().authmap().epoch(); }) == 0);
}

TEST_CASE("PG reports sent to one monitor are seen by every monitor", "[qa][mon]") {
  TestCluster c(3);
  // The stand-in OSDs send no beacons: keep them up for the whole test.
  REQUIRE(c.Create("mon osd report timeout = 300\n").ok());
  REQUIRE(c.WaitForQuorum(3));
  auto mons = *monc::ParseMonHost(c.mon_host());
  int leader = -1;
  for (int i = 0; i < c.num_mons(); ++i)
    if (c.MonName(i) == c.Leader()) leader = i;
  REQUIRE(leader >= 0);
  int peon = (leader + 1) % c.num_mons();

  // Three stand-in OSDs boot (client.admin has the caps) and a pool of 8 PGs appears.
  Client d(c);
  for (int i = 0; i < 3; ++i) {
    proto::OsdBoot boot;
    boot.set_uuid("uuid-" + std::to_string(i));
    boot.set_host("host" + std::to_string(i));
    boot.set_want_id(-1);
    REQUIRE(d.SendTo(mons[leader], "mon." + c.MonName(leader), msg::Message::Make(proto::MSG_OSD_BOOT, boot)).ok());
  }
  REQUIRE(c.Command("osd pool create", {{"pool", "p"}, {"pg_num", "8"}}).ok());
  REQUIRE(WaitFor([&] {
    auto dump = c.JsonCommand("osd dump");
    return dump.is_object() && dump["osds"].size() == 3 && dump["pools"].size() == 1;
  }, std::chrono::seconds(30)));
  REQUIRE(WaitFor([&] { return d.HasPool("p"); }, std::chrono::seconds(30)));
  int64_t pool = -1;
  nlohmann::json osd_dump = c.JsonCommand("osd dump");
  for (const auto& p : osd_dump["pools"]) pool = p["pool"];
  REQUIRE(pool >= 0);

  // Every OSD reports every PG clean, to the peon only.
  std::string send_error;
  auto send_reports = [&] {
    for (int osd = 0; osd < 3; ++osd) {
      proto::OsdPgStats r;
      r.set_osd(osd);
      r.set_epoch(d.epoch());
      r.mutable_osd_stat()->set_kb(1 << 20);
      r.mutable_osd_stat()->set_kb_used(1 << 10);
      r.mutable_osd_stat()->set_kb_avail((1 << 20) - (1 << 10));
      r.mutable_osd_stat()->set_num_pgs(8);
      for (uint32_t s = 0; s < 8; ++s) {
        auto* st = r.add_pgs();
        st->set_pool(pool);
        st->set_seed(s);
        st->set_state("active+clean");
        for (int a = 0; a < 3; ++a) {
          st->add_up((static_cast<int>(s) + a) % 3);
          st->add_acting((static_cast<int>(s) + a) % 3);
        }
        st->set_primary(static_cast<int>(s) % 3);
        st->set_num_objects(2);
        st->set_num_bytes(4096);
        st->set_digest(s);
      }
      // Reports go in the payload, as large ones must.
      msg::Message m;
      m.type = proto::MSG_PG_STATS;
      m.payload = Bytes(r.SerializeAsString());
      Status sent = d.SendTo(mons[peon], "mon." + c.MonName(peon), std::move(m));
      if (!sent.ok()) send_error = sent.ToString();
    }
  };
  for (int i = 0; i < c.num_mons(); ++i) {
    INFO("mon." << c.MonName(i));
    nlohmann::json st;
    CHECK(WaitFor([&] {
      send_reports();
      st = c.JsonCommand("pg stat", {}, i);
      return st.is_object() && st["pg_summary"]["num_pg_by_state"].size() == 1 &&
             st["pg_summary"]["num_pg_by_state"][0]["name"] == "active+clean" &&
             st["pg_summary"]["num_pg_by_state"][0]["num"] == 8;
    }, std::chrono::seconds(30)));
    INFO("send error: " << send_error << "; pg stat: " << st.dump());
    auto dump = c.JsonCommand("pg dump", {}, i);
    REQUIRE(dump.is_object());
    REQUIRE(dump["pg_stats"].size() == 8);
    CHECK(dump["pg_stats"][0]["copies"].size() == 3);
    CHECK(c.JsonCommand("health", {}, i)["status"] == "HEALTH_OK");
  }
  ProcResult st = c.Cli("status");
  CHECK(st.out.find("pgs:     8 active+clean") != std::string::npos);
  CHECK(st.out.find("objects: 16 objects, 32 KiB") != std::string::npos);
}
