// Seeded fault schedules of 3 and 5 monitors on the simulator.
//
//   NACRE_SIM_SCHEDULES=N   schedules per cluster size (default 1000)
//   NACRE_SEED=S            run only seed S (as printed by a failure), with
//                           the tail of its trace printed if it fails
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "daemons/mon/paxos_sim_harness.h"

using namespace nacre::mon::simtest;

namespace {

uint64_t EnvU64(const char* name, uint64_t dflt) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : dflt;
}

void RunMany(int mons, uint64_t first_seed, const char* tag) {
  const bool single = std::getenv("NACRE_SEED") && *std::getenv("NACRE_SEED");
  std::vector<uint64_t> seeds;
  if (single) {
    seeds.push_back(EnvU64("NACRE_SEED", 0));
  } else {
    uint64_t count = EnvU64("NACRE_SIM_SCHEDULES", 1000);
    for (uint64_t i = 0; i < count; ++i) seeds.push_back(first_seed + i);
  }
  auto start = std::chrono::steady_clock::now();
  uint64_t failures = 0, commits = 0, leaders = 0, crashes = 0, snapshots = 0, dups = 0, reads = 0, worst = 0;
  for (uint64_t seed : seeds) {
    ScheduleConfig cfg;
    cfg.num_mons = mons;
    cfg.seed = seed;
    cfg.trace_lines = single ? 300 : 0;
    ScheduleResult r = RunSchedule(cfg);
    commits += r.commits;
    leaders += r.leaders;
    crashes += r.crashes;
    snapshots += r.snapshots;
    dups += r.duplicates;
    reads += r.readable_checks;
    worst = std::max(worst, r.liveness_ticks);
    if (r.ok()) continue;
    ++failures;
    std::printf("FAILED seed %llu (%s)\n", static_cast<unsigned long long>(seed), r.params.c_str());
    for (const std::string& e : r.errors) std::printf("  %s\n", e.c_str());
    std::printf("  replay: NACRE_SEED=%llu ./daemons/mon/paxos_sim_tests '%s'\n", static_cast<unsigned long long>(seed),
                tag);
    if (single) std::printf("--- trace up to the first violation ---\n%s", r.trace.c_str());
    if (failures >= 5) break;  // enough to work on
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d monitors: %zu schedules in %.1fs: %llu commits, %llu leaders, %llu crashes, %llu snapshot "
              "installs, %llu duplicate commits, %llu readable checks, worst recovery %llu ticks, %llu failed\n",
              mons, seeds.size(), secs, static_cast<unsigned long long>(commits),
              static_cast<unsigned long long>(leaders), static_cast<unsigned long long>(crashes),
              static_cast<unsigned long long>(snapshots), static_cast<unsigned long long>(dups),
              static_cast<unsigned long long>(reads), static_cast<unsigned long long>(worst),
              static_cast<unsigned long long>(failures));
  CHECK(failures == 0);
  if (!single && seeds.size() >= 100) {
    // The schedules must exercise what they claim to.
    CHECK(commits > seeds.size() * 5);
    CHECK(leaders > seeds.size());
    CHECK(crashes > seeds.size());
    CHECK(snapshots > 0);
    CHECK(reads > 0);
  }
}

}  // namespace

TEST_CASE("paxos sim: 3 monitors under faults", "[sim3]") { RunMany(3, 1, "[sim3]"); }

TEST_CASE("paxos sim: 5 monitors under faults", "[sim5]") { RunMany(5, 1000001, "[sim5]"); }

TEST_CASE("paxos sim: a schedule replays identically from its seed", "[simdet]") {
  for (int mons : {3, 5}) {
    ScheduleConfig a;
    a.num_mons = mons;
    a.seed = 77;
    ScheduleResult r1 = RunSchedule(a);
    ScheduleResult r2 = RunSchedule(a);
    a.seed = 78;
    ScheduleResult r3 = RunSchedule(a);
    CHECK(r1.ok());
    CHECK(r1.trace_hash == r2.trace_hash);
    CHECK(r1.commits == r2.commits);
    CHECK(r1.trace_hash != r3.trace_hash);
  }
}
