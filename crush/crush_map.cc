// CrushMap: edits, validation and lookups. The mapping itself is in
// mapper.cc, the protobuf form in codec.cc, the checks in placement.cc.
#include "crush/crush_map.h"

#include <algorithm>
#include <cstdio>

#include "common/log.h"
#include "crush/placement.h"

namespace nacre::crush {

CrushMap::CrushMap() = default;
CrushMap::~CrushMap() = default;
CrushMap::CrushMap(const CrushMap&) = default;
CrushMap& CrushMap::operator=(const CrushMap&) = default;
CrushMap::CrushMap(CrushMap&&) noexcept = default;
CrushMap& CrushMap::operator=(CrushMap&&) noexcept = default;

void CrushMap::AddType(TypeInfo t) {
  Invalidate();
  types_.push_back(std::move(t));
}

void CrushMap::AddDevice(Device d) {
  Invalidate();
  devices_.push_back(std::move(d));
}

void CrushMap::AddBucket(Bucket b) {
  Invalidate();
  buckets_.push_back(std::move(b));
}

void CrushMap::AddRule(Rule r) {
  Invalidate();
  rules_.push_back(std::move(r));
}

void CrushMap::set_tunables(const Tunables& t) {
  Invalidate();
  tunables_ = t;
}

Status CrushMap::SetDeviceWeight(int32_t id, uint32_t weight) {
  for (Device& d : devices_) {
    if (d.id == id) {
      Invalidate();
      d.weight = weight;
      return Status::OK();
    }
  }
  return NotFound("no device with id " + std::to_string(id));
}

Status CrushMap::Validate() {
  Result<Placement> p = BuildPlacement(*this);
  if (!p.ok()) {
    placement_.reset();
    return p.status();
  }
  placement_ = std::make_shared<const Placement>(std::move(p).value());
  NLOG(crush, kDebug) << "crush map validated: " << devices_.size() << " devices, " << buckets_.size()
                      << " buckets, " << rules_.size() << " rules, " << placement_->classes.size() << " classes";
  return Status::OK();
}

const Device* CrushMap::FindDevice(int32_t id) const {
  if (!placement_ || id < 0 || id >= placement_->max_devices()) return nullptr;
  int32_t i = placement_->device_index[id];
  return i < 0 ? nullptr : &devices_[i];
}

const Bucket* CrushMap::FindBucket(int32_t id) const {
  if (!placement_ || id >= 0 || BucketSlot(id) >= placement_->bucket_slots()) return nullptr;
  int32_t i = placement_->bucket_index[BucketSlot(id)];
  return i < 0 ? nullptr : &buckets_[i];
}

const Rule* CrushMap::FindRule(int32_t id) const {
  if (!placement_ || id < 0 || id >= static_cast<int32_t>(placement_->rule_index.size())) return nullptr;
  int32_t i = placement_->rule_index[id];
  return i < 0 ? nullptr : &rules_[i];
}

const Rule* CrushMap::FindRuleByName(std::string_view name) const {
  if (!placement_) return nullptr;
  for (const Rule& r : rules_)
    if (r.name == name) return &r;
  return nullptr;
}

const TypeInfo* CrushMap::FindType(int32_t id) const {
  if (!placement_ || id < 0 || id >= static_cast<int32_t>(placement_->type_index.size())) return nullptr;
  int32_t i = placement_->type_index[id];
  return i < 0 ? nullptr : &types_[i];
}

Result<int32_t> CrushMap::ItemByName(std::string_view name) const {
  if (!placement_) return Invalid("crush map is not validated");
  auto it = placement_->item_by_name.find(std::string(name));
  if (it == placement_->item_by_name.end()) return NotFound("no device or bucket named '" + std::string(name) + "'");
  return it->second;
}

std::string CrushMap::ItemName(int32_t id) const {
  if (const Device* d = FindDevice(id)) return d->name;
  if (const Bucket* b = FindBucket(id)) return b->name;
  return "#" + std::to_string(id);
}

uint64_t CrushMap::ItemWeight(int32_t id, std::string_view device_class) const {
  if (!placement_) return 0;
  int cls = -1;
  if (!device_class.empty()) {
    const auto& c = placement_->classes;
    auto it = std::lower_bound(c.begin(), c.end(), device_class);
    if (it == c.end() || *it != device_class) return 0;
    cls = static_cast<int>(it - c.begin());
  }
  if (const Device* d = FindDevice(id)) return cls < 0 || placement_->device_class[id] == cls ? d->weight : 0;
  if (FindBucket(id) == nullptr) return 0;
  return placement_->views[cls + 1].weight[BucketSlot(id)];
}

int32_t CrushMap::ParentOf(int32_t id) const {
  if (FindDevice(id) == nullptr && FindBucket(id) == nullptr) return 0;
  return placement_->parent[placement_->ParentSlot(id)];
}

const std::vector<std::string>& CrushMap::classes() const {
  static const std::vector<std::string> kNone;
  return placement_ ? placement_->classes : kNone;
}

int32_t CrushMap::max_devices() const { return placement_ ? placement_->max_devices() : 0; }

std::vector<uint32_t> CrushMap::AllIn() const { return std::vector<uint32_t>(max_devices(), kWeightOne); }

const char* StepOpName(StepOp op) {
  switch (op) {
    case StepOp::kTake: return "take";
    case StepOp::kChooseFirstn: return "choose firstn";
    case StepOp::kChooseIndep: return "choose indep";
    case StepOp::kChooseLeafFirstn: return "chooseleaf firstn";
    case StepOp::kChooseLeafIndep: return "chooseleaf indep";
    case StepOp::kEmit: return "emit";
    case StepOp::kSetChooseTries: return "set_choose_tries";
    case StepOp::kSetChooseLeafTries: return "set_chooseleaf_tries";
  }
  return "unknown";
}

const char* RuleTypeName(RuleType t) {
  switch (t) {
    case RuleType::kReplicated: return "replicated";
    case RuleType::kErasure: return "erasure";
  }
  return "unknown";
}

std::string FormatWeight(uint64_t w) {
  // Rounded to five decimals with integers only, so output is identical
  // everywhere. The fraction never rounds up to 1: 0xFFFF/2^16 is 0.99998.
  const uint64_t whole = w >> 16;
  const uint64_t frac = ((w & 0xFFFF) * 100000 + 0x8000) >> 16;
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%llu.%05llu", static_cast<unsigned long long>(whole),
                static_cast<unsigned long long>(frac));
  return buf;
}

}  // namespace nacre::crush
