// Unit tests of the Paxos core's edge cases, on hand-driven clusters.
#include <catch2/catch.hpp>

#include "daemons/mon/paxos_test_harness.h"

using namespace nacre;
using namespace nacre::mon;
using namespace nacre::mon::testing;

namespace {

void ElectZero(TestCluster& c) { REQUIRE(c.RunUntil([&] { return c.ActiveLeader() == 0; })); }

}  // namespace

TEST_CASE("paxos: a proposal commits everywhere, in order", "[paxos]") {
  TestCluster c(3, TestOptions());
  ElectZero(c);
  uint64_t v1 = c.ProposeAndCommit(0, "a");
  uint64_t v2 = c.ProposeAndCommit(0, "b");
  CHECK(v1 == 1);
  CHECK(v2 == 2);
  REQUIRE(c.RunUntil([&] { return c.AllAt(2); }));
  for (int r = 0; r < 3; ++r) {
    CHECK(c.node(r).app.at(1) == "a");
    CHECK(c.node(r).app.at(2) == "b");
  }
}

TEST_CASE("paxos: a peon forwards to the leader and hears the outcome", "[paxos]") {
  TestCluster c(3, TestOptions());
  ElectZero(c);
  uint64_t v = c.ProposeAndCommit(2, "from-peon");
  CHECK(v == 1);
  CHECK(c.node(0).app.at(1) == "from-peon");
}

TEST_CASE("paxos: proposals are refused while electing, too big, or too many", "[paxos]") {
  PaxosOptions o = TestOptions();
  o.max_value_bytes = 100;
  o.max_message_bytes = 100 + 8192;
  o.max_pending_proposals = 2;
  TestCluster c(3, o);
  auto r = c.p(1).Propose("x");  // just booted: electing
  CHECK(r.status().code() == Code::kAgain);
  ElectZero(c);
  CHECK(c.p(0).Propose(std::string(101, 'x')).status().code() == Code::kTooBig);
  CHECK(c.p(1).Propose("1").ok());
  CHECK(c.p(1).Propose("2").ok());
  CHECK(c.p(1).Propose("3").status().code() == Code::kAgain);
  c.Process(1);
}

TEST_CASE("paxos: votes, promises and accepts are durable before they are sent", "[paxos]") {
  TestCluster c(3, TestOptions(), /*keep_readies=*/true);
  c.dup = [](const TestCluster::Envelope& e) { return e.m.op() == proto::PAXOS_OP_COLLECT; };
  ElectZero(c);
  c.ProposeAndCommit(0, "v");
  c.Crash(0);  // a new leader, a new collect
  REQUIRE(c.RunUntil([&] { return c.ActiveLeader() == 1; }));
  c.ProposeAndCommit(2, "w");
  size_t checked = 0;
  for (int r = 0; r < 3; ++r) {
    // Replay the node's writes in order; when a message leaves, what it
    // promises must already be in the replayed (durable) state.
    std::map<std::string, std::string> disk;
    auto u64 = [&](const char* k) { return disk.count(k) ? std::stoull(disk[k]) : 0ull; };
    for (const Ready& rd : c.node(r).readies) {
      for (const StoreWrite& w : rd.writes) {
        if (w.value) {
          disk[w.key] = *w.value;
        } else {
          disk.erase(w.key);
        }
      }
      for (const OutMessage& om : rd.messages) {
        const proto::PaxosMessage& m = om.msg;
        ++checked;
        switch (m.op()) {
          case proto::PAXOS_OP_ACK:
            CHECK(u64("election/epoch") == m.epoch());
            CHECK(disk["election/vote"] == std::to_string(om.to));
            break;
          case proto::PAXOS_OP_PROPOSE:
            CHECK(u64("election/epoch") == m.epoch());
            CHECK(disk["election/vote"] == std::to_string(r));
            break;
          case proto::PAXOS_OP_COLLECT:
            CHECK(u64("paxos/last_pn") >= m.pn());
            CHECK(u64("paxos/accepted_pn") >= m.pn());
            break;
          case proto::PAXOS_OP_LAST:
            CHECK(u64("paxos/accepted_pn") >= m.pn());
            break;
          case proto::PAXOS_OP_BEGIN:
          case proto::PAXOS_OP_ACCEPT:
            if (m.op() == proto::PAXOS_OP_BEGIN || m.accepted()) {
              proto::PaxosEntry u;
              REQUIRE(u.ParseFromString(disk["paxos/uncommitted"]));
              CHECK(u.version() == m.version());
              CHECK(u.pn() == m.pn());
            }
            break;
          case proto::PAXOS_OP_COMMIT:
            for (const auto& e : m.entries()) CHECK(u64("paxos/last_committed") >= e.version());
            break;
          default:
            --checked;
            break;
        }
      }
    }
  }
  CHECK(checked > 20);
}

TEST_CASE("paxos: duplicated messages change nothing", "[paxos]") {
  TestCluster c(3, TestOptions());
  c.dup = [](const TestCluster::Envelope&) { return true; };  // everything twice
  ElectZero(c);
  for (int i = 0; i < 5; ++i) c.ProposeAndCommit(i % 3, "v" + std::to_string(i));
  REQUIRE(c.RunUntil([&] { return c.AllAt(5); }));
  for (int r = 0; r < 3; ++r) {
    CHECK(c.node(r).app.size() == 5);
    for (int i = 0; i < 5; ++i) CHECK(c.node(r).app.count(static_cast<uint64_t>(i + 1)) == 1);
  }
  // And the same five values, each once.
  std::set<std::string> vals;
  for (const auto& [v, d] : c.node(0).app) vals.insert(d);
  CHECK(vals.size() == 5);
}

TEST_CASE("paxos: messages of an older epoch are ignored", "[paxos]") {
  TestCluster c(3, TestOptions());
  ElectZero(c);
  c.ProposeAndCommit(0, "first");  // past the new leader's commit wait
  // Capture a BEGIN for peon 2, then let leadership change.
  c.drop = [](const TestCluster::Envelope& e) { return e.m.op() == proto::PAXOS_OP_BEGIN && e.to == 2; };
  auto id = c.p(0).Propose("old");
  REQUIRE(id.ok());
  c.Process(0);
  proto::PaxosMessage old_begin;
  for (const auto& e : c.net)
    if (e.m.op() == proto::PAXOS_OP_BEGIN && e.to == 2) old_begin = e.m;
  REQUIRE(old_begin.op() == proto::PAXOS_OP_BEGIN);
  c.drop = nullptr;
  c.Crash(0);
  REQUIRE(c.RunUntil([&] { return c.ActiveLeader() == 1; }));
  uint64_t before_pn = c.p(2).accepted_pn();
  uint64_t before_lc = c.p(2).last_committed();
  c.Step(2, 0, old_begin);
  CHECK(c.p(2).accepted_pn() == before_pn);
  CHECK(c.p(2).last_committed() == before_lc);
  CHECK(c.p(2).role() == PaxosRole::kPeon);
  CHECK(c.p(2).leader() == 1);
}

TEST_CASE("paxos: a new leader re-proposes a value accepted but not committed", "[paxos]") {
  TestCluster c(3, TestOptions());
  ElectZero(c);
  c.ProposeAndCommit(0, "first");
  REQUIRE(c.RunUntil([&] { return c.AllAt(1); }));
  // The leader never hears an ACCEPT: the value is accepted by the peons but
  // never committed. Then the leader dies.
  c.drop = [](const TestCluster::Envelope& e) { return e.m.op() == proto::PAXOS_OP_ACCEPT; };
  REQUIRE(c.p(0).Propose("orphan").ok());
  c.Process(0);
  c.Run(2);
  c.Crash(0);
  c.drop = nullptr;
  REQUIRE(c.RunUntil([&] { return c.ActiveLeader() == 1 && c.node(1).app_version >= 2; }));
  CHECK(c.node(1).app.at(2) == "orphan");
  // The old leader comes back and agrees.
  c.Boot(0);
  REQUIRE(c.RunUntil([&] { return c.node(0).app_version >= 2 && c.ActiveLeader() >= 0; }));
  CHECK(c.node(0).app.at(2) == "orphan");
}

TEST_CASE("paxos: a monitor that was down catches up with committed values", "[paxos]") {
  TestCluster c(3, TestOptions());
  ElectZero(c);
  c.Crash(2);
  for (int i = 0; i < 10; ++i) c.ProposeAndCommit(0, "v" + std::to_string(i));
  c.Boot(2);
  REQUIRE(c.RunUntil([&] { return c.AllAt(10) && c.ActiveLeader() >= 0; }));
  CHECK(c.node(2).app == c.node(0).app);
  CHECK(c.node(2).snapshots_installed == 0);
}

TEST_CASE("paxos: catch-up past trimmed versions sends a snapshot", "[paxos]") {
  PaxosOptions o = TestOptions();
  o.keep_versions = 6;
  o.trim_min = 2;
  o.max_catchup_versions = 4;
  TestCluster c(3, o);
  ElectZero(c);
  c.Crash(2);
  for (int i = 0; i < 30; ++i) c.ProposeAndCommit(0, "v" + std::to_string(i));
  CHECK(c.p(0).first_committed() > 1);  // trimmed
  CHECK(c.p(0).last_committed() - c.p(0).first_committed() + 1 <= o.keep_versions + o.trim_min);
  c.Boot(2);
  REQUIRE(c.RunUntil([&] { return c.AllAt(30) && c.ActiveLeader() >= 0; }));
  CHECK(c.node(2).snapshots_installed >= 1);
  CHECK(c.node(2).app == c.node(0).app);
  c.ProposeAndCommit(2, "after");
  REQUIRE(c.RunUntil([&] { return c.AllAt(31); }));
}

TEST_CASE("paxos: a leader that is behind learns from its peons first", "[paxos]") {
  PaxosOptions o = TestOptions();
  o.keep_versions = 6;
  o.trim_min = 2;
  TestCluster c(3, o);
  ElectZero(c);
  c.Crash(0);
  REQUIRE(c.RunUntil([&] { return c.ActiveLeader() == 1; }));
  for (int i = 0; i < 20; ++i) c.ProposeAndCommit(1, "v" + std::to_string(i));
  c.Boot(0);  // the lowest rank: it will lead, though 20 versions behind
  REQUIRE(c.RunUntil([&] { return c.ActiveLeader() == 0; }));
  CHECK(c.p(0).last_committed() == 20);
  CHECK(c.node(0).app == c.node(1).app);
  uint64_t v = c.ProposeAndCommit(0, "new");
  CHECK(v == 21);
}

TEST_CASE("paxos: leases make peons readable, and run out", "[paxos]") {
  PaxosOptions o = TestOptions();
  TestCluster c(3, o);
  ElectZero(c);
  c.ProposeAndCommit(0, "x");
  c.Run(3);
  CHECK(c.p(0).IsReadable());
  CHECK(c.p(1).IsReadable());
  CHECK(c.p(2).IsReadable());
  // The leader goes silent: within lease_ticks the peons stop reading.
  c.drop = [](const TestCluster::Envelope& e) { return e.from == 0 || e.to == 0; };
  for (uint32_t i = 0; i <= o.lease_ticks; ++i) c.Run(1);
  CHECK_FALSE(c.p(1).IsReadable());
  CHECK_FALSE(c.p(2).IsReadable());
  CHECK_FALSE(c.p(0).IsReadable());  // its quorum is no longer confirmed
}

TEST_CASE("paxos: a new leader waits out old leases before committing", "[paxos]") {
  PaxosOptions o = TestOptions();
  TestCluster c(3, o);
  ElectZero(c);
  c.ProposeAndCommit(0, "x");
  c.Crash(0);
  REQUIRE(c.RunUntil([&] { return c.p(1).role() == PaxosRole::kLeader; }));
  uint64_t won = c.p(1).now_tick();
  auto id = c.p(1).Propose("y");
  REQUIRE(id.ok());
  c.Process(1);
  REQUIRE(c.RunUntil([&] { return c.node(1).app_version == 2; }));
  CHECK(c.p(1).now_tick() - won >= o.commit_wait_ticks());
}

TEST_CASE("paxos: a leader whose quorum is every monitor commits without the wait", "[paxos]") {
  PaxosOptions o = TestOptions();
  TestCluster c(3, o);
  ElectZero(c);
  uint64_t won = c.p(0).now_tick();
  auto id = c.p(0).Propose("x");
  REQUIRE(id.ok());
  c.Process(0);
  REQUIRE(c.RunUntil([&] { return c.node(0).app_version == 1; }));
  CHECK(c.p(0).now_tick() - won < o.commit_wait_ticks());
}

TEST_CASE("paxos: five monitors survive the loss of two", "[paxos]") {
  TestCluster c(5, TestOptions());
  ElectZero(c);
  c.ProposeAndCommit(0, "a");
  c.Crash(0);
  c.Crash(4);
  REQUIRE(c.RunUntil([&] { return c.ActiveLeader() == 1; }));
  c.ProposeAndCommit(3, "b");
  c.Crash(1);  // three down: no majority, nothing commits
  auto id = c.p(2).Propose("c");
  c.Process(2);
  c.Run(50);
  CHECK(c.node(2).app_version == 2);
  c.Boot(0);
  REQUIRE(c.RunUntil([&] { return c.ActiveLeader() == 0; }));
  REQUIRE(c.RunUntil([&] { return c.node(0).app_version >= 2; }));
  CHECK(c.node(0).app.at(2) == "b");
  (void)id;
}

TEST_CASE("paxos: a BEGIN below the promised pn is refused", "[paxos]") {
  TestCluster c(3, TestOptions());
  ElectZero(c);
  c.ProposeAndCommit(0, "a");
  c.Run(2);
  const uint64_t promised = c.p(1).accepted_pn();
  proto::PaxosMessage begin;
  begin.set_op(proto::PAXOS_OP_BEGIN);
  begin.set_epoch(c.p(1).epoch());
  begin.set_from_rank(0);
  begin.set_pn(promised - 1);
  begin.set_version(c.p(1).last_committed() + 1);
  begin.mutable_proposal()->set_data("stale");
  c.net.clear();
  c.Step(1, 0, begin);
  REQUIRE(c.net.size() == 1);
  CHECK(c.net.front().m.op() == proto::PAXOS_OP_ACCEPT);
  CHECK_FALSE(c.net.front().m.accepted());
  CHECK(c.net.front().m.pn() == promised);
  CHECK(c.node(1).kv.count("paxos/uncommitted") == 0);
}

TEST_CASE("paxos: no stale read when a partition elects a new leader fast", "[paxos]") {
  // Leases longer than an election, so only the commit wait (and the
  // leader's quorum check) keep the cut-off peon from reading stale data.
  PaxosOptions o = TestOptions();
  o.lease_ticks = 10;
  o.lease_renew_ticks = 2;
  o.lease_ack_timeout_ticks = 12;
  o.lease_timeout_ticks = 12;
  o.phase_timeout_ticks = 30;
  TestCluster c(5, o);
  ElectZero(c);
  c.ProposeAndCommit(0, "a");
  c.Run(3);
  REQUIRE(c.p(4).IsReadable());
  // {0, 4} cut from {1, 2, 3}; a restart on the majority side calls an
  // election at once.
  auto side = [](int r) { return r == 0 || r == 4; };
  c.drop = [&](const TestCluster::Envelope& e) { return side(e.from) != side(e.to); };
  c.Crash(3);
  c.Boot(3);
  REQUIRE(c.RunUntil([&] { return c.p(1).role() == PaxosRole::kLeader; }));
  REQUIRE(c.p(1).Propose("b").ok());
  c.Process(1);
  bool committed = false;
  for (int i = 0; i < 100 && !committed; ++i) {
    c.Run(1);
    committed = c.node(1).app_version >= 2;
    if (committed) {
      CHECK_FALSE((c.p(4).IsReadable() && c.p(4).last_committed() < 2));
      CHECK_FALSE((c.p(0).IsReadable() && c.p(0).last_committed() < 2));
    }
  }
  CHECK(committed);
}

TEST_CASE("paxos: a readable peon is never behind a commit", "[paxos]") {
  TestCluster c(3, TestOptions());
  ElectZero(c);
  c.ProposeAndCommit(0, "a");
  c.Run(3);
  REQUIRE(c.p(2).IsReadable());
  size_t readable_seen = 0;
  auto check = [&] {
    uint64_t newest = 0;
    for (int r = 0; r < 3; ++r) newest = std::max(newest, c.node(r).app_version);
    for (int r = 0; r < 3; ++r) {
      if (!c.p(r).IsReadable()) continue;
      ++readable_seen;
      CHECK(c.p(r).last_committed() >= newest);
    }
  };
  // Peon 2 misses the BEGIN: the leader may not commit without it.
  c.drop = [](const TestCluster::Envelope& e) { return e.to == 2 && e.m.op() == proto::PAXOS_OP_BEGIN; };
  REQUIRE(c.p(0).Propose("b").ok());
  c.Process(0);
  for (int i = 0; i < 6; ++i) {
    c.Run(1);
    check();
  }
  CHECK(c.node(0).app_version == 1);
  // Now it accepts but misses the COMMIT and the leases that carry it.
  c.drop = [](const TestCluster::Envelope& e) {
    return e.to == 2 && (e.m.op() == proto::PAXOS_OP_COMMIT || e.m.op() == proto::PAXOS_OP_LEASE);
  };
  for (int i = 0; i < 6; ++i) {
    c.Run(1);
    check();
  }
  CHECK(c.node(0).app_version == 2);
  c.drop = nullptr;
  REQUIRE(c.RunUntil([&] { return c.AllAt(2); }));
  CHECK(readable_seen > 0);
}

TEST_CASE("paxos: a single monitor is its own quorum", "[paxos]") {
  TestCluster c(1, TestOptions());
  REQUIRE(c.RunUntil([&] { return c.ActiveLeader() == 0; }));
  CHECK(c.ProposeAndCommit(0, "solo") == 1);
  CHECK(c.p(0).IsReadable());
  c.Crash(0);
  c.Boot(0);
  REQUIRE(c.RunUntil([&] { return c.ActiveLeader() == 0; }));
  CHECK(c.p(0).last_committed() == 1);
  CHECK(c.ProposeAndCommit(0, "again") == 2);
}
