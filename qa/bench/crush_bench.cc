// crush_bench: how fast CRUSH maps inputs to OSDs, single thread.
//
// For a 40-OSD map (10 hosts x 4) and a 1,000-OSD map (100 hosts x 10):
// mappings per second of the 3-replica rule and of a 4+2 erasure-coded rule,
// and the time to map 4,096 PGs (what an OSD or client recomputes on a map
// change). Prints a table and one JSON line. When Ceph's crushtool is on the
// PATH, the same maps are built for it and its --test run is timed in the
// same process run, reported as a ratio (a baseline, not a target).
//
// Not a test: nothing here asserts a time.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "crush/crush_test_util.h"

namespace {

using nacre::crush::CrushMap;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Maps inputs [0, n) and returns the best of `rounds` wall times, so a
// neighbour's burst of CPU does not count against us.
double TimeMappings(const CrushMap& m, int rule, int size, uint32_t n, int rounds, uint64_t* sink) {
  const std::vector<uint32_t> rw = m.AllIn();
  std::vector<int> out;
  out.reserve(size);
  double best = 1e9;
  for (int round = 0; round < rounds; ++round) {
    const auto start = Clock::now();
    for (uint32_t x = 0; x < n; ++x) {
      if (!m.DoRule(rule, x, size, rw, &out).ok()) std::abort();
      *sink += static_cast<uint64_t>(out[0]);
    }
    best = std::min(best, Seconds(Clock::now() - start));
  }
  return best;
}

struct Row {
  std::string map;
  int osds;
  double rep_per_s;
  double ec_per_s;
  double pgs4096_ms;
  double crushtool_per_s;  // 0 when crushtool is not available
};

// Writes the map in Ceph's crushtool text format (hosts of OSDs under one
// root, a replicated rule) for the baseline run.
std::string CephText(int hosts, int per_host) {
  std::string t = "tunable choose_local_tries 0\ntunable choose_local_fallback_tries 0\n"
                  "tunable choose_total_tries 50\ntunable chooseleaf_descend_once 1\n"
                  "tunable chooseleaf_vary_r 1\ntunable chooseleaf_stable 1\n"
                  "type 0 osd\ntype 1 host\ntype 10 root\n";
  for (int i = 0; i < hosts * per_host; ++i) t += "device " + std::to_string(i) + " osd." + std::to_string(i) + "\n";
  std::string root = "root default {\n id -1\n alg straw2\n hash 0\n";
  for (int h = 0; h < hosts; ++h) {
    t += "host host" + std::to_string(h) + " {\n id " + std::to_string(-2 - h) + "\n alg straw2\n hash 0\n";
    for (int i = 0; i < per_host; ++i) t += " item osd." + std::to_string(h * per_host + i) + " weight 1.000\n";
    t += "}\n";
    root += " item host" + std::to_string(h) + " weight " + std::to_string(per_host) + ".000\n";
  }
  t += root + "}\n";
  t += "rule replicated_rule {\n id 0\n type replicated\n min_size 1\n max_size 10\n step take default\n"
       " step chooseleaf firstn 0 type host\n step emit\n}\n";
  return t;
}

// Mappings per second of crushtool --test over n inputs, or 0 if crushtool
// is missing or fails. Includes crushtool's process start and map load,
// which is why n is large.
double CrushtoolRate(int hosts, int per_host, uint32_t n) {
  if (std::system("command -v crushtool >/dev/null 2>&1") != 0) return 0;
  const std::string dir = "/tmp/nacre_crush_bench_" + std::to_string(getpid());
  if (std::system(("mkdir -p " + dir).c_str()) != 0) return 0;
  std::ofstream(dir + "/map.txt") << CephText(hosts, per_host);
  const std::string compile = "crushtool -c " + dir + "/map.txt -o " + dir + "/map.bin >/dev/null 2>&1";
  double rate = 0;
  if (std::system(compile.c_str()) == 0) {
    const std::string test = "crushtool -i " + dir + "/map.bin --test --rule 0 --num-rep 3 --min-x 0 --max-x " +
                             std::to_string(n - 1) + " >/dev/null 2>&1";
    double best = 1e9;
    for (int round = 0; round < 3; ++round) {
      const auto start = Clock::now();
      if (std::system(test.c_str()) != 0) return 0;
      best = std::min(best, Seconds(Clock::now() - start));
    }
    rate = n / best;
  }
  (void)std::system(("rm -rf " + dir).c_str());
  return rate;
}

Row Measure(const std::string& name, int hosts, int per_host, uint32_t n, uint64_t* sink) {
  nacre::crush::testing::ClusterSpec spec;
  spec.hosts = hosts;
  spec.osds_per_host = per_host;
  const CrushMap m = nacre::crush::testing::MakeCluster(spec);
  Row r{name, hosts * per_host, 0, 0, 0, 0};
  r.rep_per_s = n / TimeMappings(m, nacre::crush::testing::kReplicatedRule, 3, n, 3, sink);
  r.ec_per_s = n / TimeMappings(m, nacre::crush::testing::kErasureRule, 6, n, 3, sink);
  r.pgs4096_ms = 1000 * TimeMappings(m, nacre::crush::testing::kReplicatedRule, 3, 4096, 5, sink);
  r.crushtool_per_s = CrushtoolRate(hosts, per_host, n);
  return r;
}

}  // namespace

int main() {
  uint64_t sink = 0;
  const std::vector<Row> rows = {
      Measure("40 OSDs (10 hosts x 4)", 10, 4, 1000000, &sink),
      Measure("1000 OSDs (100 hosts x 10)", 100, 10, 200000, &sink),
  };
  std::printf("%-28s %14s %14s %12s %16s %10s\n", "map", "3-rep map/s", "4+2 EC map/s", "4096 PGs ms",
              "crushtool map/s", "ratio");
  for (const Row& r : rows) {
    char ratio[32] = "n/a";
    char ct[32] = "n/a";
    if (r.crushtool_per_s > 0) {
      std::snprintf(ratio, sizeof(ratio), "%.2fx", r.rep_per_s / r.crushtool_per_s);
      std::snprintf(ct, sizeof(ct), "%.0f", r.crushtool_per_s);
    }
    std::printf("%-28s %14.0f %14.0f %12.3f %16s %10s\n", r.map.c_str(), r.rep_per_s, r.ec_per_s, r.pgs4096_ms, ct,
                ratio);
  }
  std::printf("{\"bench\":\"crush\"");
  for (const Row& r : rows) {
    const std::string k = "osd" + std::to_string(r.osds);
    std::printf(",\"%s_rep3_mappings_per_s\":%.0f,\"%s_ec42_mappings_per_s\":%.0f,\"%s_4096pgs_ms\":%.3f", k.c_str(),
                r.rep_per_s, k.c_str(), r.ec_per_s, k.c_str(), r.pgs4096_ms);
    if (r.crushtool_per_s > 0)
      std::printf(",\"%s_crushtool_mappings_per_s\":%.0f,\"%s_vs_crushtool\":%.3f", k.c_str(), r.crushtool_per_s,
                  k.c_str(), r.rep_per_s / r.crushtool_per_s);
  }
  std::printf(",\"sink\":%llu}\n", static_cast<unsigned long long>(sink % 1000));
  return 0;
}
