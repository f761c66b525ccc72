// CrushBuilder: name resolution and id assignment, then CrushMap::Validate.
#include "crush/builder.h"

#include <set>
#include <unordered_map>

#include "crush/names.h"

namespace nacre::crush {

namespace {

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

Status At(const std::string& where, const Status& s) { return where.empty() ? s : s.Annotate(where); }

Status CheckCount(size_t n, int max, const char* what) {
  if (n <= static_cast<size_t>(max)) return Status::OK();
  return TooBig("too many " + std::string(what) + ": " + std::to_string(n) + " (max " + std::to_string(max) + ")");
}

}  // namespace

void CrushBuilder::SetChooseTotalTries(int64_t tries, std::string where) {
  choose_total_tries_.emplace(tries, std::move(where));
}

void CrushBuilder::AddType(int64_t id, std::string name, std::string where) {
  types_.push_back({id, std::move(name), std::move(where)});
}

void CrushBuilder::AddDevice(int64_t id, std::string name, std::string device_class, uint32_t weight,
                             std::string where) {
  devices_.push_back({id, std::move(name), std::move(device_class), weight, std::move(where)});
}

void CrushBuilder::AddBucket(std::optional<int64_t> id, std::string name, std::string type,
                             std::vector<std::string> items, std::string where) {
  buckets_.push_back({id, std::move(name), std::move(type), std::move(items), std::move(where)});
}

void CrushBuilder::AddRule(std::optional<int64_t> id, std::string name, RuleType type, std::vector<StepSpec> steps,
                           std::string where) {
  rules_.push_back({id, std::move(name), type, std::move(steps), std::move(where)});
}

Result<CrushMap> CrushBuilder::Build() const {
  NACRE_RETURN_IF_ERROR(CheckCount(types_.size(), kMaxTypes, "types"));
  NACRE_RETURN_IF_ERROR(CheckCount(devices_.size(), kMaxDevices, "devices"));
  NACRE_RETURN_IF_ERROR(CheckCount(buckets_.size(), kMaxBuckets, "buckets"));
  NACRE_RETURN_IF_ERROR(CheckCount(rules_.size(), kMaxRules, "rules"));
  CrushMap map;

  if (choose_total_tries_) {
    const auto& [tries, where] = *choose_total_tries_;
    if (tries < 1 || tries > kMaxTries)
      return At(where, OutOfRange("choose_total_tries " + std::to_string(tries) + " out of range [1, " +
                                  std::to_string(kMaxTries) + "]"));
    map.set_tunables({static_cast<uint32_t>(tries)});
  }

  std::unordered_map<std::string, int32_t> type_ids;
  std::set<int64_t> used_type_ids;
  for (const NamedType& t : types_) {
    if (t.id < 0 || t.id >= kMaxTypes)
      return At(t.where, OutOfRange("type id " + std::to_string(t.id) + " out of range [0, " +
                                    std::to_string(kMaxTypes - 1) + "]"));
    NACRE_RETURN_IF_ERROR(At(t.where, CheckName("type", t.name)));
    NACRE_RETURN_IF_ERROR(At(t.where, CheckTypeName(t.name)));
    if (!used_type_ids.insert(t.id).second) return At(t.where, Invalid("duplicate type id " + std::to_string(t.id)));
    if (!type_ids.emplace(t.name, static_cast<int32_t>(t.id)).second)
      return At(t.where, Invalid("duplicate type " + Quote(t.name)));
    map.AddType({static_cast<int32_t>(t.id), t.name});
  }

  // Devices and buckets share one namespace: an item list may name either.
  std::unordered_map<std::string, int32_t> item_ids;
  std::set<int64_t> used_ids;
  for (const NamedDevice& d : devices_) {
    if (d.id < 0 || d.id >= kMaxDevices)
      return At(d.where, OutOfRange("device id " + std::to_string(d.id) + " out of range [0, " +
                                    std::to_string(kMaxDevices - 1) + "]"));
    NACRE_RETURN_IF_ERROR(At(d.where, CheckName("device", d.name)));
    if (!d.device_class.empty()) NACRE_RETURN_IF_ERROR(At(d.where, CheckName("device class", d.device_class)));
    if (!used_ids.insert(d.id).second) return At(d.where, Invalid("duplicate device id " + std::to_string(d.id)));
    if (!item_ids.emplace(d.name, static_cast<int32_t>(d.id)).second)
      return At(d.where, Invalid("duplicate item name " + Quote(d.name)));
    map.AddDevice({static_cast<int32_t>(d.id), d.name, d.device_class, d.weight});
  }
  for (const NamedBucket& b : buckets_) {
    NACRE_RETURN_IF_ERROR(At(b.where, CheckName("bucket", b.name)));
    if (b.id) {
      if (*b.id >= 0 || *b.id < -kMaxBuckets)
        return At(b.where, OutOfRange("bucket id " + std::to_string(*b.id) + " out of range [" +
                                      std::to_string(-kMaxBuckets) + ", -1]"));
      if (!used_ids.insert(*b.id).second) return At(b.where, Invalid("duplicate bucket id " + std::to_string(*b.id)));
    }
  }
  int64_t next_free = -1;
  std::vector<int32_t> bucket_ids;
  for (const NamedBucket& b : buckets_) {
    int64_t id;
    if (b.id) {
      id = *b.id;
    } else {
      while (used_ids.count(next_free)) --next_free;
      if (next_free < -kMaxBuckets) return At(b.where, TooBig("no free bucket id left"));
      id = next_free;
      used_ids.insert(id);
    }
    bucket_ids.push_back(static_cast<int32_t>(id));
    if (!item_ids.emplace(b.name, static_cast<int32_t>(id)).second)
      return At(b.where, Invalid("duplicate item name " + Quote(b.name)));
  }
  for (size_t i = 0; i < buckets_.size(); ++i) {
    const NamedBucket& b = buckets_[i];
    auto t = type_ids.find(b.type);
    if (t == type_ids.end()) return At(b.where, Invalid("bucket " + Quote(b.name) + " has unknown type " + Quote(b.type)));
    if (t->second == 0)
      return At(b.where, Invalid("bucket " + Quote(b.name) + " has type " + Quote(b.type) + ", which is the device type"));
    Bucket bucket{bucket_ids[i], b.name, t->second, BucketAlg::kStraw2, {}};
    bucket.items.reserve(b.items.size());
    for (const std::string& name : b.items) {
      auto it = item_ids.find(name);
      if (it == item_ids.end()) return At(b.where, Invalid("bucket " + Quote(b.name) + " holds unknown item " + Quote(name)));
      bucket.items.push_back(it->second);
    }
    map.AddBucket(std::move(bucket));
  }

  std::set<int64_t> used_rule_ids;
  std::set<std::string> rule_names;
  for (const NamedRule& r : rules_) {
    if (!rule_names.insert(r.name).second) return At(r.where, Invalid("duplicate rule name " + Quote(r.name)));
    if (!r.id) continue;
    if (*r.id < 0 || *r.id >= kMaxRules)
      return At(r.where, OutOfRange("rule id " + std::to_string(*r.id) + " out of range [0, " +
                                    std::to_string(kMaxRules - 1) + "]"));
    if (!used_rule_ids.insert(*r.id).second) return At(r.where, Invalid("duplicate rule id " + std::to_string(*r.id)));
  }
  int64_t next_rule = 0;
  for (const NamedRule& r : rules_) {
    int64_t id;
    if (r.id) {
      id = *r.id;
    } else {
      while (used_rule_ids.count(next_rule)) ++next_rule;
      id = next_rule;
      used_rule_ids.insert(id);
    }
    Rule rule{static_cast<int32_t>(id), r.name, r.type, {}};
    if (r.steps.size() > static_cast<size_t>(kMaxRuleSteps))
      return At(r.where, TooBig("rule " + Quote(r.name) + " has " + std::to_string(r.steps.size()) +
                                " steps (max " + std::to_string(kMaxRuleSteps) + ")"));
    for (const StepSpec& s : r.steps) {
      Step step{s.op, s.num, 0, s.device_class};
      if (s.op == StepOp::kTake) {
        auto it = item_ids.find(s.name);
        if (it == item_ids.end()) return At(s.where, Invalid("take of unknown bucket " + Quote(s.name)));
        if (it->second >= 0) return At(s.where, Invalid("take needs a bucket, " + Quote(s.name) + " is a device"));
        step.arg1 = it->second;
      } else if (s.op != StepOp::kEmit && s.op != StepOp::kSetChooseTries && s.op != StepOp::kSetChooseLeafTries) {
        auto t = type_ids.find(s.name);
        if (t == type_ids.end()) return At(s.where, Invalid("unknown type " + Quote(s.name)));
        step.arg2 = t->second;
      }
      rule.steps.push_back(std::move(step));
    }
    map.AddRule(std::move(rule));
  }
  NACRE_RETURN_IF_ERROR(map.Validate());
  return map;
}

Result<uint32_t> ParseWeight(std::string_view text) {
  const std::string shown = "weight '" + std::string(text.substr(0, 32)) + "'";
  size_t i = 0;
  uint64_t whole = 0;
  size_t int_digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    whole = whole * 10 + static_cast<uint64_t>(text[i] - '0');
    if (whole > 0xFFFF) return OutOfRange(shown + " out of range [0, " + FormatWeight(kMaxDeviceWeight) + "]");
    ++i;
    ++int_digits;
  }
  uint64_t frac = 0;
  uint64_t scale = 1;
  size_t frac_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (++frac_digits > 9) return Invalid(shown + " has more than 9 decimals");
      frac = frac * 10 + static_cast<uint64_t>(text[i] - '0');
      scale *= 10;
      ++i;
    }
  }
  if (i != text.size() || int_digits + frac_digits == 0)
    return Invalid(shown + " is not a non-negative decimal number");
  const uint64_t w = (whole << 16) + (frac * 0x10000 + scale / 2) / scale;
  if (w > kMaxDeviceWeight) return OutOfRange(shown + " out of range [0, " + FormatWeight(kMaxDeviceWeight) + "]");
  return static_cast<uint32_t>(w);
}

}  // namespace nacre::crush
