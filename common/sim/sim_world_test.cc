// Tests of the simulator's foundation: PRNG, disk, virtual time and events,
// crash/restart, determinism of whole runs.
#include <catch2/catch.hpp>

#include <chrono>

#include "common/sim/sim_nemesis.h"
#include "common/sim/sim_test_util.h"

using namespace nacre;
using namespace nacre::sim;
using namespace std::chrono_literals;

TEST_CASE("SimRng is a fixed function of the seed", "[sim]") {
  // Pinned values, computed by an independent implementation of
  // splitmix64-seeded xoshiro256**: a change here means every recorded
  // failing seed would replay differently, so it must be deliberate.
  SimRng r0(0);
  CHECK(r0.Next() == 0x99ec5f36cb75f2b4ULL);
  CHECK(r0.Next() == 0xbf6e1f784956452aULL);
  CHECK(r0.Next() == 0x1a5f849d4933e6e0ULL);
  SimRng r42(42);
  CHECK(r42.Next() == 0x15780b2e0c2ec716ULL);
  CHECK(r42.Next() == 0x6104d9866d113a7eULL);
  CHECK(r42.Next() == 0xae17533239e499a1ULL);
  CHECK(SimRng(1).Next() != SimRng(2).Next());

  SimRng r(7);
  int buckets[10] = {};
  for (int i = 0; i < 100000; ++i) {
    uint64_t v = r.Uniform(10);
    REQUIRE(v < 10);
    buckets[v]++;
  }
  for (int b : buckets) CHECK((b > 9000 && b < 11000));
  int hits = 0;
  for (int i = 0; i < 100000; ++i) hits += r.Chance(0.25) ? 1 : 0;
  CHECK((hits > 24000 && hits < 26000));
  CHECK(r.Range(5, 5) == 5);
  CHECK_FALSE(r.Chance(0));
  CHECK(r.Chance(1));
}

TEST_CASE("SimDisk keeps synced writes and loses a suffix of unsynced ones", "[sim]") {
  SimDisk d;
  REQUIRE(d.Write({{"a", "1"}, {"b", "2"}}).ok());
  d.Sync();
  REQUIRE(d.Write({{"a", "3"}}).ok());
  REQUIRE(d.Write({{"c", "4"}, {"b", std::nullopt}}).ok());
  CHECK(d.Get("a") == "3");
  CHECK(!d.Get("b"));
  CHECK(d.Scan("", 10).size() == 2);

  SimRng rng(3);
  bool saw_lost = false, saw_kept = false;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    SimDisk d2;
    REQUIRE(d2.Write({{"x", "1"}}).ok());
    d2.Sync();
    REQUIRE(d2.Write({{"x", "2"}, {"y", "2"}}).ok());
    REQUIRE(d2.Write({{"z", "3"}}).ok());
    SimRng r2(seed);
    d2.OnCrash(r2, true);
    CHECK(d2.pending_batches() == 0);
    // Never a later batch without the earlier one, never half a batch.
    if (d2.Get("z")) CHECK(d2.Get("y") == "2");
    CHECK((d2.Get("x") == "2") == bool(d2.Get("y")));
    if (!d2.Get("y")) saw_lost = true;
    if (d2.Get("z")) saw_kept = true;
  }
  CHECK(saw_lost);
  CHECK(saw_kept);

  SimDisk d3;
  REQUIRE(d3.Write({{"k", "v"}}).ok());
  d3.OnCrash(rng, false);
  CHECK(d3.Get("k") == "v");
}

TEST_CASE("virtual time advances by events, without sleeping", "[sim]") {
  SimWorld w(1);
  std::vector<int> order;
  w.Schedule(30ms, -1, [&] { order.push_back(3); });
  w.Schedule(10ms, -1, [&] { order.push_back(1); });
  w.Schedule(10ms, -1, [&] { order.push_back(2); });  // same time: by sequence
  auto start = std::chrono::steady_clock::now();
  CHECK(w.RunFor(std::chrono::hours(24 * 365)));
  auto real = std::chrono::steady_clock::now() - start;
  CHECK(order == std::vector<int>{1, 2, 3});
  CHECK(w.Now() == std::chrono::hours(24 * 365));
  CHECK(real < 1s);

  // A node's timers: a year of 1-second ticks in well under a second.
  int ticks = 0;
  struct Ticker : SimProcess {
    Ticker(SimNodeContext& c, int* t) : loop(c.loop), ticks(t) { Arm(); }
    void Arm() {
      loop.CallAfter(1s, [this] {
        ++*ticks;
        Arm();
      });
    }
    EventLoop& loop;
    int* ticks;
  };
  SimWorld w2(2);
  w2.AddNode("t", [&](SimNodeContext& c) { return std::make_unique<Ticker>(c, &ticks); });
  start = std::chrono::steady_clock::now();
  w2.RunFor(std::chrono::hours(24));
  CHECK(ticks == 24 * 3600);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("a crash drops the node's timers; restart rebuilds from the disk", "[sim]") {
  SimWorld w(5);
  int fired = 0;
  int builds = 0;
  std::string seen_on_boot;
  struct P : SimProcess {
    P(SimNodeContext& c, int* fired, int* builds, std::string* seen) {
      ++*builds;
      auto v = c.disk.Get("boot");
      *seen = v ? *v : "";
      (void)c.disk.Write({{"boot", std::to_string(*builds)}});
      c.disk.Sync();
      (void)c.disk.Write({{"unsynced", "x"}});
      c.loop.CallAfter(100ms, [fired] { ++*fired; });
      EventLoop::TimerId id = c.loop.CallAfter(50ms, [fired] { *fired += 100; });
      c.loop.Cancel(id);
    }
  };
  w.network().lose_unsynced_on_crash = true;
  int n = w.AddNode("n", [&](SimNodeContext& c) { return std::make_unique<P>(c, &fired, &builds, &seen_on_boot); });
  w.RunFor(50ms);
  w.Crash(n);
  CHECK_FALSE(w.IsUp(n));
  CHECK(w.process(n) == nullptr);
  w.RunFor(1s);
  CHECK(fired == 0);  // the timer died with the process; the cancelled one never ran
  w.Restart(n);
  CHECK(builds == 2);
  CHECK(seen_on_boot == "1");  // synced write survived
  w.RunFor(1s);
  CHECK(fired == 1);
  CHECK(w.stats().crashes == 1);
  CHECK(w.stats().restarts == 1);
}

namespace {

uint64_t ChatRun(uint64_t seed, msg::Policy policy, testing::ChatLog* log = nullptr) {
  testing::ChatLog local;
  if (!log) log = &local;
  SimWorld w(seed);
  w.network().loss = 0.05;
  w.network().duplicate = 0.05;
  w.network().reorder = 0.1;
  testing::AddChatters(w, 5, log, policy);
  std::vector<int> nodes{0, 1, 2, 3, 4};
  SimNemesis nem(w, nodes, NemesisOptions{});
  nem.RunFor(5s);
  w.RunFor(5s);
  nem.HealAll();
  w.RunFor(1s);
  return w.trace().hash();
}

}  // namespace

TEST_CASE("same seed gives the same trace; different seeds differ", "[sim]") {
  for (auto policy : {msg::Policy::kLossy, msg::Policy::kLossless}) {
    uint64_t a = ChatRun(1234, policy);
    uint64_t b = ChatRun(1234, policy);
    uint64_t c = ChatRun(1235, policy);
    CHECK(a == b);
    CHECK(a != c);
  }
  testing::ChatLog l1, l2;
  ChatRun(99, msg::Policy::kLossy, &l1);
  ChatRun(99, msg::Policy::kLossy, &l2);
  CHECK(l1.received == l2.received);
  CHECK(l1.sent == l2.sent);
}

TEST_CASE("the nemesis crashes, restarts and partitions within its bounds", "[sim]") {
  testing::ChatLog log;
  SimWorld w(77);
  testing::AddChatters(w, 5, &log, msg::Policy::kLossy);
  NemesisOptions o;
  o.max_down_nodes = 2;
  SimNemesis nem(w, {0, 1, 2, 3, 4}, o);
  nem.RunFor(20s);
  int max_down = 0;
  for (int i = 0; i < 2000; ++i) {
    w.RunFor(10ms);
    int down = 0;
    for (int n = 0; n < 5; ++n) down += w.IsUp(n) ? 0 : 1;
    max_down = std::max(max_down, down);
  }
  CHECK(max_down <= 2);
  CHECK(nem.crashes() > 3);
  CHECK(nem.partitions() > 3);
  nem.HealAll();
  for (int n = 0; n < 5; ++n) CHECK(w.IsUp(n));
  CHECK(w.blocked_links() == 0);
  CHECK(w.stats().restarts == w.stats().crashes);
}
