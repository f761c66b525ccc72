// A TcpMessenger facing bad peers: corrupt, truncated, oversized and
// unknown frames, wrong keys, unknown entities and replayed handshakes. Each
// is refused and its socket closed, nothing from it is dispatched, and the
// messenger keeps serving a healthy connection throughout.
#include <catch2/catch.hpp>

#include "common/msg/msg_test_util.h"
#include "common/msg/tcp_messenger.h"
#include "proto/messenger.pb.h"

namespace nacre::msg::test {
namespace {

struct Endpoint {
  Endpoint(const std::string& name, std::vector<std::string> known, std::string secret = "", bool listen = true) {
    m = std::make_unique<TcpMessenger>(lt.loop(), name, TestKeys(std::move(known)),
                                       secret.empty() ? TestSecret(name) : secret, FastOptions());
    m->SetDispatcher(&d);
    if (listen) REQUIRE(m->Bind(EntityAddr{"127.0.0.1", 0}).ok());
    REQUIRE(m->Start().ok());
  }
  EntityAddr addr() const { return m->my_addr(); }

  LoopThread lt;
  RecordingDispatcher d;
  std::unique_ptr<TcpMessenger> m;
};

// A healthy lossless connection to `server`, checked to deliver.
struct Healthy {
  Healthy(Endpoint& server) : server(server), client("client.good", {}, "", false) {
    conn = client.m->Connect(server.m->my_name(), server.addr(), Policy::kLossless);
    Ping();
  }
  void Ping() {
    size_t before = server.d.messages();
    REQUIRE(conn->Send(TestMessage(++seq, Bytes::Copy("ping"))).ok());
    REQUIRE(WaitFor([&] { return server.d.messages() == before + 1; }));
  }
  Endpoint& server;
  Endpoint client;
  ConnectionRef conn;
  uint64_t seq = 0;
};

std::string ValidDataFrame(uint64_t seq) {
  return EncodeFrame(FrameMeta{proto::MSG_TEST, seq, 0}, TestMessage(seq, Bytes::Copy(std::string(300, 'd'))));
}

TEST_CASE("abuse: bad frames close their own connection only") {
  Endpoint server("osd.0", {"client.good", "client.raw"});
  Healthy healthy(server);

  struct Case {
    const char* name;
    std::function<void(RawSocket*)> attack;
  };
  std::vector<Case> cases = {
      {"payload bit flip",
       [](RawSocket* s) {
         std::string w = ValidDataFrame(1);
         w[w.size() - 10] ^= 0x04;
         s->SendBytes(w);
       }},
      {"header bit flip",
       [](RawSocket* s) {
         std::string w = ValidDataFrame(1);
         w[9] ^= 0x80;  // inside seq: covered by the header crc
         s->SendBytes(w);
       }},
      {"truncated frame",
       [](RawSocket* s) {
         std::string w = ValidDataFrame(1);
         s->SendBytes(w.substr(0, w.size() / 2));
         s->ShutdownWrite();
       }},
      {"oversized length",
       [](RawSocket* s) {
         FixedHeader fixed;
         EncodeFixedHeader(FrameMeta{proto::MSG_TEST, 1, 0}, "", 0xf0000000u, 0, &fixed);
         s->SendBytes(std::string_view(fixed.data(), fixed.size()));
       }},
      {"unknown type",
       [](RawSocket* s) {
         FixedHeader fixed;
         EncodeFixedHeader(FrameMeta{9999, 1, 0}, "", 0, 0, &fixed);
         s->SendBytes(std::string_view(fixed.data(), fixed.size()));
       }},
      {"sequence gap",
       [](RawSocket* s) { s->SendBytes(ValidDataFrame(5)); }},
      {"handshake frame on an open connection",
       [](RawSocket* s) { s->SendFrame(FrameMeta{proto::MSG_HELLO, 0, 0}, Message{proto::MSG_HELLO, "", {}}); }},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    size_t faults = server.m->stats().faults;
    size_t resets = server.d.resets();
    size_t dispatched = server.d.messages();
    auto raw = RawSocket::Connect(server.addr());
    REQUIRE(raw);
    REQUIRE(DoRawHandshake(raw.get(), "client.raw", TestSecret("client.raw"), "osd.0", Policy::kLossy).ok());
    c.attack(raw.get());
    CHECK(raw->WaitClosed());
    // The lossy session was dropped and reported; nothing was dispatched.
    REQUIRE(WaitFor([&] { return server.d.resets() == resets + 1; }));
    CHECK(server.m->stats().faults > faults);
    CHECK(server.d.messages() == dispatched);
    healthy.Ping();
  }

  CHECK(healthy.conn->IsOpen());
  CHECK(healthy.client.m->stats().faults == 0);
}

TEST_CASE("abuse: bytes that are not a handshake are refused") {
  Endpoint server("osd.0", {"client.good"});
  Healthy healthy(server);
  SECTION("garbage before any handshake") {
    auto raw = RawSocket::Connect(server.addr());
    REQUIRE(raw);
    raw->SendBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n" + std::string(100, 'z'));
    CHECK(raw->WaitClosed());
    healthy.Ping();
  }
  SECTION("a data frame before the handshake") {
    auto raw = RawSocket::Connect(server.addr());
    REQUIRE(raw);
    raw->SendBytes(ValidDataFrame(1));
    auto verdict = raw->ReadFrame();
    REQUIRE(verdict.ok());
    CHECK(verdict->msg.type == proto::MSG_AUTH_DONE);
    CHECK(raw->WaitClosed());
    healthy.Ping();
  }
  CHECK(server.d.messages() == 2);  // only the healthy pings
  CHECK(server.d.connects() == 1);
}

TEST_CASE("abuse: wrong key or unknown entity or a server without our key are refused and nothing is dispatched") {
  Endpoint server("osd.0", {"client.good", "client.bad", "client.nokey"});
  Healthy healthy(server);
  size_t server_connects = server.d.connects();

  SECTION("client with the wrong key (the server's proof does not verify)") {
    Endpoint bad("client.bad", {}, std::string(32, 'W'), false);
    for (Policy policy : {Policy::kLossless, Policy::kLossy}) {
      size_t resets = bad.d.resets();
      ConnectionRef c = bad.m->Connect("osd.0", server.addr(), policy);
      (void)c->Send(TestMessage(1, {}));
      REQUIRE(WaitFor([&] { return bad.d.resets() == resets + 1; }));
      CHECK_FALSE(c->IsOpen());
      CHECK(c->Send(TestMessage(2, {})).code() == Code::kShutdown);
    }
    CHECK(bad.m->stats().auth_refusals == 2);
    CHECK(bad.d.connects() == 0);
  }
  SECTION("unknown entity (refused by the server at hello)") {
    Endpoint stranger("client.stranger", {}, "", false);
    ConnectionRef c = stranger.m->Connect("osd.0", server.addr(), Policy::kLossless);
    (void)c->Send(TestMessage(1, {}));
    REQUIRE(WaitFor([&] { return stranger.d.resets() == 1; }));
    CHECK_FALSE(c->IsOpen());
    REQUIRE(WaitFor([&] { return server.m->stats().auth_refusals >= 1; }));
  }
  SECTION("a server holding a different key for us cannot pretend to know ours") {
    LoopThread lt;
    RecordingDispatcher impostor_d;
    KeyLookup wrong = [](const std::string&) -> Result<std::string> { return std::string(32, 'X'); };
    TcpMessenger impostor(lt.loop(), "osd.0", wrong, TestSecret("osd.0"), FastOptions());
    impostor.SetDispatcher(&impostor_d);
    REQUIRE(impostor.Bind(EntityAddr{"127.0.0.1", 0}).ok());
    REQUIRE(impostor.Start().ok());
    Endpoint client("client.nokey", {}, "", false);
    ConnectionRef c = client.m->Connect("osd.0", impostor.my_addr(), Policy::kLossless);
    (void)c->Send(TestMessage(1, {}));
    REQUIRE(WaitFor([&] { return client.d.resets() == 1; }));
    CHECK(client.m->stats().auth_refusals == 1);
    CHECK(impostor_d.messages() == 0);
    CHECK(impostor_d.connects() == 0);
    impostor.Shutdown();
  }
  SECTION("a raw client proving with the wrong key is refused by the server") {
    auto raw = RawSocket::Connect(server.addr());
    REQUIRE(raw);
    ClientHandshake hs(ClientHandshake::Params{"client.bad", "", NewIncarnation(), "osd.0", 1, Policy::kLossy},
                       WallClockNs());
    REQUIRE(raw->SendFrame(FrameMeta{proto::MSG_HELLO, 0, 0}, hs.Hello()));
    REQUIRE(raw->ReadFrame().ok());  // the challenge; we cannot answer it
    proto::MsAuth forged;
    forged.set_proof(std::string(kProofBytes, 'f'));
    REQUIRE(raw->SendFrame(FrameMeta{proto::MSG_AUTH, 0, 0}, Message::Make(proto::MSG_AUTH, forged)));
    auto verdict = raw->ReadFrame();
    REQUIRE(verdict.ok());
    proto::MsAuthDone d;
    REQUIRE(verdict->msg.ParseHeader(&d));
    CHECK_FALSE(d.ok());
    CHECK(raw->WaitClosed());
    CHECK(server.m->stats().auth_refusals >= 1);
  }
  CHECK(server.d.connects() == server_connects);
  CHECK(server.d.messages() == 1);  // only the healthy ping
  healthy.Ping();
}

TEST_CASE("abuse: replayed handshakes are refused") {
  Endpoint server("osd.0", {"client.good", "client.raw"});
  Healthy healthy(server);
  // Record a genuine exchange.
  auto first = RawSocket::Connect(server.addr());
  REQUIRE(first);
  auto rec = DoRawHandshake(first.get(), "client.raw", TestSecret("client.raw"), "osd.0", Policy::kLossy);
  REQUIRE(rec.ok());
  first.reset();

  SECTION("hello and auth played again") {
    auto raw = RawSocket::Connect(server.addr());
    REQUIRE(raw);
    REQUIRE(raw->SendFrame(FrameMeta{proto::MSG_HELLO, 0, 0}, rec->hello));
    auto verdict = raw->ReadFrame();
    REQUIRE(verdict.ok());
    CHECK(verdict->msg.type == proto::MSG_AUTH_DONE);  // refused, no challenge
    raw->SendFrame(FrameMeta{proto::MSG_AUTH, 0, 0}, rec->auth);
    CHECK(raw->WaitClosed());
  }
  SECTION("the recorded auth against a fresh challenge") {
    auto raw = RawSocket::Connect(server.addr());
    REQUIRE(raw);
    ClientHandshake hs(ClientHandshake::Params{"client.raw", "", NewIncarnation(), "osd.0", 1, Policy::kLossy},
                       WallClockNs());
    REQUIRE(raw->SendFrame(FrameMeta{proto::MSG_HELLO, 0, 0}, hs.Hello()));
    REQUIRE(raw->ReadFrame().ok());
    REQUIRE(raw->SendFrame(FrameMeta{proto::MSG_AUTH, 0, 0}, rec->auth));
    auto verdict = raw->ReadFrame();
    REQUIRE(verdict.ok());
    proto::MsAuthDone d;
    REQUIRE(verdict->msg.ParseHeader(&d));
    CHECK_FALSE(d.ok());
    CHECK(raw->WaitClosed());
  }
  SECTION("a fake server playing the recorded challenge to a real client") {
    RawListener fake;
    Endpoint client("client.raw", {}, "", false);
    ConnectionRef c = client.m->Connect("osd.0", EntityAddr{"127.0.0.1", fake.port()}, Policy::kLossless);
    auto s = fake.Accept();
    REQUIRE(s);
    auto hello = s->ReadFrame();
    REQUIRE(hello.ok());
    CHECK(hello->msg.type == proto::MSG_HELLO);
    REQUIRE(s->SendFrame(FrameMeta{proto::MSG_CHALLENGE, 0, 0}, rec->challenge));
    CHECK(s->WaitClosed());
    REQUIRE(WaitFor([&] { return client.d.resets() == 1; }));
    CHECK_FALSE(c->IsOpen());
    CHECK(client.m->stats().auth_refusals == 1);
  }
  CHECK(server.d.messages() == 1);
  healthy.Ping();
}

}  // namespace
}  // namespace nacre::msg::test
