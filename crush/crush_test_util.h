// Maps for the crush tests: a root of hosts of OSDs with a replicated and an
// erasure-coded rule, built through CrushBuilder the way the parsers do.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "crush/builder.h"
#include "crush/crush_map.h"

namespace nacre::crush::testing {

inline constexpr int kReplicatedRule = 0;  // take default; chooseleaf firstn 0 type host; emit
inline constexpr int kErasureRule = 1;     // take default; chooseleaf indep 0 type host; emit

struct ClusterSpec {
  int hosts = 10;
  int osds_per_host = 4;
  // Optional: weight (16.16) and class of OSD i; default 1.0 and "hdd".
  std::function<uint32_t(int)> weight;
  std::function<std::string(int)> device_class;
  // OSDs appended to host0 after the regular ones (ids continue).
  int extra_in_host0 = 0;
  // OSDs in one more host after the regular ones (ids continue).
  int new_host_osds = 0;
};

inline CrushMap MakeCluster(const ClusterSpec& spec) {
  CrushBuilder b;
  b.AddType(0, "osd", "");
  b.AddType(1, "host", "");
  b.AddType(10, "root", "");
  const int hosts = spec.hosts + (spec.new_host_osds > 0 ? 1 : 0);
  std::vector<std::vector<std::string>> host_items(hosts);
  int next = 0;
  auto add_osd = [&](int host) {
    const int id = next++;
    const std::string name = "osd." + std::to_string(id);
    b.AddDevice(id, name, spec.device_class ? spec.device_class(id) : "hdd",
                spec.weight ? spec.weight(id) : kWeightOne, "");
    host_items[host].push_back(name);
  };
  for (int h = 0; h < spec.hosts; ++h)
    for (int i = 0; i < spec.osds_per_host; ++i) add_osd(h);
  for (int i = 0; i < spec.extra_in_host0; ++i) add_osd(0);
  for (int i = 0; i < spec.new_host_osds; ++i) add_osd(spec.hosts);
  std::vector<std::string> host_names;
  for (int h = 0; h < hosts; ++h) {
    host_names.push_back("host" + std::to_string(h));
    b.AddBucket(-2 - h, host_names.back(), "host", host_items[h], "");
  }
  b.AddBucket(-1, "default", "root", host_names, "");
  using S = CrushBuilder::StepSpec;
  b.AddRule(kReplicatedRule, "replicated", RuleType::kReplicated,
            {S{StepOp::kTake, 0, "default", "", ""}, S{StepOp::kChooseLeafFirstn, 0, "host", "", ""},
             S{StepOp::kEmit, 0, "", "", ""}},
            "");
  b.AddRule(kErasureRule, "ec", RuleType::kErasure,
            {S{StepOp::kTake, 0, "default", "", ""}, S{StepOp::kChooseLeafIndep, 0, "host", "", ""},
             S{StepOp::kEmit, 0, "", "", ""}},
            "");
  Result<CrushMap> m = b.Build();
  if (!m.ok()) throw std::runtime_error(m.status().ToString());  // tests only
  return std::move(m).value();
}

// Every mapping of inputs [0, n) through a rule, flattened (n * size).
inline std::vector<int> MapAll(const CrushMap& m, int rule, int size, uint32_t n,
                               const std::vector<uint32_t>& reweight) {
  std::vector<int> all;
  all.reserve(static_cast<size_t>(n) * size);
  std::vector<int> out;
  for (uint32_t x = 0; x < n; ++x) {
    Status s = m.DoRule(rule, x, size, reweight, &out);
    if (!s.ok()) throw std::runtime_error(s.ToString());
    out.resize(size, kItemNone);  // firstn may return fewer
    all.insert(all.end(), out.begin(), out.end());
  }
  return all;
}

}  // namespace nacre::crush::testing
