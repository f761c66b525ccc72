// CrushMap: the description of where data may live, and the pure function
// that maps an input (a PG) to an ordered list of OSDs.
//
// A map is a tree of buckets (root, datacenter, rack, host, ...) whose leaves
// are devices (OSDs) with a 16.16 fixed-point weight and an optional device
// class (hdd, ssd, nvme), plus rules that walk the tree (take, choose,
// chooseleaf, emit). Selection inside a bucket is straw2: every item draws
// ln(u)/weight from an integer hash of (input, item, attempt) and the largest
// draw wins, so changing one item's weight only moves data to or from it.
//
// Invariants once Validate() has succeeded (DoRule refuses to run before):
//   - ids are unique and in range: devices 0..kMaxDevices-1, buckets -1..
//     -kMaxBuckets, types 0..kMaxTypes-1 with 0 the device type;
//   - names are unique across devices and buckets;
//   - every bucket item exists and has exactly one parent, so the hierarchy
//     is a forest with no cycles and at most kMaxDepth levels;
//   - a bucket's weight is the sum of its items' weights (derived, never
//     stored), and each device class has a derived view of the tree (Ceph's
//     "shadow tree") holding only that class's devices;
//   - every rule is take (choose|chooseleaf)* emit, repeated, with known
//     buckets, classes and types and counts bounded by kMaxResult.
// Any edit drops the derived tables until the next Validate(). A validated
// map is immutable in practice and safe to share between threads: DoRule is
// const and keeps its working state on the stack.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crush/limits.h"

namespace nacre::proto {
class CrushMapProto;
}

namespace nacre::crush {

enum class BucketAlg { kStraw2 = 1 };
enum class RuleType { kReplicated = 1, kErasure = 2 };
enum class StepOp {
  kTake = 1,             // arg1 = bucket id; device_class optional
  kChooseFirstn,         // arg1 = count (<= 0: pool size minus |count|), arg2 = type
  kChooseIndep,
  kChooseLeafFirstn,
  kChooseLeafIndep,
  kEmit,
  kSetChooseTries,       // arg1 = attempts per replica (0: the map's tunable)
  kSetChooseLeafTries,   // arg1 = leaf attempts inside a failure domain (0: default)
};

struct TypeInfo {
  int32_t id = 0;
  std::string name;
};

struct Device {
  int32_t id = 0;
  std::string name;          // "osd.3"
  std::string device_class;  // empty: no class
  uint32_t weight = kWeightOne;
};

struct Bucket {
  int32_t id = -1;
  std::string name;
  int32_t type = 1;
  BucketAlg alg = BucketAlg::kStraw2;
  std::vector<int32_t> items;
};

struct Step {
  StepOp op = StepOp::kEmit;
  int32_t arg1 = 0;
  int32_t arg2 = 0;
  std::string device_class;  // take only
};

struct Rule {
  int32_t id = 0;
  std::string name;
  RuleType type = RuleType::kReplicated;
  std::vector<Step> steps;
};

struct Tunables {
  uint32_t choose_total_tries = kDefaultChooseTotalTries;
};

struct Placement;  // derived lookup tables, crush/placement.h

class CrushMap {
 public:
  CrushMap();
  ~CrushMap();
  CrushMap(const CrushMap&);
  CrushMap& operator=(const CrushMap&);
  CrushMap(CrushMap&&) noexcept;
  CrushMap& operator=(CrushMap&&) noexcept;

  // Edits. None checks anything (Validate does, with one message for the
  // whole map); each drops the derived tables.
  void AddType(TypeInfo t);
  void AddDevice(Device d);
  void AddBucket(Bucket b);
  void AddRule(Rule r);
  void set_tunables(const Tunables& t);
  // Changes a device's CRUSH weight (not its in/out reweight, which is an
  // input of DoRule). NotFound when there is no such device.
  Status SetDeviceWeight(int32_t id, uint32_t weight);

  // Checks every invariant above; on success builds the derived tables.
  Status Validate();
  bool validated() const { return placement_ != nullptr; }

  const std::vector<TypeInfo>& types() const { return types_; }
  const std::vector<Device>& devices() const { return devices_; }
  const std::vector<Bucket>& buckets() const { return buckets_; }
  const std::vector<Rule>& rules() const { return rules_; }
  const Tunables& tunables() const { return tunables_; }

  // Lookups; nullptr when absent or when the map is not validated.
  const Device* FindDevice(int32_t id) const;
  const Bucket* FindBucket(int32_t id) const;
  const Rule* FindRule(int32_t id) const;
  const Rule* FindRuleByName(std::string_view name) const;
  const TypeInfo* FindType(int32_t id) const;
  // Id of a device or bucket by name.
  Result<int32_t> ItemByName(std::string_view name) const;
  // "osd.3", "host0", or "#id" for an unknown id.
  std::string ItemName(int32_t id) const;
  // Weight of a device or bucket (16.16), counting only devices of
  // device_class when it is not empty. 0 for unknown items.
  uint64_t ItemWeight(int32_t id, std::string_view device_class = {}) const;
  // The parent bucket of an item, or 0 for a root or unknown item.
  int32_t ParentOf(int32_t id) const;
  // Device classes in use, sorted.
  const std::vector<std::string>& classes() const;
  // One past the largest device id: the length of a reweight vector.
  int32_t max_devices() const;
  // A reweight vector with every device in (0x10000).
  std::vector<uint32_t> AllIn() const;

  // Maps input x through rule rule_id for a pool of pool_size (1..kMaxResult)
  // into *out: OSD ids in order. firstn steps yield at most pool_size
  // distinct OSDs (fewer if the tree cannot supply them); indep steps yield
  // exactly their count, kItemNone marking positions that found no device,
  // so each position keeps its OSD when another position's OSD fails.
  // reweight[osd] is the in/out weight, 0 (out) .. 0x10000 (in); devices
  // past its end count as out. Deterministic: the same map, rule, x and
  // reweight give the same result in every process on every machine.
  Status DoRule(int32_t rule_id, uint32_t x, int pool_size,
                std::span<const uint32_t> reweight, std::vector<int>* out) const;

  // Protobuf form (proto/crush.proto). Decode validates.
  void Encode(proto::CrushMapProto* p) const;
  std::string EncodeToString() const;
  static Result<CrushMap> Decode(const proto::CrushMapProto& p);
  static Result<CrushMap> DecodeFromString(std::string_view bytes);

 private:
  void Invalidate() { placement_.reset(); }

  std::vector<TypeInfo> types_;
  std::vector<Device> devices_;
  std::vector<Bucket> buckets_;
  std::vector<Rule> rules_;
  Tunables tunables_;
  std::shared_ptr<const Placement> placement_;  // set by Validate()
};

// Text forms of the enums, as the map text format spells them.
const char* StepOpName(StepOp op);
const char* RuleTypeName(RuleType t);

// Formats a 16.16 weight with five decimals ("1.00000").
std::string FormatWeight(uint64_t w);

}  // namespace nacre::crush
