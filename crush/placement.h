// Placement: the lookup tables derived from a validated CrushMap (internal to
// crush/).
//
// The map's description is easy to edit and to encode; these tables are
// what the mapper reads on its hot path: dense arrays indexed by id, bucket
// weights, and one view of the tree per device class (Ceph's shadow trees).
// A class view keeps the original item ids, so an input hashes the same way
// whether it walks the full tree or a class view, and adding a class never
// renumbers anything. Items of zero weight in a view are left out of it:
// straw2 never picks them, and skipping them makes every pick cheaper.
//
// Built once by BuildPlacement, immutable afterwards, shared by copies of
// the map.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "crush/crush_map.h"

namespace nacre::crush {

// A bucket id -1, -2, ... maps to slot 0, 1, ...
inline int32_t BucketSlot(int32_t id) { return -1 - id; }

struct Placement {
  struct Item {
    int32_t id;
    uint64_t weight;  // 16.16, > 0
  };
  // One tree: items of bucket slot s are items[begin[s] .. begin[s + 1]).
  struct View {
    std::vector<uint32_t> begin;
    std::vector<Item> items;
    std::vector<uint64_t> weight;  // by bucket slot: the bucket's total weight
  };
  struct CompiledStep {
    StepOp op;
    int32_t arg1;
    int32_t arg2;
    int32_t view;  // take: 0 for the whole tree, 1 + class index for a class
  };

  std::vector<int32_t> device_index;  // by device id: index into devices(), or -1
  std::vector<int32_t> bucket_index;  // by bucket slot: index into buckets(), or -1
  std::vector<int32_t> bucket_type;   // by bucket slot: type id, or -1
  std::vector<int32_t> parent;        // by bucket slot then device id: parent id, or 0
  std::vector<int32_t> type_index;    // by type id: index into types(), or -1
  std::vector<int32_t> rule_index;    // by rule id: index into rules(), or -1
  std::unordered_map<std::string, int32_t> item_by_name;
  std::vector<std::string> classes;    // sorted
  std::vector<int16_t> device_class;   // by device id: class index, or -1
  std::vector<View> views;             // [0] every device, [1 + c] class c
  std::vector<std::vector<CompiledStep>> rule_steps;  // by rule index

  int32_t max_devices() const { return static_cast<int32_t>(device_index.size()); }
  int32_t bucket_slots() const { return static_cast<int32_t>(bucket_index.size()); }
  // parent[] is laid out as bucket slots first, then devices.
  int32_t ParentSlot(int32_t id) const { return id < 0 ? BucketSlot(id) : bucket_slots() + id; }
};

// Checks every invariant of `map` (see crush_map.h) and derives the tables.
Result<Placement> BuildPlacement(const CrushMap& map);

}  // namespace nacre::crush
