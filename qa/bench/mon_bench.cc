// Monitor benchmark: time from start to quorum (3 and 5 monitors), and
// committed map changes through the admin API with 3 monitors: one client
// at a time (latency) and 16 at once (throughput, with batching). The
// baseline, measured in the same run on the same disk, is one synced
// RocksDB write: a commit needs at least one on each monitor.
//
//   mon_bench [--commits N]
#include <rocksdb/db.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "qa/cluster/test_cluster.h"

using namespace nacre;
using Clock = std::chrono::steady_clock;

namespace {

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// Median latency of a synced 100-byte RocksDB write in a fresh database.
double SyncedWriteMs(int n) {
  std::string dir = "/tmp/nacre-bench-rocks-" + std::to_string(getpid());
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::Open(o, dir, &db).ok()) return 0;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  std::vector<double> lat;
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    db->Put(wo, "key" + std::to_string(i), std::string(100, 'x'));
    lat.push_back(Ms(Clock::now() - t0));
  }
  delete db;
  std::filesystem::remove_all(dir);
  return Pct(lat, 0.5);
}

double TimeToQuorum(int mons) {
  qa::TestCluster c(mons);
  auto t0 = Clock::now();
  if (!c.Create().ok() || !c.WaitForQuorum(static_cast<size_t>(mons), 120)) return -1;
  // Quorum counts only once a write can commit.
  if (!c.Command("config set", {{"who", "global"}, {"name", "log_level"}, {"value", "info"}}, 60).ok()) return -1;
  return Ms(Clock::now() - t0);
}

}  // namespace

int main(int argc, char** argv) {
  int commits = 300;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--commits") commits = std::atoi(argv[i + 1]);

  double fsync_ms = SyncedWriteMs(200);
  double q3 = TimeToQuorum(3);
  double q5 = TimeToQuorum(5);

  qa::TestCluster c(3);
  if (!c.Create().ok() || !c.WaitForQuorum(3, 120)) {
    fprintf(stderr, "mon_bench: cluster did not start\n");
    return 1;
  }
  std::vector<double> lat;
  auto t0 = Clock::now();
  for (int i = 0; i < commits; ++i) {
    auto s = Clock::now();
    auto r = c.Command("config set", {{"who", "osd." + std::to_string(i)}, {"name", "public_port"}, {"value", "7000"}});
    if (r.ok() && r->status().code() == 0) lat.push_back(Ms(Clock::now() - s));
  }
  double serial_s = Ms(Clock::now() - t0) / 1000;
  const int kThreads = 16;
  std::atomic<int> done{0};
  t0 = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (int i = t; i < commits; i += kThreads) {
        auto r = c.Command("config set", {{"who", "osd." + std::to_string(i)}, {"name", "public_port"}, {"value", "7001"}});
        if (r.ok() && r->status().code() == 0) ++done;
      }
    });
  for (auto& t : ts) t.join();
  double par_s = Ms(Clock::now() - t0) / 1000;

  double p50 = Pct(lat, 0.5), p99 = Pct(lat, 0.99);
  double serial_rate = static_cast<double>(lat.size()) / serial_s, par_rate = done / par_s;
  printf("%-44s %12s\n", "measure", "value");
  printf("%-44s %12.1f\n", "baseline: synced RocksDB write, median ms", fsync_ms);
  printf("%-44s %12.0f\n", "start to quorum, 3 monitors, ms", q3);
  printf("%-44s %12.0f\n", "start to quorum, 5 monitors, ms", q5);
  printf("%-44s %12.2f\n", "commit latency (1 client) median ms", p50);
  printf("%-44s %12.2f\n", "commit latency (1 client) p99 ms", p99);
  printf("%-44s %12.1f\n", "commits/s, 1 client", serial_rate);
  printf("%-44s %12.1f\n", "commits/s, 16 clients", par_rate);
  printf("%-44s %12.1f\n", "median commit / synced write (ratio)", fsync_ms > 0 ? p50 / fsync_ms : 0);
  printf("{\"bench\":\"mon\",\"fsync_ms\":%.3f,\"quorum_ms_3\":%.0f,\"quorum_ms_5\":%.0f,\"commit_p50_ms\":%.3f,"
         "\"commit_p99_ms\":%.3f,\"commits_per_s_1\":%.1f,\"commits_per_s_16\":%.1f,\"commit_vs_fsync\":%.2f}\n",
         fsync_ms, q3, q5, p50, p99, serial_rate, par_rate, fsync_ms > 0 ? p50 / fsync_ms : 0);
  return 0;
}
