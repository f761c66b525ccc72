// FormatCrushText: the inverse of ParseCrushText. Buckets are written
// deepest first (hosts before racks before roots), the order people read and
// the order Ceph's crushtool writes.
#include <algorithm>
#include <sstream>

#include "crush/formats.h"

namespace nacre::crush {

namespace {

int Depth(const CrushMap& map, int32_t id) {
  int d = 0;
  for (int32_t p = map.ParentOf(id); p != 0 && d < kMaxDepth; p = map.ParentOf(p)) ++d;
  return d;
}

}  // namespace

std::string FormatCrushText(const CrushMap& map) {
  std::ostringstream os;
  os << "# nacre crush map\n";
  os << "tunable choose_total_tries " << map.tunables().choose_total_tries << "\n\n# types\n";
  std::vector<TypeInfo> types = map.types();
  std::sort(types.begin(), types.end(), [](const TypeInfo& a, const TypeInfo& b) { return a.id < b.id; });
  for (const TypeInfo& t : types) os << "type " << t.id << " " << t.name << "\n";

  os << "\n# devices\n";
  for (const Device& d : map.devices()) {
    os << "device " << d.id << " " << d.name;
    if (!d.device_class.empty()) os << " class " << d.device_class;
    // Five decimals are enough to round-trip 16.16 exactly: the printed
    // value is within 0.33 of a fixed-point unit of the true one.
    os << " weight " << FormatWeight(d.weight) << "\n";
  }

  os << "\n# buckets\n";
  std::vector<std::pair<int, size_t>> order;  // (-depth, index): deepest first, stable
  for (size_t i = 0; i < map.buckets().size(); ++i) order.emplace_back(-Depth(map, map.buckets()[i].id), i);
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [neg_depth, i] : order) {
    (void)neg_depth;
    const Bucket& b = map.buckets()[i];
    const TypeInfo* t = map.FindType(b.type);
    os << (t ? t->name : "#" + std::to_string(b.type)) << " " << b.name << " {\n";
    os << "\tid " << b.id << "\t\t# weight " << FormatWeight(map.ItemWeight(b.id)) << "\n";
    os << "\talg straw2\n";
    for (int32_t item : b.items) os << "\titem " << map.ItemName(item) << "\n";
    os << "}\n";
  }

  os << "\n# rules\n";
  for (const Rule& r : map.rules()) {
    os << "rule " << r.name << " {\n\tid " << r.id << "\n\ttype " << RuleTypeName(r.type) << "\n";
    for (const Step& s : r.steps) {
      os << "\tstep " << StepOpName(s.op);
      switch (s.op) {
        case StepOp::kTake:
          os << " " << map.ItemName(s.arg1);
          if (!s.device_class.empty()) os << " class " << s.device_class;
          break;
        case StepOp::kChooseFirstn:
        case StepOp::kChooseIndep:
        case StepOp::kChooseLeafFirstn:
        case StepOp::kChooseLeafIndep: {
          const TypeInfo* t = map.FindType(s.arg2);
          os << " " << s.arg1 << " type " << (t ? t->name : "#" + std::to_string(s.arg2));
          break;
        }
        case StepOp::kSetChooseTries:
        case StepOp::kSetChooseLeafTries:
          os << " " << s.arg1;
          break;
        case StepOp::kEmit:
          break;
      }
      os << "\n";
    }
    os << "}\n";
  }
  return os.str();
}

}  // namespace nacre::crush
