#include "common/sim/sim_nemesis.h"

#include <algorithm>
#include <cassert>

#include "common/log.h"

namespace nacre::sim {

SimNemesis::SimNemesis(SimWorld& world, std::vector<int> nodes, NemesisOptions opts)
    : world_(world), nodes_(std::move(nodes)), opts_(opts) {
  assert(!nodes_.empty());
  assert(opts_.min_interval <= opts_.max_interval && opts_.min_down <= opts_.max_down);
}

void SimNemesis::RunFor(Duration d) {
  active_ = true;
  until_ = world_.Now() + d;
  ++generation_;
  ScheduleNext();
}

void SimNemesis::ScheduleNext() {
  uint64_t lo = static_cast<uint64_t>(opts_.min_interval.count());
  uint64_t hi = static_cast<uint64_t>(opts_.max_interval.count());
  Duration delay(static_cast<int64_t>(world_.rng().Range(lo, hi)));
  if (world_.Now() + delay > until_) {
    active_ = false;
    return;
  }
  uint64_t gen = generation_;
  world_.Schedule(delay, -1, [this, gen] {
    if (gen != generation_ || !active_) return;
    Act();
    ScheduleNext();
  });
}

int SimNemesis::DownCount() const {
  int down = 0;
  for (int n : nodes_) down += world_.IsUp(n) ? 0 : 1;
  return down;
}

void SimNemesis::Act() {
  const uint32_t weights[] = {opts_.crash_weight, opts_.partition_weight, opts_.one_way_weight, opts_.heal_weight,
                              opts_.idle_weight};
  uint64_t total = 0;
  for (uint32_t w : weights) total += w;
  if (total == 0) return;
  uint64_t r = world_.rng().Uniform(total);
  int action = 0;
  while (r >= weights[action]) {
    r -= weights[action];
    ++action;
  }
  switch (action) {
    case 0: CrashOne(); break;
    case 1: PartitionHalves(false); break;
    case 2: PartitionHalves(true); break;
    case 3: world_.HealPartitions(); break;
    default: break;  // idle
  }
}

void SimNemesis::CrashOne() {
  int limit = opts_.max_down_nodes < 0 ? static_cast<int>(nodes_.size()) : opts_.max_down_nodes;
  if (DownCount() >= limit) return;
  std::vector<int> up;
  for (int n : nodes_)
    if (world_.IsUp(n)) up.push_back(n);
  if (up.empty()) return;
  int victim = up[world_.rng().Uniform(up.size())];
  world_.Crash(victim);
  ++crashes_;
  uint64_t lo = static_cast<uint64_t>(opts_.min_down.count());
  uint64_t hi = static_cast<uint64_t>(opts_.max_down.count());
  Duration down(static_cast<int64_t>(world_.rng().Range(lo, hi)));
  uint64_t gen = generation_;
  world_.Schedule(down, -1, [this, gen, victim] {
    if (gen == generation_) world_.Restart(victim);
  });
}

void SimNemesis::PartitionHalves(bool one_way) {
  if (nodes_.size() < 2) return;
  // A random non-empty proper subset against the rest.
  // Each draw fails (one side empty) with probability <= 1/2; after 32
  // failures fall back to one node against the rest.
  std::vector<int> a, b;
  for (int round = 0; round < 32 && (a.empty() || b.empty()); ++round) {
    a.clear();
    b.clear();
    for (int n : nodes_) (world_.rng().Chance(0.5) ? a : b).push_back(n);
  }
  if (a.empty() || b.empty()) {
    a.assign(nodes_.begin(), nodes_.begin() + 1);
    b.assign(nodes_.begin() + 1, nodes_.end());
  }
  world_.BlockGroups(a, b, !one_way);
  ++partitions_;
}

void SimNemesis::HealAll() {
  active_ = false;
  ++generation_;  // pending actions and restarts become no-ops
  world_.HealPartitions();
  for (int n : nodes_)
    if (!world_.IsUp(n)) world_.Restart(n);
}

}  // namespace nacre::sim
