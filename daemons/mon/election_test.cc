// Unit tests of the Elector: votes, epochs, rank priority, persistence.
#include <catch2/catch.hpp>

#include "daemons/mon/election.h"
#include "daemons/mon/paxos_test_harness.h"

using namespace nacre;
using namespace nacre::mon;
using namespace nacre::mon::testing;

namespace {

// Records what an Elector asks for; its "disk" survives a new Elector.
struct FakeHost : ElectionHost, PaxosStorage {
  std::vector<std::pair<int, proto::PaxosMessage>> sent;
  std::map<std::string, std::string> disk;
  std::vector<std::string> events;

  void ElectionSend(int to, proto::PaxosMessage m) override { sent.emplace_back(to, std::move(m)); }
  void ElectionWrite(StoreWrite w) override { disk[w.key] = *w.value; }
  void OnElectionStarted(uint64_t e) override { events.push_back("electing " + std::to_string(e)); }
  void OnWonElection(uint64_t e, const std::vector<int>& q) override {
    events.push_back("won " + std::to_string(e) + " q" + std::to_string(q.size()));
  }
  void OnLostElection(uint64_t e, int l, const std::vector<int>&) override {
    events.push_back("peon " + std::to_string(e) + " of " + std::to_string(l));
  }
  Result<std::optional<std::string>> Get(const std::string& k) const override {
    auto it = disk.find(k);
    if (it == disk.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Result<PaxosSnapshotData> GetSnapshot() const override { return PaxosSnapshotData{}; }

  int Count(proto::PaxosOp op, int to = -1) const {
    int n = 0;
    for (const auto& [t, m] : sent) n += (m.op() == op && (to < 0 || t == to)) ? 1 : 0;
    return n;
  }
};

proto::PaxosMessage Msg(proto::PaxosOp op, uint64_t epoch, std::vector<int> quorum = {}) {
  proto::PaxosMessage m;
  m.set_op(op);
  m.set_epoch(epoch);
  for (int r : quorum) m.add_quorum(r);
  return m;
}

PaxosOptions Opts(int rank, int n) {
  PaxosOptions o = TestOptions();
  o.rank = rank;
  o.num_mons = n;
  return o;
}

}  // namespace

TEST_CASE("election: one vote per epoch, kept across a restart", "[election]") {
  FakeHost h;
  PaxosOptions o = Opts(2, 3);
  Elector e(o, &h);
  REQUIRE(e.Load(h).ok());
  e.Handle(1, Msg(proto::PAXOS_OP_PROPOSE, 3));
  CHECK(e.epoch() == 3);
  CHECK(e.voted_for() == 1);
  CHECK(h.Count(proto::PAXOS_OP_ACK, 1) == 1);
  CHECK(h.disk.at("election/vote") == "1");
  // A lower rank in the same epoch does not get a second vote.
  e.Handle(0, Msg(proto::PAXOS_OP_PROPOSE, 3));
  CHECK(h.Count(proto::PAXOS_OP_ACK, 0) == 0);
  // A duplicated proposal from the one we voted for is answered again.
  e.Handle(1, Msg(proto::PAXOS_OP_PROPOSE, 3));
  CHECK(h.Count(proto::PAXOS_OP_ACK, 1) == 2);

  // Restart: the vote is read back and still binds.
  Elector e2(o, &h);
  REQUIRE(e2.Load(h).ok());
  CHECK(e2.epoch() == 3);
  CHECK(e2.voted_for() == 1);
  e2.Handle(0, Msg(proto::PAXOS_OP_PROPOSE, 3));
  CHECK(h.Count(proto::PAXOS_OP_ACK, 0) == 0);
  // A newer epoch frees the vote.
  e2.Handle(0, Msg(proto::PAXOS_OP_PROPOSE, 5));
  CHECK(h.Count(proto::PAXOS_OP_ACK, 0) == 1);
  // A restarted elector starts in a fresh odd epoch, above its vote.
  e2.Start();
  CHECK(e2.epoch() == 7);
  CHECK(e2.voted_for() == 2);
}

TEST_CASE("election: all votes win at once, a majority at the timeout", "[election]") {
  FakeHost h;
  Elector e(Opts(0, 5), &h);
  REQUIRE(e.Load(h).ok());
  e.Start();
  CHECK(e.epoch() == 1);
  CHECK(h.Count(proto::PAXOS_OP_PROPOSE) == 4);
  e.Handle(1, Msg(proto::PAXOS_OP_ACK, 1));
  e.Handle(2, Msg(proto::PAXOS_OP_ACK, 1));
  e.Handle(2, Msg(proto::PAXOS_OP_ACK, 1));  // duplicate
  e.Handle(3, Msg(proto::PAXOS_OP_ACK, 0));  // stale epoch: not counted
  CHECK(e.role() == PaxosRole::kElecting);
  for (int i = 0; i < 100 && e.role() == PaxosRole::kElecting; ++i) e.Tick();
  CHECK(e.role() == PaxosRole::kLeader);
  CHECK(e.epoch() == 2);
  CHECK(e.quorum() == std::vector<int>{0, 1, 2});
  CHECK(h.Count(proto::PAXOS_OP_VICTORY) == 2);

  FakeHost h2;
  Elector f(Opts(0, 3), &h2);
  REQUIRE(f.Load(h2).ok());
  f.Start();
  f.Handle(1, Msg(proto::PAXOS_OP_ACK, 1));
  CHECK(f.role() == PaxosRole::kElecting);
  f.Handle(2, Msg(proto::PAXOS_OP_ACK, 1));
  CHECK(f.role() == PaxosRole::kLeader);  // unanimous: no need to wait
}

TEST_CASE("election: a minority never wins; it calls new epochs", "[election]") {
  FakeHost h;
  Elector e(Opts(0, 5), &h);
  REQUIRE(e.Load(h).ok());
  e.Start();
  e.Handle(1, Msg(proto::PAXOS_OP_ACK, 1));  // 2 of 5
  for (int i = 0; i < 20; ++i) e.Tick();
  CHECK(e.role() == PaxosRole::kElecting);
  CHECK(e.epoch() > 1);
  CHECK(e.epoch() % 2 == 1);
}

TEST_CASE("election: stale and conflicting messages are ignored", "[election]") {
  FakeHost h;
  Elector e(Opts(1, 3), &h);
  REQUIRE(e.Load(h).ok());
  e.Handle(0, Msg(proto::PAXOS_OP_PROPOSE, 5));
  e.Handle(0, Msg(proto::PAXOS_OP_VICTORY, 6, {0, 1}));
  CHECK(e.role() == PaxosRole::kPeon);
  CHECK(e.leader() == 0);
  CHECK(e.epoch() == 6);
  // Another monitor claiming the same epoch: never two leaders in one epoch.
  e.Handle(2, Msg(proto::PAXOS_OP_VICTORY, 6, {1, 2}));
  CHECK(e.leader() == 0);
  // Older epochs change nothing.
  e.Handle(2, Msg(proto::PAXOS_OP_VICTORY, 4, {1, 2}));
  e.Handle(2, Msg(proto::PAXOS_OP_PROPOSE, 3));
  CHECK(e.role() == PaxosRole::kPeon);
  CHECK(e.epoch() == 6);
  // A victory whose quorum leaves us out, or is no majority, is ignored.
  e.Handle(2, Msg(proto::PAXOS_OP_VICTORY, 8, {0, 2}));
  e.Handle(2, Msg(proto::PAXOS_OP_VICTORY, 8, {1}));
  CHECK(e.epoch() == 6);
  // A newer proposal moves us to its epoch, electing.
  e.Handle(2, Msg(proto::PAXOS_OP_PROPOSE, 7));
  CHECK(e.role() == PaxosRole::kElecting);
  CHECK(e.epoch() == 7);
}

TEST_CASE("election: a leader re-elects when an outsider proposes", "[election]") {
  FakeHost h;
  Elector e(Opts(0, 3), &h);
  REQUIRE(e.Load(h).ok());
  e.Start();
  e.Handle(1, Msg(proto::PAXOS_OP_ACK, 1));
  for (int i = 0; i < 20 && e.role() != PaxosRole::kLeader; ++i) e.Tick();
  REQUIRE(e.role() == PaxosRole::kLeader);
  REQUIRE(e.quorum() == std::vector<int>{0, 1});
  e.Handle(1, Msg(proto::PAXOS_OP_PROPOSE, 1));  // a quorum member's stale message
  CHECK(e.role() == PaxosRole::kLeader);
  e.Handle(2, Msg(proto::PAXOS_OP_PROPOSE, 1));  // the outsider wants in
  CHECK(e.role() == PaxosRole::kElecting);
  CHECK(e.epoch() == 3);
}

TEST_CASE("election: rank priority", "[election]") {
  // Rank 1 hears rank 2 first: it runs itself in the same epoch.
  FakeHost h;
  Elector e(Opts(1, 3), &h);
  REQUIRE(e.Load(h).ok());
  e.Handle(2, Msg(proto::PAXOS_OP_PROPOSE, 1));
  CHECK(e.voted_for() == 1);
  CHECK(h.Count(proto::PAXOS_OP_ACK) == 0);
  CHECK(h.Count(proto::PAXOS_OP_PROPOSE) == 2);
  // Then rank 0 runs: rank 1 yields and does not claim victory in this
  // epoch even with a majority.
  e.Handle(0, Msg(proto::PAXOS_OP_PROPOSE, 1));
  e.Handle(2, Msg(proto::PAXOS_OP_ACK, 1));
  for (int i = 0; i < 30; ++i) e.Tick();
  CHECK(e.role() != PaxosRole::kLeader);

  // Whole clusters: the lowest rank leads.
  for (int n : {3, 5}) {
    TestCluster c(n, TestOptions());
    REQUIRE(c.RunUntil([&] { return c.ActiveLeader() >= 0; }));
    CHECK(c.ActiveLeader() == 0);
    for (int r = 1; r < n; ++r) {
      CHECK(c.p(r).role() == PaxosRole::kPeon);
      CHECK(c.p(r).epoch() == c.p(0).epoch());
    }
    CHECK(static_cast<int>(c.p(0).quorum().size()) == n);
  }
}
