// The Objecter against fake OSDs over real sockets in one process: ops reach
// the primary of the map they are sent under, come back matched by tid, and
// are resent (same tid, higher attempt) on `retry`, on a new map that moves
// the primary, and on a connection reset; a silent OSD ends in ETIMEDOUT.
#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include "common/asio_event_loop.h"
#include "common/msg/tcp_messenger.h"
#include "crush/builder.h"
#include "cluster/placement.h"
#include "librados/rados_objecter.h"
#include "messenger.pb.h"

using namespace nacre;
using namespace nacre::rados;

namespace {

const std::string kClientSecret(32, 'k');

// Answers MSG_OSD_OP: WRITE_FULL stores, READ returns the object; can be
// told to ask for retries or to stay silent. Runs on the shared loop.
class FakeOsd : public msg::Dispatcher {
 public:
  FakeOsd(AsioEventLoop& loop, int id)
      : id(id),
        ms(loop, "osd." + std::to_string(id),
           [](const std::string& e) -> Result<std::string> {
             if (e == "client.test") return kClientSecret;
             return NotFound(e);
           },
           std::string(32, 'o'), msg::TcpMessengerOptions{}) {
    ms.SetDispatcher(this);
    REQUIRE(ms.Bind({"127.0.0.1", 0}).ok());
    REQUIRE(ms.Start().ok());
  }
  ~FakeOsd() override { ms.Shutdown(); }

  void OnMessage(const msg::ConnectionRef& con, msg::Message&& m) override {
    proto::OsdOpRequest req;
    REQUIRE(m.ParseHeader(&req));
    seen.push_back(req);
    if (silent) return;
    proto::OsdOpReply r;
    r.set_tid(req.tid());
    if (retries > 0) {
      --retries;
      r.set_retry(true);
      (void)con->Send(msg::Message::Make(proto::MSG_OSD_OP_REPLY, r));
      return;
    }
    std::string payload;
    for (const auto& op : req.ops()) {
      auto* res = r.add_results();
      if (op.op() == proto::OSD_OP_WRITE_FULL) {
        objects[req.oid()] = m.payload.ToString();
      } else if (op.op() == proto::OSD_OP_READ) {
        auto it = objects.find(req.oid());
        if (it == objects.end()) {
          r.mutable_status()->set_code(ENOENT);
          continue;
        }
        res->set_data_len(it->second.size());
        payload += it->second;
      }
    }
    (void)con->Send(msg::Message::Make(proto::MSG_OSD_OP_REPLY, r, Bytes(std::move(payload))));
  }

  int id;
  msg::TcpMessenger ms;
  std::vector<proto::OsdOpRequest> seen;
  std::map<std::string, std::string> objects;
  int retries = 0;
  bool silent = false;
};

// 3 hosts with one OSD each; pool 1 replicated, size 3, 8 PGs.
proto::OSDMapProto MakeMap(const std::vector<std::unique_ptr<FakeOsd>>& osds, uint64_t epoch) {
  crush::CrushBuilder b;
  b.AddType(0, "osd", "t");
  b.AddType(1, "host", "t");
  b.AddType(10, "root", "t");
  std::vector<std::string> hosts;
  for (int i = 0; i < 3; ++i) {
    b.AddDevice(i, "osd." + std::to_string(i), "hdd", 0x10000, "t");
    hosts.push_back("host" + std::to_string(i));
    b.AddBucket(std::nullopt, hosts.back(), "host", {"osd." + std::to_string(i)}, "t");
  }
  b.AddBucket(std::nullopt, "default", "root", hosts, "t");
  using S = crush::CrushBuilder::StepSpec;
  b.AddRule(0, "replicated_rule", crush::RuleType::kReplicated,
            {S{crush::StepOp::kTake, 0, "default", "", "t"}, S{crush::StepOp::kChooseLeafFirstn, 0, "host", "", "t"},
             S{crush::StepOp::kEmit, 0, "", "", "t"}},
            "t");
  auto crush = b.Build();
  REQUIRE(crush.ok());
  proto::OSDMapProto m;
  m.set_epoch(epoch);
  m.set_crush(crush->EncodeToString());
  for (int i = 0; i < 3; ++i) {
    auto& o = (*m.mutable_osds())[i];
    o.set_id(i);
    o.set_exists(true);
    o.set_up(true);
    o.set_in(true);
    o.set_weight(0x10000);
    o.mutable_addr()->set_host("127.0.0.1");
    o.mutable_addr()->set_port(osds[static_cast<size_t>(i)]->ms.my_addr().port);
  }
  auto& p = (*m.mutable_pools())[1];
  p.set_id(1);
  p.set_name("rbd");
  p.set_size(3);
  p.set_min_size(2);
  p.set_pg_num(8);
  p.set_crush_rule(0);
  p.set_type(proto::POOL_TYPE_REPLICATED);
  return m;
}

int PrimaryOf(const proto::OSDMapProto& m, const std::string& oid) {
  auto crush = crush::CrushMap::DecodeFromString(m.crush());
  auto pg = placement::ObjectToPg(m.pools().at(1), oid);
  return placement::MapPg(m, *crush, pg)->primary;
}

struct Harness {
  AsioEventLoop loop;
  std::vector<std::unique_ptr<FakeOsd>> osds;
  std::unique_ptr<msg::TcpMessenger> client;
  std::unique_ptr<Objecter> objecter;
  std::thread thread;

  struct Dispatch : msg::Dispatcher {
    Harness* h;
    void OnMessage(const msg::ConnectionRef& con, msg::Message&& m) override { h->objecter->HandleMessage(con, m); }
    void OnReset(const msg::ConnectionRef& con) override { h->objecter->HandleReset(con); }
  } dispatch;

  explicit Harness(Objecter::Options o = {}) {
    for (int i = 0; i < 3; ++i) osds.push_back(std::make_unique<FakeOsd>(loop, i));
    client = std::make_unique<msg::TcpMessenger>(
        loop, "client.test", [](const std::string& e) -> Result<std::string> { return NotFound(e); }, kClientSecret,
        msg::TcpMessengerOptions{});
    dispatch.h = this;
    client->SetDispatcher(&dispatch);
    REQUIRE(client->Start().ok());
    o.backoff_min = std::chrono::milliseconds(10);
    o.backoff_max = std::chrono::milliseconds(50);
    objecter = std::make_unique<Objecter>(client.get(), 42, o);
    thread = std::thread([this] { loop.Run(); });
  }
  ~Harness() {
    OnLoop([&] { objecter->Shutdown(); });
    client->Shutdown();
    osds.clear();
    loop.Stop();
    thread.join();
  }
  void OnLoop(std::function<void()> fn) {
    std::promise<void> p;
    loop.Post([&] {
      fn();
      p.set_value();
    });
    p.get_future().wait();
  }
  // Submits and returns a future of (status, read data).
  std::future<std::pair<Status, std::string>> Op(const std::string& oid, proto::OsdOpCode code, std::string data = "") {
    auto p = std::make_shared<std::promise<std::pair<Status, std::string>>>();
    auto f = p->get_future();
    Objecter::Request r;
    r.pool = 1;
    r.oid = oid;
    proto::OsdSubOp op;
    op.set_op(code);
    op.set_data_len(data.size());
    r.ops.push_back(op);
    r.payload = Bytes(std::move(data));
    r.done = [p](Status s, const DecodedReply* reply) {
      p->set_value({s, reply && !reply->data.empty() ? reply->data[0].ToString() : ""});
    };
    OnLoop([&] { objecter->Submit(std::move(r)); });
    return f;
  }
};

template <class F>
auto Get(F& f) {
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  return f.get();
}

}  // namespace

TEST_CASE("Objecter sends to the primary and matches replies", "[rados][objecter]") {
  Harness h;
  auto map = MakeMap(h.osds, 5);
  h.OnLoop([&] { h.objecter->HandleMap(map); });
  for (int i = 0; i < 20; ++i) {
    std::string oid = "obj" + std::to_string(i);
    auto w = h.Op(oid, proto::OSD_OP_WRITE_FULL, "data of " + oid);
    CHECK(Get(w).first.ok());
    auto r = h.Op(oid, proto::OSD_OP_READ);
    auto [s, data] = Get(r);
    CHECK(s.ok());
    CHECK(data == "data of " + oid);
    CHECK(h.osds[static_cast<size_t>(PrimaryOf(map, oid))]->objects.count(oid) == 1);
  }
  auto missing = h.Op("nope", proto::OSD_OP_READ);
  CHECK(Get(missing).first.code() == Code::kNotFound);
  // Every request carried the client's incarnation and map epoch.
  for (const auto& o : h.osds)
    for (const auto& req : o->seen) {
      CHECK(req.client_inc() == 42);
      CHECK(req.epoch() == 5);
      CHECK(req.pool() == 1);
    }
}

TEST_CASE("Objecter resends with the same tid after a retry answer", "[rados][objecter]") {
  Harness h;
  auto map = MakeMap(h.osds, 5);
  h.OnLoop([&] { h.objecter->HandleMap(map); });
  auto& primary = *h.osds[static_cast<size_t>(PrimaryOf(map, "x"))];
  h.OnLoop([&] { primary.retries = 2; });
  auto w = h.Op("x", proto::OSD_OP_WRITE_FULL, "v");
  CHECK(Get(w).first.ok());
  std::vector<proto::OsdOpRequest> seen;
  h.OnLoop([&] { seen = primary.seen; });
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].tid() == seen[2].tid());
  CHECK(seen[0].attempt() == 0);
  CHECK(seen[2].attempt() == 2);
}

TEST_CASE("Objecter moves an unanswered op to the new primary of a new map", "[rados][objecter]") {
  Harness h;
  auto map = MakeMap(h.osds, 5);
  h.OnLoop([&] { h.objecter->HandleMap(map); });
  int first = PrimaryOf(map, "y");
  h.OnLoop([&] { h.osds[static_cast<size_t>(first)]->silent = true; });
  auto w = h.Op("y", proto::OSD_OP_WRITE_FULL, "moved");
  // Let the first send arrive, then take that OSD down in a new map.
  for (int i = 0; i < 200; ++i) {
    size_t n = 0;
    h.OnLoop([&] { n = h.osds[static_cast<size_t>(first)]->seen.size(); });
    if (n > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto map2 = map;
  map2.set_epoch(6);
  (*map2.mutable_osds())[first].set_up(false);
  int second = PrimaryOf(map2, "y");
  REQUIRE(second != first);
  h.OnLoop([&] { h.objecter->HandleMap(map2); });
  CHECK(Get(w).first.ok());
  h.OnLoop([&] {
    auto& a = h.osds[static_cast<size_t>(first)]->seen;
    auto& b = h.osds[static_cast<size_t>(second)]->seen;
    REQUIRE(a.size() == 1);
    REQUIRE(b.size() == 1);
    CHECK(a[0].tid() == b[0].tid());
    CHECK(b[0].attempt() == 1);
    CHECK(b[0].epoch() == 6);
    CHECK(h.osds[static_cast<size_t>(second)]->objects.at("y") == "moved");
  });
}

TEST_CASE("Objecter waits for a map with a primary, and times out", "[rados][objecter]") {
  Objecter::Options o;
  o.op_timeout = std::chrono::milliseconds(300);
  Harness h(o);
  auto map = MakeMap(h.osds, 5);
  for (auto& [id, osd] : *map.mutable_osds()) osd.set_up(false);
  h.OnLoop([&] { h.objecter->HandleMap(map); });
  auto w = h.Op("z", proto::OSD_OP_WRITE_FULL, "v");
  CHECK(Get(w).first.code() == Code::kTimeout);

  // A pool that disappears fails its ops with ENOENT.
  auto up = MakeMap(h.osds, 6);
  h.OnLoop([&] {
    for (auto& o : h.osds) o->silent = true;
    h.objecter->HandleMap(up);
  });
  auto w2 = h.Op("z", proto::OSD_OP_WRITE_FULL, "v");
  auto gone = up;
  gone.set_epoch(7);
  gone.mutable_pools()->clear();
  h.OnLoop([&] { h.objecter->HandleMap(gone); });
  CHECK(Get(w2).first.code() == Code::kNotFound);
}

TEST_CASE("Objecter resends after the OSD drops the connection", "[rados][objecter]") {
  Harness h;
  auto map = MakeMap(h.osds, 5);
  h.OnLoop([&] { h.objecter->HandleMap(map); });
  int p = PrimaryOf(map, "w");
  auto& osd = *h.osds[static_cast<size_t>(p)];
  // The first request makes the OSD drop the connection without answering.
  struct Dropper : msg::Dispatcher {
    FakeOsd* osd;
    bool dropped = false;
    void OnMessage(const msg::ConnectionRef& con, msg::Message&& m) override {
      if (!dropped) {
        dropped = true;
        con->MarkDown();
        return;
      }
      osd->OnMessage(con, std::move(m));
    }
  } dropper;
  dropper.osd = &osd;
  h.OnLoop([&] { osd.ms.SetDispatcher(&dropper); });
  auto w = h.Op("w", proto::OSD_OP_WRITE_FULL, "after reset");
  CHECK(Get(w).first.ok());
  h.OnLoop([&] {
    CHECK(osd.objects.at("w") == "after reset");
    CHECK(h.objecter->resends() >= 1);
    osd.ms.SetDispatcher(&osd);
  });
}
