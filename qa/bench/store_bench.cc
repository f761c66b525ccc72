// Object store throughput against what the disk gives without it.
//
//   store_bench [DIR] [MAX_SECONDS_PER_CASE] [ONLY: store|plain|rocks]
//
// For 4 MiB and 4 KiB writes with 1 and 16 threads, measures the OSD object
// store (write_full of a new object, acknowledged durable) beside baselines
// run in the same process on the same directory: plain write()+fdatasync of
// the same sizes (one file per thread), and for 4 MiB a RocksDB Put with
// sync=true, the "double write" path that the data files avoid. Prints a
// table and one JSON line. Each case runs twice, interleaved with the others,
// and the better run is kept: shared VMs are noisy.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <rocksdb/db.h>

#include "daemons/osd/store/object_store.h"

using namespace nacre;
using namespace nacre::osd::store;
using Clock = std::chrono::steady_clock;

namespace {

struct BenchResult {
  std::string what;
  size_t size;
  int threads;
  uint64_t ops;
  double secs;
  uint64_t groups = 0;
  double mbps() const { return ops * double(size) / secs / 1e6; }
  double iops() const { return ops / secs; }
};

// Runs `op(thread, i)` on `threads` threads until `secs` pass or each thread
// hit `max_ops`; returns total ops and elapsed time.
template <typename Op>
std::pair<uint64_t, double> RunFor(int threads, double secs, uint64_t max_ops, Op op) {
  std::atomic<uint64_t> total{0};
  std::atomic<bool> failed{false};
  auto t0 = Clock::now();
  auto deadline = t0 + std::chrono::duration<double>(secs);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      for (uint64_t i = 0; i < max_ops && Clock::now() < deadline; ++i) {
        if (!op(t, i)) {
          failed = true;
          return;
        }
        total.fetch_add(1);
      }
    });
  for (auto& t : ts) t.join();
  if (failed) std::fprintf(stderr, "an operation failed\n");
  return {total.load(), std::chrono::duration<double>(Clock::now() - t0).count()};
}

// Every case does the same work (1 GiB of 4 MiB writes, 16384 small ones),
// so no case is measured over a luckier, shorter window; `secs` only stops a
// case that is far too slow.
uint64_t MaxOps(size_t size, int threads) {
  uint64_t total = size >= (1u << 20) ? (1ull << 30) / size : 16384;
  return std::max<uint64_t>(1, total / threads);
}

BenchResult BenchStore(const std::string& dir, size_t size, int threads, double secs) {
  std::filesystem::remove_all(dir);
  StoreOptions o;
  o.path = dir;
  auto r = ObjectStore::Open(o);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
    std::exit(1);
  }
  auto& s = *r.value();
  (void)s.Apply(Transaction().CreateCollection("1.0"));
  Bytes data(std::string(size, 'x'));
  auto before = s.stats();
  auto [ops, el] = RunFor(threads, secs, MaxOps(size, threads), [&](int t, uint64_t i) {
    ObjectId oid{"", "obj." + std::to_string(t) + "." + std::to_string(i)};
    return s.Apply(Transaction().WriteFull("1.0", oid, data)).ok();
  });
  BenchResult res{"store", size, threads, ops, el};
  res.groups = s.stats().groups - before.groups;
  r.value().reset();
  std::filesystem::remove_all(dir);
  return res;
}

BenchResult BenchPlain(const std::string& dir, size_t size, int threads, double secs) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<int> fds;
  for (int t = 0; t < threads; ++t)
    fds.push_back(::open((dir + "/f" + std::to_string(t)).c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644));
  std::string data(size, 'x');
  auto [ops, el] = RunFor(threads, secs, MaxOps(size, threads), [&](int t, uint64_t) {
    return ::write(fds[t], data.data(), size) == static_cast<ssize_t>(size) && ::fdatasync(fds[t]) == 0;
  });
  for (int fd : fds) ::close(fd);
  std::filesystem::remove_all(dir);
  return BenchResult{"write+fdatasync", size, threads, ops, el};
}

BenchResult BenchRocks(const std::string& dir, size_t size, int threads, double secs) {
  std::filesystem::remove_all(dir);
  rocksdb::Options opts;
  opts.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::Open(opts, dir, &db).ok()) std::exit(1);
  std::string data(size, 'x');
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto [ops, el] = RunFor(threads, secs, MaxOps(size, threads), [&](int t, uint64_t i) {
    return db->Put(wo, "obj." + std::to_string(t) + "." + std::to_string(i), data).ok();
  });
  delete db;
  std::filesystem::remove_all(dir);
  return BenchResult{"rocksdb put sync", size, threads, ops, el};
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "./store_bench.tmp";
  double secs = argc > 2 ? std::atof(argv[2]) : 30.0;
  std::string only = argc > 3 ? argv[3] : "";
  std::vector<BenchResult> results;
  auto keep_best = [&](BenchResult r) {
    for (auto& old : results)
      if (old.what == r.what && old.size == r.size && old.threads == r.threads) {
        if (r.mbps() > old.mbps()) old = r;
        return;
      }
    results.push_back(r);
  };
  for (int rep = 0; rep < 2; ++rep) {
    for (size_t size : {size_t{4} << 20, size_t{4} << 10}) {
      for (int threads : {1, 16}) {
        if (only.empty() || only == "store") keep_best(BenchStore(dir + "/store", size, threads, secs));
        if (only.empty() || only == "plain") keep_best(BenchPlain(dir + "/plain", size, threads, secs));
        if (size >= (1u << 20) && (only.empty() || only == "rocks"))
          keep_best(BenchRocks(dir + "/rocks", size, threads, secs));
      }
    }
  }
  std::filesystem::remove_all(dir);
  std::printf("%-18s %8s %7s %10s %10s %10s %12s\n", "case", "size", "threads", "ops", "MB/s", "IOPS",
              "txn/group");
  for (const auto& r : results)
    std::printf("%-18s %8zu %7d %10llu %10.1f %10.0f %12s\n", r.what.c_str(), r.size, r.threads,
                static_cast<unsigned long long>(r.ops), r.mbps(), r.iops(),
                r.groups ? std::to_string(double(r.ops) / r.groups).substr(0, 5).c_str() : "-");
  std::string json = "{\"bench\":\"store\",\"results\":[";
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s{\"case\":\"%s\",\"size\":%zu,\"threads\":%d,\"mbps\":%.1f,\"iops\":%.0f}",
                  i ? "," : "", r.what.c_str(), r.size, r.threads, r.mbps(), r.iops());
    json += buf;
  }
  json += "]}";
  std::printf("%s\n", json.c_str());
  return 0;
}
