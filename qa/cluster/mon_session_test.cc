// MonSession against real monitors: it follows the OSDMap by incrementals
// and hunts to another monitor when the one it uses is killed.
#include <catch2/catch.hpp>

#include <future>
#include <mutex>
#include <thread>

#include "common/asio_event_loop.h"
#include "common/msg/tcp_messenger.h"
#include "librados/mon_client.h"
#include "librados/mon_session.h"
#include "qa/cluster/test_cluster.h"

using namespace nacre;
using namespace nacre::qa;

namespace {

// A client process's messenger with a MonSession, on its own loop thread.
class Client : public msg::Dispatcher {
 public:
  Client(TestCluster& c)
      : ms_(loop_, "client.admin", [](const std::string&) -> Result<std::string> { return NotFound("none"); },
            c.admin_secret(), msg::TcpMessengerOptions{}) {
    monc::MonSession::Options o;
    o.mons = *monc::ParseMonHost(c.mon_host());
    for (int i = 0; i < c.num_mons(); ++i) o.mon_names.push_back("mon." + c.MonName(i));
    o.hunt_timeout = std::chrono::seconds(2);
    o.on_osdmap = [this](const proto::OSDMapProto& m) {
      std::lock_guard<std::mutex> g(mu_);
      map_ = m;
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
  // Loop-thread state, read through the loop.
  template <class F>
  auto OnLoop(F f) {
    std::promise<decltype(f())> p;
    loop_.Post([&] { p.set_value(f()); });
    return p.get_future().get();
  }

  monc::MonSession& session() { return *session_; }

 private:
  AsioEventLoop loop_;
  msg::TcpMessenger ms_;
  std::unique_ptr<monc::MonSession> session_;
  std::thread thread_;
  std::mutex mu_;
  proto::OSDMapProto map_;
};

}  // namespace

TEST_CASE("a monitor session follows the OSDMap and survives losing its monitor", "[qa][mon]") {
  TestCluster c(3);
  REQUIRE(c.Create().ok());
  REQUIRE(c.WaitForQuorum(3));
  Client client(c);
  REQUIRE(WaitFor([&] { return client.epoch() >= 1; }, 30));
  REQUIRE(c.Command("osd pool create", {{"pool", "before"}}).ok());
  REQUIRE(WaitFor([&] { return client.HasPool("before"); }, 30));

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
  CHECK(WaitFor([&] { return client.HasPool("after"); }, 30));
  CHECK(client.OnLoop([&] { return client.session().hunts(); }) >= 1);
  CHECK(client.OnLoop([&] { return client.session().current_mon(); }) != first);
  CHECK(client.HasPool("before"));
}
