// Killing processes with SIGKILL mid-stream:
//  (a) a relay between two messengers: a socket failure in the middle of the
//      stream; the lossless sender reconnects and resends, and the receiver
//      sees every message exactly once, in order;
//  (b) the receiving process itself: the sender notices the new incarnation
//      (OnRemoteReset) and resends everything the old one did not
//      acknowledge, so nothing acknowledged-or-not is lost.
// Helper processes are built beside this test (msg_relay, msg_test_peer);
// ChildProcess kills and reaps them whatever happens.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/msg/msg_test_util.h"
#include "common/msg/tcp_messenger.h"

namespace nacre::msg::test {
namespace {

struct Endpoint {
  Endpoint(const std::string& name, std::vector<std::string> known, bool listen) {
    TcpMessengerOptions opts = FastOptions();
    opts.max_buffered_bytes = 8u << 20;
    m = std::make_unique<TcpMessenger>(lt.loop(), name, TestKeys(std::move(known)), TestSecret(name), opts);
    m->SetDispatcher(&d);
    if (listen) REQUIRE(m->Bind(EntityAddr{"127.0.0.1", 0}).ok());
    REQUIRE(m->Start().ok());
  }
  LoopThread lt;
  RecordingDispatcher d;
  std::unique_ptr<TcpMessenger> m;
};

std::unique_ptr<ChildProcess> StartRelay(uint16_t port, const EntityAddr& target, uint16_t* bound) {
  // A restart on the same port can race the old socket's teardown: retry.
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto p = ChildProcess::Spawn({MSG_RELAY_PATH, "--port", std::to_string(port), "--target", target.ToString()});
    REQUIRE(p);
    auto line = p->ReadLine("PORT ");
    if (line.ok()) {
      *bound = static_cast<uint16_t>(std::stoi(*line));
      return p;
    }
    WaitFor([] { return false; }, std::chrono::milliseconds(100));
  }
  FAIL("relay did not start");
  return nullptr;
}

std::unique_ptr<ChildProcess> StartPeer(uint16_t port, const std::string& record, uint16_t* bound) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto p = ChildProcess::Spawn(
        {MSG_TEST_PEER_PATH, "--name", "osd.p", "--port", std::to_string(port), "--record", record, "--key", "osd.s"});
    REQUIRE(p);
    auto line = p->ReadLine("PORT ");
    if (line.ok()) {
      *bound = static_cast<uint16_t>(std::stoi(*line));
      return p;
    }
    WaitFor([] { return false; }, std::chrono::milliseconds(100));
  }
  FAIL("peer did not start");
  return nullptr;
}

// The lines of a record file written by msg_test_peer.
std::vector<std::string> ReadRecord(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string l;
  // Only complete lines: the writer may be mid-line.
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  size_t start = 0, nl;
  while ((nl = all.find('\n', start)) != std::string::npos) {
    lines.push_back(all.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/nacre-msg-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

TEST_CASE("process: a relay killed -9 mid-stream and the lossless sender resends so the receiver sees each message once and in order") {
  constexpr uint64_t kCount = 30000;
  PayloadSource src(5, 64 << 10);
  Endpoint rx("osd.r", {"osd.s"}, true);
  Endpoint tx("osd.s", {}, false);
  std::atomic<uint64_t> expect{1}, errors{0};
  rx.d.set_keep(false);
  rx.d.on_message = [&](const ConnectionRef&, const Message& m) {
    auto seq = CheckTestMessage(m);
    if (!seq.ok() || *seq != expect.load() || !src.Matches(*seq, m.payload)) errors++;
    expect++;
  };
  uint16_t port = 0;
  auto relay = StartRelay(0, rx.m->my_addr(), &port);
  ConnectionRef c = tx.m->Connect("osd.r", EntityAddr{"127.0.0.1", port}, Policy::kLossless);
  std::atomic<bool> stop{false};
  std::thread sender([&] {
    for (uint64_t seq = 1; seq <= kCount && !stop; ++seq)
      if (!SendWithRetry(c, TestMessage(seq, src.For(seq)), std::chrono::seconds(120)).ok()) errors++;
  });
  struct Join {
    std::thread& t;
    std::atomic<bool>& stop;
    ~Join() {
      stop = true;
      t.join();
    }
  } join{sender, stop};

  for (uint64_t at : {kCount / 3, 2 * kCount / 3}) {
    REQUIRE(WaitFor([&] { return rx.d.messages() >= at; }, std::chrono::seconds(120)));
    relay->Kill9();
    uint16_t again = 0;
    relay = StartRelay(port, rx.m->my_addr(), &again);
    REQUIRE(again == port);
  }
  REQUIRE(WaitFor([&] { return rx.d.messages() >= kCount; }, std::chrono::seconds(300)));
  CHECK(errors == 0);
  CHECK(rx.d.messages() == kCount);
  CHECK(tx.m->stats().faults >= 2);
  CHECK(tx.d.resets() == 0);
  CHECK(tx.d.remote_resets() == 0);
  CHECK(rx.d.remote_resets() == 0);
  INFO("resent " << tx.m->stats().resent << " duplicates dropped " << rx.m->stats().duplicates_dropped);
}

TEST_CASE("process: the receiver killed -9 and restarted and the sender resends what was not acknowledged") {
  constexpr uint64_t kCount = 20000;
  TempDir dir;
  const std::string rec1 = dir.path + "/rec1", rec2 = dir.path + "/rec2";
  PayloadSource src(9, 16 << 10);
  uint16_t port = 0;
  auto peer = StartPeer(0, rec1, &port);
  Endpoint tx("osd.s", {}, false);
  ConnectionRef c = tx.m->Connect("osd.p", EntityAddr{"127.0.0.1", port}, Policy::kLossless);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> errors{0};
  std::thread sender([&] {
    for (uint64_t seq = 1; seq <= kCount && !stop; ++seq)
      if (!SendWithRetry(c, TestMessage(seq, src.For(seq)), std::chrono::seconds(120)).ok()) errors++;
  });
  struct Join {
    std::thread& t;
    std::atomic<bool>& stop;
    ~Join() {
      stop = true;
      t.join();
    }
  } join{sender, stop};

  REQUIRE(WaitFor([&] { return ReadRecord(rec1).size() >= kCount / 3; }, std::chrono::seconds(120)));
  peer->Kill9();
  uint16_t again = 0;
  peer = StartPeer(port, rec2, &again);
  REQUIRE(again == port);
  REQUIRE(WaitFor(
      [&] {
        auto r = ReadRecord(rec2);
        return !r.empty() && r.back() == std::to_string(kCount);
      },
      std::chrono::seconds(300)));
  CHECK(errors == 0);
  CHECK(tx.d.remote_resets() == 1);
  CHECK(tx.d.resets() == 0);

  // Each incarnation saw a gap-free run; the second starts no later than
  // right after the last message the first recorded. Everything the first
  // acknowledged it had recorded (acks follow OnMessage), and everything it
  // did not was resent: so the union is every message. Messages the first
  // recorded but had not yet acknowledged when it died are seen twice.
  auto r1 = ReadRecord(rec1), r2 = ReadRecord(rec2);
  REQUIRE(!r1.empty());
  REQUIRE(!r2.empty());
  for (size_t i = 0; i < r1.size(); ++i) REQUIRE(r1[i] == std::to_string(i + 1));
  uint64_t first2 = std::stoull(r2.front());
  for (size_t i = 0; i < r2.size(); ++i) REQUIRE(r2[i] == std::to_string(first2 + i));
  CHECK(first2 >= 1);
  CHECK(first2 <= r1.size() + 1);
  CHECK(first2 + r2.size() - 1 == kCount);
  INFO("first incarnation recorded " << r1.size() << ", second started at " << first2);
  // The overlap is bounded by what was in flight or unacknowledged.
  CHECK(r1.size() + 1 - first2 <= kCount);
}

}  // namespace
}  // namespace nacre::msg::test
