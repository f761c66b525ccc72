// Test-only: one seeded schedule of a monitor cluster on the simulator.
//
// Each monitor is a PaxosDriver (the same shell the daemon uses) over a
// SimMessenger, a SimEventLoop and a SimDisk, with a toy application whose
// state is the list of every applied value. A nemesis crashes, restarts and
// partitions monitors while the network loses, duplicates and reorders
// messages and clients propose values; then every fault heals and the
// schedule checks that the cluster recovers. A checker watches every
// monitor throughout and records any violation of:
//   1. one value per version, across all monitors (including values learned
//      by catch-up and snapshots);
//   2. no committed value lost: a monitor's applied state never goes back
//      across a crash, and matches every other monitor's at each version;
//   3. at most one leader per election epoch;
//   4. after healing, within liveness_bound_ticks: a leader with a majority
//      quorum and a proposal made after the heal committed; then every
//      monitor converges to the same state;
//   5. a readable monitor (lease) is never behind the newest commit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nacre::mon::simtest {

struct ScheduleConfig {
  int num_mons = 3;
  uint64_t seed = 1;
  size_t trace_lines = 0;            // > 0: keep a readable trace tail
  uint32_t liveness_bound_ticks = 200;  // 20 s of 100 ms ticks
};

struct ScheduleResult {
  std::vector<std::string> errors;   // empty when every check held
  uint64_t trace_hash = 0;
  uint64_t commits = 0;              // versions committed
  uint64_t leaders = 0;              // epochs that had a leader
  uint64_t crashes = 0;
  uint64_t snapshots = 0;            // snapshot installs (trimmed catch-up)
  uint64_t duplicates = 0;           // a proposal committed at two versions
  uint64_t readable_checks = 0;      // times a readable monitor was checked
  uint64_t liveness_ticks = 0;       // heal -> leader + committed proposal
  std::string params;                // the schedule's network and fault settings
  std::string trace;                 // the kept trace tail
  bool ok() const { return errors.empty(); }
};

ScheduleResult RunSchedule(const ScheduleConfig& cfg);

}  // namespace nacre::mon::simtest
