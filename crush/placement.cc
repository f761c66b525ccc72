// Validation of a CrushMap and derivation of its lookup tables. One pass per
// concern (types, devices, buckets, tree shape, rules), each failing with a
// one-line message that names the offending item.
#include "crush/placement.h"

#include <algorithm>
#include <string>

#include "crush/names.h"

namespace nacre::crush {

namespace {

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

bool IsBucket(const Placement& p, int32_t id) {
  return id < 0 && BucketSlot(id) < p.bucket_slots() && p.bucket_index[BucketSlot(id)] >= 0;
}

// The name of an item the checks already know to exist.
const std::string& NameOf(const CrushMap& map, const Placement& p, int32_t id) {
  return id >= 0 ? map.devices()[p.device_index[id]].name : map.buckets()[p.bucket_index[BucketSlot(id)]].name;
}

Status CheckTypes(const CrushMap& map, Placement* p) {
  if (map.types().size() > static_cast<size_t>(kMaxTypes))
    return TooBig("too many types: " + std::to_string(map.types().size()) + " (max " +
                  std::to_string(kMaxTypes) + ")");
  p->type_index.assign(kMaxTypes, -1);
  std::unordered_map<std::string, int32_t> by_name;
  for (size_t i = 0; i < map.types().size(); ++i) {
    const TypeInfo& t = map.types()[i];
    if (t.id < 0 || t.id >= kMaxTypes)
      return OutOfRange("type id " + std::to_string(t.id) + " out of range [0, " +
                        std::to_string(kMaxTypes - 1) + "]");
    NACRE_RETURN_IF_ERROR(CheckName("type", t.name));
    NACRE_RETURN_IF_ERROR(CheckTypeName(t.name));
    if (p->type_index[t.id] >= 0)
      return Invalid("duplicate type id " + std::to_string(t.id));
    if (!by_name.emplace(t.name, t.id).second) return Invalid("duplicate type name " + Quote(t.name));
    p->type_index[t.id] = static_cast<int32_t>(i);
  }
  if (p->type_index[0] < 0) return Invalid("type 0 (the device type, e.g. 'osd') is not defined");
  return Status::OK();
}

Status CheckDevices(const CrushMap& map, Placement* p) {
  if (map.devices().size() > static_cast<size_t>(kMaxDevices))
    return TooBig("too many devices: " + std::to_string(map.devices().size()) + " (max " +
                  std::to_string(kMaxDevices) + ")");
  int32_t max_id = -1;
  for (const Device& d : map.devices()) {
    if (d.id < 0 || d.id >= kMaxDevices)
      return OutOfRange("device id " + std::to_string(d.id) + " out of range [0, " +
                        std::to_string(kMaxDevices - 1) + "]");
    max_id = std::max(max_id, d.id);
  }
  p->device_index.assign(max_id + 1, -1);
  p->device_class.assign(max_id + 1, -1);
  for (size_t i = 0; i < map.devices().size(); ++i) {
    const Device& d = map.devices()[i];
    NACRE_RETURN_IF_ERROR(CheckName("device", d.name));
    if (p->device_index[d.id] >= 0) return Invalid("duplicate device id " + std::to_string(d.id));
    if (!p->item_by_name.emplace(d.name, d.id).second)
      return Invalid("duplicate item name " + Quote(d.name));
    if (d.weight > kMaxDeviceWeight)
      return OutOfRange("device " + Quote(d.name) + " weight " + FormatWeight(d.weight) +
                        " out of range [0, " + FormatWeight(kMaxDeviceWeight) + "]");
    if (!d.device_class.empty()) {
      NACRE_RETURN_IF_ERROR(CheckName("device class", d.device_class));
      if (std::find(p->classes.begin(), p->classes.end(), d.device_class) == p->classes.end()) {
        if (p->classes.size() >= static_cast<size_t>(kMaxClasses))
          return TooBig("too many device classes (max " + std::to_string(kMaxClasses) + ")");
        p->classes.push_back(d.device_class);
      }
    }
    p->device_index[d.id] = static_cast<int32_t>(i);
  }
  std::sort(p->classes.begin(), p->classes.end());
  for (const Device& d : map.devices()) {
    if (d.device_class.empty()) continue;
    auto it = std::lower_bound(p->classes.begin(), p->classes.end(), d.device_class);
    p->device_class[d.id] = static_cast<int16_t>(it - p->classes.begin());
  }
  return Status::OK();
}

Status CheckBuckets(const CrushMap& map, Placement* p) {
  if (map.buckets().size() > static_cast<size_t>(kMaxBuckets))
    return TooBig("too many buckets: " + std::to_string(map.buckets().size()) + " (max " +
                  std::to_string(kMaxBuckets) + ")");
  int32_t slots = 0;
  for (const Bucket& b : map.buckets()) {
    if (b.id >= 0 || b.id < -kMaxBuckets)
      return OutOfRange("bucket " + Quote(b.name) + " id " + std::to_string(b.id) +
                        " out of range [" + std::to_string(-kMaxBuckets) + ", -1]");
    slots = std::max(slots, BucketSlot(b.id) + 1);
  }
  p->bucket_index.assign(slots, -1);
  p->bucket_type.assign(slots, -1);
  p->parent.assign(static_cast<size_t>(slots) + p->device_index.size(), 0);
  for (size_t i = 0; i < map.buckets().size(); ++i) {
    const Bucket& b = map.buckets()[i];
    NACRE_RETURN_IF_ERROR(CheckName("bucket", b.name));
    if (p->bucket_index[BucketSlot(b.id)] >= 0)
      return Invalid("duplicate bucket id " + std::to_string(b.id));
    if (!p->item_by_name.emplace(b.name, b.id).second)
      return Invalid("duplicate item name " + Quote(b.name));
    if (b.type <= 0 || b.type >= kMaxTypes || p->type_index[b.type] < 0)
      return Invalid("bucket " + Quote(b.name) + " has unknown type " + std::to_string(b.type) +
                     (b.type == 0 ? " (type 0 is for devices)" : ""));
    if (b.alg != BucketAlg::kStraw2)
      return Invalid("bucket " + Quote(b.name) + " has an unsupported algorithm");
    p->bucket_index[BucketSlot(b.id)] = static_cast<int32_t>(i);
    p->bucket_type[BucketSlot(b.id)] = b.type;
  }
  // Items: each exists and has exactly one parent, which makes the hierarchy
  // a forest as long as there is no cycle (checked next).
  for (const Bucket& b : map.buckets()) {
    for (int32_t item : b.items) {
      bool exists = item >= 0 ? item < p->max_devices() && p->device_index[item] >= 0 : IsBucket(*p, item);
      if (!exists)
        return Invalid("bucket " + Quote(b.name) + " holds unknown item " + std::to_string(item));
      if (item == b.id) return Invalid("bucket " + Quote(b.name) + " contains itself");
      int32_t& parent = p->parent[p->ParentSlot(item)];
      if (parent != 0) {
        const Bucket& other = map.buckets()[p->bucket_index[BucketSlot(parent)]];
        return Invalid("item " + Quote(NameOf(map, *p, item)) + " is in both " + Quote(other.name) +
                       " and " + Quote(b.name));
      }
      parent = b.id;
    }
  }
  return Status::OK();
}

// Orders buckets children-first while checking there is no cycle and no
// path deeper than kMaxDepth. Iterative, so a hostile map cannot overflow
// the stack.
Status OrderBuckets(const CrushMap& map, const Placement& p, std::vector<int32_t>* post_order) {
  struct Frame {
    int32_t id;
    uint32_t next;  // next item to visit
  };
  std::vector<Frame> stack;
  std::vector<uint8_t> visited(p.bucket_index.size(), 0);
  for (const Bucket& root : map.buckets()) {
    if (p.parent[p.ParentSlot(root.id)] != 0) continue;
    stack.push_back({root.id, 0});
    visited[BucketSlot(root.id)] = 1;
    while (!stack.empty()) {
      Frame& f = stack.back();
      const Bucket& b = map.buckets()[p.bucket_index[BucketSlot(f.id)]];
      if (f.next == b.items.size()) {
        post_order->push_back(f.id);
        stack.pop_back();
        continue;
      }
      int32_t item = b.items[f.next++];
      // stack.size() buckets lie above `item`, counting its parent.
      if (stack.size() >= static_cast<size_t>(kMaxDepth))
        return Invalid("tree too deep: more than " + std::to_string(kMaxDepth) + " levels from root " +
                       Quote(root.name) + " down to " + Quote(NameOf(map, p, item)));
      if (item < 0) {
        visited[BucketSlot(item)] = 1;
        stack.push_back({item, 0});
      }
    }
  }
  // A bucket no root reaches lies on (or hangs below) a cycle, since every
  // item has at most one parent.
  for (const Bucket& b : map.buckets())
    if (!visited[BucketSlot(b.id)])
      return Invalid("bucket " + Quote(b.name) + " is part of a cycle (no root above it)");
  return Status::OK();
}

void BuildViews(const CrushMap& map, const std::vector<int32_t>& post_order, Placement* p) {
  const int32_t slots = p->bucket_slots();
  p->views.resize(1 + p->classes.size());
  for (size_t v = 0; v < p->views.size(); ++v) {
    Placement::View& view = p->views[v];
    const int cls = static_cast<int>(v) - 1;  // -1: every device
    view.weight.assign(slots, 0);
    std::vector<std::vector<Placement::Item>> per_bucket(slots);
    for (int32_t id : post_order) {
      const Bucket& b = map.buckets()[p->bucket_index[BucketSlot(id)]];
      uint64_t sum = 0;
      for (int32_t item : b.items) {
        uint64_t w = 0;
        if (item >= 0) {
          if (cls < 0 || p->device_class[item] == cls) w = map.devices()[p->device_index[item]].weight;
        } else {
          w = view.weight[BucketSlot(item)];  // children come first in post_order
        }
        if (w == 0) continue;
        per_bucket[BucketSlot(id)].push_back({item, w});
        sum += w;
      }
      view.weight[BucketSlot(id)] = sum;
    }
    view.begin.assign(slots + 1, 0);
    for (int32_t s = 0; s < slots; ++s) {
      view.begin[s + 1] = view.begin[s] + static_cast<uint32_t>(per_bucket[s].size());
      view.items.insert(view.items.end(), per_bucket[s].begin(), per_bucket[s].end());
    }
  }
}

bool IsChoose(StepOp op) {
  return op == StepOp::kChooseFirstn || op == StepOp::kChooseIndep || op == StepOp::kChooseLeafFirstn ||
         op == StepOp::kChooseLeafIndep;
}

Status CheckRule(const Rule& r, Placement* p, std::vector<Placement::CompiledStep>* out) {
  const std::string where = "rule " + Quote(r.name);
  if (r.type != RuleType::kReplicated && r.type != RuleType::kErasure)
    return Invalid(where + " has an unknown type");
  if (r.steps.empty()) return Invalid(where + " has no steps");
  if (r.steps.size() > static_cast<size_t>(kMaxRuleSteps))
    return TooBig(where + " has " + std::to_string(r.steps.size()) + " steps (max " +
                  std::to_string(kMaxRuleSteps) + ")");
  bool taken = false;
  bool emitted = false;
  for (size_t i = 0; i < r.steps.size(); ++i) {
    const Step& s = r.steps[i];
    const std::string at = where + " step " + std::to_string(i + 1) + " (" + StepOpName(s.op) + ")";
    Placement::CompiledStep c{s.op, s.arg1, s.arg2, 0};
    if (s.op != StepOp::kTake && !s.device_class.empty())
      return Invalid(at + ": only take accepts a device class");
    if (s.op == StepOp::kTake) {
      if (!IsBucket(*p, s.arg1)) return Invalid(at + ": unknown bucket " + std::to_string(s.arg1));
      if (!s.device_class.empty()) {
        auto it = std::lower_bound(p->classes.begin(), p->classes.end(), s.device_class);
        if (it == p->classes.end() || *it != s.device_class)
          return Invalid(at + ": no device has class " + Quote(s.device_class));
        c.view = 1 + static_cast<int32_t>(it - p->classes.begin());
      }
      taken = true;
    } else if (IsChoose(s.op)) {
      if (!taken) return Invalid(at + ": comes before any take");
      if (s.arg1 > kMaxResult || s.arg1 < -kMaxResult)
        return OutOfRange(at + ": count " + std::to_string(s.arg1) + " out of range [" +
                          std::to_string(-kMaxResult) + ", " + std::to_string(kMaxResult) + "]");
      if (s.arg2 < 0 || s.arg2 >= kMaxTypes || p->type_index[s.arg2] < 0)
        return Invalid(at + ": unknown type " + std::to_string(s.arg2));
    } else if (s.op == StepOp::kEmit) {
      if (!taken) return Invalid(at + ": comes before any take");
      taken = false;
      emitted = true;
    } else if (s.op == StepOp::kSetChooseTries || s.op == StepOp::kSetChooseLeafTries) {
      if (s.arg1 < 0 || static_cast<uint32_t>(s.arg1) > kMaxTries)
        return OutOfRange(at + ": tries " + std::to_string(s.arg1) + " out of range [0, " +
                          std::to_string(kMaxTries) + "]");
    } else {
      return Invalid(at + ": unknown step");
    }
    out->push_back(c);
  }
  if (taken || !emitted) return Invalid(where + " must end with emit");
  return Status::OK();
}

Status CheckRules(const CrushMap& map, Placement* p) {
  if (map.rules().size() > static_cast<size_t>(kMaxRules))
    return TooBig("too many rules (max " + std::to_string(kMaxRules) + ")");
  p->rule_index.assign(kMaxRules, -1);
  std::unordered_map<std::string, int32_t> by_name;
  for (size_t i = 0; i < map.rules().size(); ++i) {
    const Rule& r = map.rules()[i];
    NACRE_RETURN_IF_ERROR(CheckName("rule", r.name));
    if (r.id < 0 || r.id >= kMaxRules)
      return OutOfRange("rule " + Quote(r.name) + " id " + std::to_string(r.id) + " out of range [0, " +
                        std::to_string(kMaxRules - 1) + "]");
    if (p->rule_index[r.id] >= 0) return Invalid("duplicate rule id " + std::to_string(r.id));
    if (!by_name.emplace(r.name, r.id).second) return Invalid("duplicate rule name " + Quote(r.name));
    p->rule_index[r.id] = static_cast<int32_t>(i);
    p->rule_steps.emplace_back();
    NACRE_RETURN_IF_ERROR(CheckRule(r, p, &p->rule_steps.back()));
  }
  return Status::OK();
}

}  // namespace

Result<Placement> BuildPlacement(const CrushMap& map) {
  Placement p;
  if (map.tunables().choose_total_tries < 1 || map.tunables().choose_total_tries > kMaxTries)
    return OutOfRange("choose_total_tries " + std::to_string(map.tunables().choose_total_tries) +
                      " out of range [1, " + std::to_string(kMaxTries) + "]");
  NACRE_RETURN_IF_ERROR(CheckTypes(map, &p));
  NACRE_RETURN_IF_ERROR(CheckDevices(map, &p));
  NACRE_RETURN_IF_ERROR(CheckBuckets(map, &p));
  std::vector<int32_t> post_order;
  post_order.reserve(map.buckets().size());
  NACRE_RETURN_IF_ERROR(OrderBuckets(map, p, &post_order));
  NACRE_RETURN_IF_ERROR(CheckRules(map, &p));
  BuildViews(map, post_order, &p);
  return p;
}

}  // namespace nacre::crush
