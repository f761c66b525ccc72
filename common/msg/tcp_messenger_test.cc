// TcpMessenger over real sockets on 127.0.0.1, in one process: delivery,
// order and integrity at volume, limits, and survival of socket faults.
// (Bad frames and auth refusals: tcp_messenger_abuse_test.cc; killed
// processes: msg_process_test.cc.)
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "common/msg/msg_test_util.h"
#include "common/msg/tcp_messenger.h"
#include "proto/messenger.pb.h"

namespace nacre::msg::test {
namespace {

// One messenger on its own loop thread. Members are destroyed in reverse:
// the messenger shuts down while its loop still runs.
struct Endpoint {
  Endpoint(const std::string& name, std::vector<std::string> known, TcpMessengerOptions opts = FastOptions(),
           bool listen = true) {
    m = std::make_unique<TcpMessenger>(lt.loop(), name, TestKeys(std::move(known)), TestSecret(name), opts);
    m->SetDispatcher(&d);
    if (listen) REQUIRE(m->Bind(EntityAddr{"127.0.0.1", 0}).ok());
    REQUIRE(m->Start().ok());
  }
  EntityAddr addr() const { return m->my_addr(); }

  LoopThread lt;
  RecordingDispatcher d;
  std::unique_ptr<TcpMessenger> m;
};

TEST_CASE("tcp messenger: messages flow both ways on lossless and lossy connections") {
  Endpoint server("osd.0", {"client.a"});
  Endpoint client("client.a", {}, FastOptions(), false);
  // The server replies on the connection it was handed.
  server.d.on_message = [](const ConnectionRef& c, const Message& m) {
    proto::TestMsg h;
    REQUIRE(m.ParseHeader(&h));
    REQUIRE(c->Send(Message::Make(proto::MSG_TEST_REPLY, h, m.payload)).ok());
  };
  for (Policy policy : {Policy::kLossless, Policy::kLossy}) {
    size_t before = client.d.messages();
    ConnectionRef c = client.m->Connect("osd.0", server.addr(), policy);
    CHECK(c->peer_name() == "osd.0");
    CHECK(c->policy() == policy);
    // Connect is idempotent per peer, address and policy.
    CHECK(client.m->Connect("osd.0", server.addr(), policy) == c);
    for (uint64_t i = 1; i <= 100; ++i) REQUIRE(c->Send(TestMessage(i, Bytes::Copy(std::string(i, 'x')))).ok());
    REQUIRE(WaitFor([&] { return client.d.messages() == before + 100; }));
    auto got = client.d.TakeMessages();
    REQUIRE(got.size() == 100);
    for (uint64_t i = 0; i < 100; ++i) {
      CHECK(got[i].type == proto::MSG_TEST_REPLY);
      CHECK(got[i].payload.size() == i + 1);
    }
    ConnectionRef sc = server.d.last_connection();
    REQUIRE(sc);
    CHECK(sc->peer_name() == "client.a");
  }
  CHECK(client.d.connects() == 2);
  CHECK(server.d.connects() == 2);
  CHECK(client.m->stats().faults == 0);
}

TEST_CASE("tcp messenger: 100000 messages of mixed sizes arrive complete and in order and byte-exact") {
  constexpr uint64_t kCount = 100000;
  PayloadSource src(7, 1 << 20);
  TcpMessengerOptions opts = FastOptions();
  opts.max_buffered_bytes = 32u << 20;
  Endpoint rx("osd.rx", {"osd.tx"}, opts);
  Endpoint tx("osd.tx", {}, opts, false);
  std::atomic<uint64_t> expect{1}, errors{0}, bytes{0};
  rx.d.set_keep(false);
  rx.d.on_message = [&](const ConnectionRef&, const Message& m) {
    auto seq = CheckTestMessage(m);
    uint64_t want = expect.load();
    if (!seq.ok() || *seq != want || !src.Matches(want, m.payload)) errors++;
    bytes += m.payload.size();
    expect = want + 1;
  };
  ConnectionRef c = tx.m->Connect("osd.rx", rx.addr(), Policy::kLossless);
  std::thread sender([&] {
    for (uint64_t seq = 1; seq <= kCount; ++seq) {
      Status s = SendWithRetry(c, TestMessage(seq, src.For(seq)));
      if (!s.ok()) {
        errors++;
        return;
      }
    }
  });
  bool all = WaitFor([&] { return rx.d.messages() >= kCount || errors > 0; }, std::chrono::seconds(300));
  sender.join();
  CHECK(all);
  CHECK(errors == 0);
  CHECK(rx.d.messages() == kCount);
  CHECK(rx.m->stats().duplicates_dropped == 0);
  CHECK(tx.m->stats().faults == 0);
  INFO("bytes " << bytes.load());
  CHECK(bytes > 100u << 20);  // the mix really included large payloads
}

TEST_CASE("tcp messenger: lossless delivery is exactly once and in order through injected socket failures") {
  constexpr uint64_t kCount = 20000;
  PayloadSource src(11, 64 << 10);
  TcpMessengerOptions opts = FastOptions();
  opts.inject_socket_failures = 500;
  opts.max_buffered_bytes = 4u << 20;
  Endpoint rx("osd.rx", {"osd.tx"});  // the receiver does not inject
  Endpoint tx("osd.tx", {}, opts, false);
  std::atomic<uint64_t> expect{1}, errors{0};
  rx.d.set_keep(false);
  rx.d.on_message = [&](const ConnectionRef&, const Message& m) {
    auto seq = CheckTestMessage(m);
    if (!seq.ok() || *seq != expect.load() || !src.Matches(*seq, m.payload)) errors++;
    expect++;
  };
  ConnectionRef c = tx.m->Connect("osd.rx", rx.addr(), Policy::kLossless);
  std::thread sender([&] {
    for (uint64_t seq = 1; seq <= kCount; ++seq)
      if (!SendWithRetry(c, TestMessage(seq, src.For(seq))).ok()) errors++;
  });
  bool all = WaitFor([&] { return rx.d.messages() >= kCount; }, std::chrono::seconds(300));
  sender.join();
  CHECK(all);
  CHECK(errors == 0);
  CHECK(rx.d.messages() == kCount);
  auto st = tx.m->stats();
  INFO("faults " << st.faults << " resent " << st.resent << " dup " << rx.m->stats().duplicates_dropped);
  CHECK(st.faults >= 5);
  CHECK(tx.d.resets() == 0);         // lossless: faults are invisible to the application
  CHECK(tx.d.remote_resets() == 0);  // same incarnation throughout
  CHECK(c->IsOpen());
}

TEST_CASE("tcp messenger: a lossy connection reports a fault once and stays closed") {
  Endpoint server("osd.0", {"client.a"});
  Endpoint client("client.a", {}, FastOptions(), false);
  ConnectionRef c = client.m->Connect("osd.0", server.addr(), Policy::kLossy);
  REQUIRE(c->Send(TestMessage(1, {})).ok());
  REQUIRE(WaitFor([&] { return server.d.messages() == 1; }));
  // The server drops its side: the lossy client sees OnReset, not a reconnect.
  server.d.last_connection()->MarkDown();
  REQUIRE(WaitFor([&] { return client.d.resets() == 1; }));
  CHECK_FALSE(c->IsOpen());
  CHECK(c->Send(TestMessage(2, {})).code() == Code::kShutdown);
  // A new Connect makes a new connection.
  ConnectionRef c2 = client.m->Connect("osd.0", server.addr(), Policy::kLossy);
  CHECK(c2 != c);
  REQUIRE(c2->Send(TestMessage(1, {})).ok());
  REQUIRE(WaitFor([&] { return server.d.messages() == 2; }));
}

TEST_CASE("tcp messenger: send limits") {
  TcpMessengerOptions opts = FastOptions();
  opts.limits.max_frame_bytes = 256 << 10;
  opts.max_buffered_bytes = 1 << 20;
  Endpoint client("client.a", {}, opts, false);
  // Nobody listens there: a lossless connection keeps its queue and retries.
  ConnectionRef c = client.m->Connect("osd.0", EntityAddr{"127.0.0.1", FreePort()}, Policy::kLossless);
  CHECK(c->Send(TestMessage(1, Bytes(std::string(300 << 10, 'b')))).code() == Code::kTooBig);
  Message control;
  control.type = proto::MSG_ACK;
  CHECK(c->Send(control).code() == Code::kInvalid);
  Message big_header = TestMessage(1, {});
  big_header.header.assign(opts.limits.max_header_bytes + 1, 'h');
  CHECK(c->Send(big_header).code() == Code::kTooBig);
  int sent = 0;
  Status s;
  while ((s = c->Send(TestMessage(sent + 1, Bytes(std::string(100 << 10, 'q'))))).ok()) ++sent;
  CHECK(s.code() == Code::kAgain);
  CHECK(sent == 10);
  c->MarkDown();
  REQUIRE(WaitFor([&] { return client.d.resets() == 1; }));
  CHECK(c->Send(TestMessage(1, {})).code() == Code::kShutdown);
}

TEST_CASE("tcp messenger: keepalives hold an idle connection open and a silent peer is dropped") {
  TcpMessengerOptions opts = FastOptions();
  opts.keepalive_interval = std::chrono::milliseconds(100);
  opts.connection_timeout = std::chrono::milliseconds(2000);
  Endpoint server("osd.0", {"client.a", "client.raw"}, opts);
  Endpoint client("client.a", {}, opts, false);
  ConnectionRef c = client.m->Connect("osd.0", server.addr(), Policy::kLossless);
  REQUIRE(c->Send(TestMessage(1, {})).ok());
  REQUIRE(WaitFor([&] { return server.d.messages() == 1; }));

  // A raw client that authenticates and then never says a word.
  auto raw = RawSocket::Connect(server.addr());
  REQUIRE(raw);
  REQUIRE(DoRawHandshake(raw.get(), "client.raw", TestSecret("client.raw"), "osd.0", Policy::kLossy).ok());
  auto ka = raw->ReadFrame(kDeadline, false);
  REQUIRE(ka.ok());
  CHECK(ka->msg.type == proto::MSG_KEEPALIVE);
  CHECK(raw->WaitClosed());
  REQUIRE(WaitFor([&] { return server.d.resets() == 1; }));

  // Meanwhile the idle messenger connection, kept alive, never broke. This
  // observes an absence, so it has to let time pass.
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));
  CHECK(client.m->stats().faults == 0);
  CHECK(client.m->stats().handshakes == 1);
  REQUIRE(c->Send(TestMessage(2, {})).ok());
  REQUIRE(WaitFor([&] { return server.d.messages() == 2; }));
}

TEST_CASE("tcp messenger: an accepted lossless session resumes on the new socket with both directions exactly once") {
  constexpr uint64_t kCount = 5000;
  TcpMessengerOptions faulty = FastOptions();
  faulty.inject_socket_failures = 100;
  Endpoint server("osd.0", {"osd.1"});
  Endpoint client("osd.1", {}, faulty, false);
  std::atomic<uint64_t> server_expect{1}, client_expect{1}, errors{0};
  // The server answers each message on the session it arrived on; answers
  // queued while the socket is down go out when the client reconnects.
  server.d.set_keep(false);
  server.d.on_message = [&](const ConnectionRef& c, const Message& m) {
    auto seq = CheckTestMessage(m);
    if (!seq.ok() || *seq != server_expect.load()) errors++;
    server_expect++;
    if (!c->Send(TestMessage(*seq, m.payload)).ok()) errors++;
  };
  client.d.set_keep(false);
  client.d.on_message = [&](const ConnectionRef&, const Message& m) {
    auto seq = CheckTestMessage(m);
    if (!seq.ok() || *seq != client_expect.load()) errors++;
    client_expect++;
  };
  PayloadSource src(3, 8 << 10);
  ConnectionRef c = client.m->Connect("osd.0", server.addr(), Policy::kLossless);
  for (uint64_t i = 1; i <= kCount; ++i) REQUIRE(SendWithRetry(c, TestMessage(i, src.For(i))).ok());
  REQUIRE(WaitFor([&] { return client.d.messages() >= kCount; }, std::chrono::seconds(300)));
  CHECK(errors == 0);
  CHECK(server.d.messages() == kCount);
  CHECK(client.d.messages() == kCount);
  CHECK(client.m->stats().faults >= 5);
  CHECK(server.d.resets() == 0);
  CHECK(server.d.remote_resets() == 0);
}

TEST_CASE("tcp messenger: the accepting side retires the session of a restarted initiator") {
  Endpoint server("osd.0", {"osd.1"});
  size_t first_connects = 0;
  {
    Endpoint old_client("osd.1", {}, FastOptions(), false);
    ConnectionRef c = old_client.m->Connect("osd.0", server.addr(), Policy::kLossless);
    REQUIRE(c->Send(TestMessage(1, {})).ok());
    REQUIRE(WaitFor([&] { return server.d.messages() == 1; }));
    first_connects = server.d.connects();
  }  // the old incarnation is gone; its session waits on the server
  ConnectionRef old_session = server.d.last_connection();
  CHECK(old_session->IsOpen());
  Endpoint new_client("osd.1", {}, FastOptions(), false);
  ConnectionRef c = new_client.m->Connect("osd.0", server.addr(), Policy::kLossless);
  REQUIRE(c->Send(TestMessage(1, {})).ok());
  REQUIRE(WaitFor([&] { return server.d.messages() == 2; }));
  CHECK(server.d.remote_resets() == 1);
  CHECK(server.d.resets() == 1);
  CHECK_FALSE(old_session->IsOpen());
  CHECK(server.d.connects() == first_connects + 1);
  CHECK(server.d.last_connection() != old_session);
}

TEST_CASE("tcp messenger: a lossless initiator whose session the acceptor dropped starts over") {
  Endpoint server("osd.0", {"osd.1"});
  std::atomic<uint64_t> last_seq{0};
  server.d.on_message = [&](const ConnectionRef&, const Message& m) { last_seq = *CheckTestMessage(m); };
  Endpoint client("osd.1", {}, FastOptions(), false);
  ConnectionRef c = client.m->Connect("osd.0", server.addr(), Policy::kLossless);
  REQUIRE(c->Send(TestMessage(1, {})).ok());
  REQUIRE(WaitFor([&] { return server.d.messages() == 1; }));
  server.d.last_connection()->MarkDown();
  // The initiator reconnects into a new session: a reset it is told about.
  // (Message 1 may be delivered again if its ack was lost with the socket.)
  REQUIRE(WaitFor([&] { return client.d.remote_resets() == 1; }));
  REQUIRE(c->Send(TestMessage(2, {})).ok());
  REQUIRE(WaitFor([&] { return last_seq == 2; }));
  CHECK(server.d.messages() <= 3);
  CHECK(c->IsOpen());
  CHECK(client.d.resets() == 0);
}

TEST_CASE("tcp messenger: Shutdown closes everything and later calls fail cleanly") {
  Endpoint server("osd.0", {"client.a"});
  Endpoint client("client.a", {}, FastOptions(), false);
  ConnectionRef c = client.m->Connect("osd.0", server.addr(), Policy::kLossless);
  REQUIRE(c->Send(TestMessage(1, {})).ok());
  REQUIRE(WaitFor([&] { return server.d.messages() == 1; }));
  client.m->Shutdown();
  CHECK_FALSE(c->IsOpen());
  CHECK(c->Send(TestMessage(2, {})).code() == Code::kShutdown);
  ConnectionRef c2 = client.m->Connect("osd.0", server.addr(), Policy::kLossless);
  CHECK_FALSE(c2->IsOpen());
  CHECK(client.d.resets() == 0);  // no callbacks after (or during) Shutdown
  client.m->Shutdown();           // idempotent
}

TEST_CASE("tcp messenger: destruction returns whether the loop never ran or already stopped") {
  {
    // A daemon that fails after building its messenger, before Run().
    AsioEventLoop idle;
    TcpMessenger m(idle, "osd.0", TestKeys({}), TestSecret("osd.0"), FastOptions());
    REQUIRE(m.Bind(EntityAddr{"127.0.0.1", 0}).ok());
    REQUIRE(m.Start().ok());
    ConnectionRef c = m.Connect("osd.1", EntityAddr{"127.0.0.1", FreePort()}, Policy::kLossless);
    REQUIRE(c->Send(TestMessage(1, {})).ok());
  }
  {
    AsioEventLoop loop;
    struct Runner {
      AsioEventLoop& loop;
      std::thread t{[this] { loop.Run(); }};
      void StopAndJoin() {
        loop.Stop();
        if (t.joinable()) t.join();
      }
      ~Runner() { StopAndJoin(); }
    } runner{loop};
    TcpMessenger m(loop, "osd.0", TestKeys({}), TestSecret("osd.0"), FastOptions());
    REQUIRE(m.Bind(EntityAddr{"127.0.0.1", 0}).ok());
    REQUIRE(m.Start().ok());
    ConnectionRef c = m.Connect("osd.1", EntityAddr{"127.0.0.1", FreePort()}, Policy::kLossless);
    bool ran = WaitFor([&] { return m.stats().faults >= 1; });  // it is really running
    runner.StopAndJoin();
    CHECK(ran);
  }  // m is destroyed with its loop stopped, before the loop itself
}

}  // namespace
}  // namespace nacre::msg::test
