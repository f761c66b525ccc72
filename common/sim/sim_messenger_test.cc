// Tests of the simulated network through the Messenger interface: fault
// rates, partitions, crashes, and the lossless contract.
#include <catch2/catch.hpp>

#include <algorithm>

#include "common/sim/sim_test_util.h"

using namespace nacre;
using namespace nacre::sim;
using namespace std::chrono_literals;

namespace {

struct Events {
  std::map<int, std::vector<uint64_t>> got;  // node -> seqs received, in order
  int resets = 0;
  int remote_resets = 0;
};

// Records every message it receives; survives nothing (Events is outside).
class Recorder : public SimProcess, public msg::Dispatcher {
 public:
  Recorder(SimNodeContext& c, Events* ev) : node_(c.node), ev_(ev), ms_(c.messenger) {
    ms_.SetDispatcher(this);
    (void)ms_.Start();
  }
  void OnMessage(const msg::ConnectionRef&, msg::Message&& m) override {
    proto::TestMsg t;
    REQUIRE(m.ParseHeader(&t));
    ev_->got[node_].push_back(t.seq());
  }
  void OnReset(const msg::ConnectionRef&) override { ev_->resets++; }
  void OnRemoteReset(const msg::ConnectionRef&) override { ev_->remote_resets++; }

 private:
  int node_;
  Events* ev_;
  SimMessenger& ms_;
};

int AddRecorder(SimWorld& w, const std::string& name, Events* ev) {
  return w.AddNode(name, [ev](SimNodeContext& c) { return std::make_unique<Recorder>(c, ev); });
}

Status SendSeq(SimWorld& w, int from, const std::string& to, uint64_t seq, msg::Policy p) {
  proto::TestMsg t;
  t.set_seq(seq);
  return w.messenger(from)->Connect(to, msg::EntityAddr{}, p)->Send(msg::Message::Make(proto::MSG_TEST, t));
}

}  // namespace

TEST_CASE("lossy links lose, duplicate and reorder at the configured rates", "[sim]") {
  SimWorld w(11);
  w.network().loss = 0.1;
  w.network().duplicate = 0.05;
  w.network().reorder = 0.2;
  Events ev;
  int a = AddRecorder(w, "a", &ev);
  int b = AddRecorder(w, "b", &ev);
  (void)b;
  const int kN = 20000;
  for (int i = 1; i <= kN; ++i) {
    REQUIRE(SendSeq(w, a, "b", static_cast<uint64_t>(i), msg::Policy::kLossy).ok());
    w.RunFor(1ms);
  }
  w.RunFor(1s);
  const SimStats& s = w.stats();
  CHECK(s.sent == kN);
  double loss = static_cast<double>(s.lost) / kN;
  double dup = static_cast<double>(s.duplicated) / (kN - s.lost);
  CHECK((loss > 0.09 && loss < 0.11));
  CHECK((dup > 0.04 && dup < 0.06));
  CHECK(s.reordered > kN / 20);
  const auto& got = ev.got[1];
  CHECK(got.size() == kN - s.lost + s.duplicated);
  CHECK_FALSE(std::is_sorted(got.begin(), got.end()));
}

TEST_CASE("partitions block delivery, one way or both, until healed", "[sim]") {
  SimWorld w(12);
  Events ev;
  int a = AddRecorder(w, "a", &ev);
  int b = AddRecorder(w, "b", &ev);
  int c = AddRecorder(w, "c", &ev);

  w.BlockGroups({a}, {b}, /*both_ways=*/true);
  REQUIRE(SendSeq(w, a, "b", 1, msg::Policy::kLossy).ok());
  REQUIRE(SendSeq(w, b, "a", 2, msg::Policy::kLossy).ok());
  REQUIRE(SendSeq(w, a, "c", 3, msg::Policy::kLossy).ok());
  w.RunFor(100ms);
  CHECK(ev.got[b].empty());
  CHECK(ev.got[a].empty());
  CHECK(ev.got[c] == std::vector<uint64_t>{3});
  CHECK(w.stats().dropped_partition == 2);

  w.HealPartitions();
  w.Block(a, b);  // one way: a cannot reach b, b still reaches a
  REQUIRE(SendSeq(w, a, "b", 4, msg::Policy::kLossy).ok());
  REQUIRE(SendSeq(w, b, "a", 5, msg::Policy::kLossy).ok());
  w.RunFor(100ms);
  CHECK(ev.got[b].empty());
  CHECK(ev.got[a] == std::vector<uint64_t>{5});

  // A partition that starts while a message is in flight drops it.
  w.HealPartitions();
  w.network().min_delay = w.network().max_delay = 50ms;
  REQUIRE(SendSeq(w, a, "b", 6, msg::Policy::kLossy).ok());
  w.RunFor(10ms);
  w.Block(a, b);
  w.RunFor(100ms);
  CHECK(ev.got[b].empty());
  w.HealPartitions();
  REQUIRE(SendSeq(w, a, "b", 7, msg::Policy::kLossy).ok());
  w.RunFor(100ms);
  CHECK(ev.got[b] == std::vector<uint64_t>{7});
}

TEST_CASE("a crash drops in-flight messages; a lossy connection resets", "[sim]") {
  SimWorld w(13);
  w.network().min_delay = w.network().max_delay = 20ms;
  Events ev;
  int a = AddRecorder(w, "a", &ev);
  int b = AddRecorder(w, "b", &ev);
  REQUIRE(SendSeq(w, a, "b", 1, msg::Policy::kLossy).ok());
  w.RunFor(5ms);
  w.Crash(b);
  w.RunFor(50ms);
  CHECK(ev.got[b].empty());
  CHECK(w.stats().dropped_crash == 1);
  // Sending to a dead peer fails the lossy connection.
  REQUIRE(SendSeq(w, a, "b", 2, msg::Policy::kLossy).ok());
  w.RunFor(50ms);
  CHECK(ev.resets == 1);
  w.Restart(b);
  REQUIRE(SendSeq(w, a, "b", 3, msg::Policy::kLossy).ok());  // Connect makes a new one
  w.RunFor(50ms);
  CHECK(ev.got[b] == std::vector<uint64_t>{3});

  // A message from a node that crashes while it is in flight is dropped too.
  REQUIRE(SendSeq(w, a, "b", 4, msg::Policy::kLossy).ok());
  w.RunFor(5ms);
  w.Crash(a);
  w.RunFor(50ms);
  CHECK(ev.got[b] == std::vector<uint64_t>{3});
}

TEST_CASE("lossless connections deliver in order exactly once through faults", "[sim]") {
  SimWorld w(14);
  w.network().loss = 0.3;
  w.network().duplicate = 0.3;
  w.network().reorder = 0.3;
  Events ev;
  int a = AddRecorder(w, "a", &ev);
  int b = AddRecorder(w, "b", &ev);
  std::vector<uint64_t> want;
  for (uint64_t i = 1; i <= 500; ++i) {
    REQUIRE(SendSeq(w, a, "b", i, msg::Policy::kLossless).ok());
    want.push_back(i);
    if (i == 100) w.BlockGroups({a}, {b}, true);
    if (i == 300) w.HealPartitions();
    w.RunFor(2ms);
  }
  w.RunFor(10s);
  CHECK(ev.got[b] == want);
  CHECK(w.stats().held > 0);
  CHECK(w.stats().retransmitted > 0);
  CHECK(w.stats().duplicated == 0);

  // The peer restarts with messages queued: they go to the new incarnation
  // and the sender is told its peer reset.
  w.Crash(b);
  ev.got[b].clear();
  for (uint64_t i = 501; i <= 510; ++i) REQUIRE(SendSeq(w, a, "b", i, msg::Policy::kLossless).ok());
  w.RunFor(200ms);
  w.Restart(b);
  w.RunFor(5s);
  CHECK(ev.got[b] == std::vector<uint64_t>{501, 502, 503, 504, 505, 506, 507, 508, 509, 510});
  CHECK(ev.remote_resets == 1);
}

TEST_CASE("lossless send queue is bounded", "[sim]") {
  SimWorld w(15);
  w.network().max_queued_per_connection = 8;
  Events ev;
  int a = AddRecorder(w, "a", &ev);
  int b = AddRecorder(w, "b", &ev);
  w.Block(a, b);
  int ok = 0;
  for (uint64_t i = 0; i < 20; ++i) ok += SendSeq(w, a, "b", i, msg::Policy::kLossless).ok() ? 1 : 0;
  CHECK(ok == 8);
}
