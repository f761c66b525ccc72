// SimNemesis: random faults for a set of nodes, from the world's PRNG.
//
// While active it wakes at random intervals and does one thing: crash an up
// node (restarting it after a random down time), cut the set in two
// (symmetric partition), block links one way between two random groups, or
// heal every partition. HealAll() stops it, restarts every node it crashed
// and drops every partition, so a test can then check that the system
// recovers. All choices come from the world's PRNG, so they replay with the
// seed like everything else.
//
// Invariants: at most max_down of its nodes are down because of it at once;
// it schedules at most one pending action of its own at a time (plus one
// restart per crashed node).
#pragma once

#include <cstdint>
#include <vector>

#include "common/sim/sim_world.h"

namespace nacre::sim {

struct NemesisOptions {
  Duration min_interval = std::chrono::milliseconds(100);
  Duration max_interval = std::chrono::milliseconds(600);
  Duration min_down = std::chrono::milliseconds(100);
  Duration max_down = std::chrono::milliseconds(2000);
  // Relative weights of the actions.
  uint32_t crash_weight = 2;
  uint32_t partition_weight = 2;
  uint32_t one_way_weight = 1;
  uint32_t heal_weight = 2;
  uint32_t idle_weight = 2;
  // Nodes the nemesis may keep down at once; -1 means all of them.
  int max_down_nodes = -1;
};

class SimNemesis {
 public:
  SimNemesis(SimWorld& world, std::vector<int> nodes, NemesisOptions opts);

  // Acts from now until Now() + d (or until HealAll).
  void RunFor(Duration d);
  // Stops acting, restarts every node down, heals every partition.
  void HealAll();
  bool active() const { return active_; }

  uint64_t crashes() const { return crashes_; }
  uint64_t partitions() const { return partitions_; }

 private:
  void ScheduleNext();
  void Act();
  void CrashOne();
  void PartitionHalves(bool one_way);
  int DownCount() const;

  SimWorld& world_;
  std::vector<int> nodes_;
  NemesisOptions opts_;
  bool active_ = false;
  Duration until_{0};
  uint64_t generation_ = 0;  // invalidates scheduled actions after HealAll
  uint64_t crashes_ = 0;
  uint64_t partitions_ = 0;
};

}  // namespace nacre::sim
