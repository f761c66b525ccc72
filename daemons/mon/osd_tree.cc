#include "daemons/mon/osd_tree.h"

#include <cstdio>
#include <functional>
#include <set>

#include "crush/crush_map.h"

namespace nacre::mon {

namespace {

std::string Row(const std::string& id, const std::string& cls, const std::string& weight, const std::string& type_name,
                int depth, const std::string& status, const std::string& reweight) {
  char buf[256];
  std::string name = std::string(static_cast<size_t>(depth) * 4, ' ') + type_name;
  snprintf(buf, sizeof buf, "%4s  %-5s  %8s  %-22s  %6s  %8s\n", id.c_str(), cls.c_str(), weight.c_str(), name.c_str(),
           status.c_str(), reweight.c_str());
  return buf;
}

}  // namespace

Status RenderOsdTree(const proto::OSDMapProto& m, nlohmann::json* json, std::string* text) {
  nlohmann::json nodes = nlohmann::json::array();
  std::string out = Row("ID", "CLASS", "WEIGHT", "TYPE NAME", 0, "STATUS", "REWEIGHT");
  std::set<int32_t> shown;
  auto osd_row = [&](int32_t id, const std::string& cls, uint64_t crush_weight, int depth) {
    auto it = m.osds().find(id);
    bool up = it != m.osds().end() && it->second.up();
    double rw = it != m.osds().end() ? it->second.weight() / 65536.0 : 0;
    char rws[32];
    snprintf(rws, sizeof rws, "%.5f", rw);
    out += Row(std::to_string(id), cls, crush::FormatWeight(crush_weight), "osd." + std::to_string(id), depth,
               up ? "up" : "down", rws);
    nodes.push_back({{"id", id}, {"name", "osd." + std::to_string(id)}, {"type", "osd"}, {"device_class", cls},
                     {"crush_weight", crush_weight / 65536.0}, {"status", up ? "up" : "down"}, {"reweight", rw}});
    shown.insert(id);
  };
  if (!m.crush().empty()) {
    auto map = crush::CrushMap::DecodeFromString(m.crush());
    if (!map.ok()) return map.status().Annotate("osdmap crush map");
    const crush::CrushMap& c = *map;
    std::function<void(int32_t, int)> walk = [&](int32_t item, int depth) {
      if (item >= 0) {
        const crush::Device* d = c.FindDevice(item);
        osd_row(item, d ? d->device_class : "", c.ItemWeight(item), depth);
        return;
      }
      const crush::Bucket* b = c.FindBucket(item);
      if (!b) return;
      const crush::TypeInfo* t = c.FindType(b->type);
      std::string tname = t ? t->name : "bucket";
      out += Row(std::to_string(item), "", crush::FormatWeight(c.ItemWeight(item)), tname + " " + b->name, depth, "", "");
      nlohmann::json children = nlohmann::json::array();
      for (int32_t ch : b->items) children.push_back(ch);
      nodes.push_back({{"id", item}, {"name", b->name}, {"type", tname}, {"crush_weight", c.ItemWeight(item) / 65536.0},
                       {"children", children}});
      for (int32_t ch : b->items) walk(ch, depth + 1);
    };
    for (const crush::Bucket& b : c.buckets())
      if (c.ParentOf(b.id) == 0) walk(b.id, 0);
  }
  // OSDs that exist in the OSDMap but not (yet) in CRUSH.
  for (const auto& [id, o] : m.osds())
    if (!shown.count(id)) osd_row(id, o.device_class(), 0, 0);
  *json = {{"nodes", nodes}, {"stray", nlohmann::json::array()}};
  *text = out;
  return Status::OK();
}

}  // namespace nacre::mon
