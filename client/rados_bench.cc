// `nacre rados bench -p POOL SECONDS write|seq|rand`, with Ceph's meaning:
// write keeps N ops in flight, each writing one whole object, for SECONDS;
// its objects stay only with --no-cleanup, recorded in a metadata object so
// that seq (every object once, in order) and rand (random objects) can read
// them back. Every read is checked against what write put there.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <iostream>
#include <mutex>
#include <random>

#include "client/rados_cli.h"

namespace nacre::cli {

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kDefaultMeta = "benchmark_last_metadata";

// Object contents: the object's name, then a fixed pseudo-random pattern, so
// a reader in another process can check every byte without the writer.
std::string Content(const std::string& oid, uint64_t size) {
  std::string s(size, '\0');
  std::mt19937_64 gen(0x6e616372);  // "nacr"
  for (size_t i = 0; i < s.size(); i += 8) {
    uint64_t v = gen();
    memcpy(&s[i], &v, std::min<size_t>(8, s.size() - i));
  }
  memcpy(s.data(), oid.data(), std::min(oid.size(), s.size()));
  return s;
}

struct Stats {
  std::vector<double> lat;          // seconds, one per op
  std::vector<double> per_sec_ops;  // ops finished in each whole second
  uint64_t ops = 0;
  double elapsed = 0;
};

double Mean(const std::vector<double>& v) {
  if (v.empty()) return 0;
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}
double Stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double m = Mean(v), s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}
double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) ;
  return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
}

// Keeps `depth` ops in flight until `more()` says stop, calling `start(i, c)`
// for op i. Completions arrive on the librados loop and are handed to this
// thread, which also prints the per-second progress.
class Runner {
 public:
  Runner(Context& ctx, const BenchArgs& a) : ctx_(ctx), a_(a) {}

  // start(i, completion, &check): issue op i; check() runs after completion
  // (on this thread) and returns its own failure, e.g. wrong contents.
  using Start = std::function<std::function<Status()>(uint64_t i, rados::AioCompletionRef c)>;

  Result<Stats> Run(const std::function<bool(uint64_t issued, Clock::time_point now)>& more, const Start& start) {
    Stats st;
    auto t0 = Clock::now();
    uint64_t issued = 0, done = 0, in_flight = 0;
    uint64_t last_sec_done = 0;
    int sec = 0;
    Header();
    Status failure;
    while (true) {
      auto now = Clock::now();
      while (failure.ok() && in_flight < static_cast<uint64_t>(a_.threads) && more(issued, now)) {
        uint64_t i = issued++;
        ++in_flight;
        auto sent = Clock::now();
        auto c = rados::MakeCompletion([this, sent](rados::AioCompletion& self) {
          // Everything this thread does with the runner happens under the
          // lock, so once Run saw every op finish no callback touches it.
          std::lock_guard<std::mutex> g(mu_);
          finished_.push_back({Clock::now() - sent, &self});
          cv_.notify_one();
        });
        auto check = start(i, c);
        std::lock_guard<std::mutex> g(mu_);
        pending_checks_[c.get()] = {c, std::move(check)};
      }
      if (in_flight == 0) break;
      std::unique_lock<std::mutex> l(mu_);
      auto next_tick = t0 + std::chrono::seconds(sec + 1);
      cv_.wait_until(l, next_tick, [&] { return !finished_.empty(); });
      std::vector<std::pair<rados::AioCompletionRef, std::function<Status()>>> ready;
      std::deque<Done> fin;
      fin.swap(finished_);
      for (auto& f : fin) {
        // This thread registers each check right after issuing the op and
        // before it looks here, so every finished op has one.
        auto it = pending_checks_.find(f.c);
        ready.push_back(std::move(it->second));
        pending_checks_.erase(it);
      }
      l.unlock();
      for (auto& f : fin) st.lat.push_back(std::chrono::duration<double>(f.lat).count());
      for (auto& [c, check] : ready) {
        --in_flight;
        ++done;
        Status s = c->status();
        if (s.ok() && check) s = check();
        if (!s.ok() && failure.ok()) failure = s;
      }
      last_lat_ = st.lat.empty() ? 0 : st.lat.back();
      while (Clock::now() >= t0 + std::chrono::seconds(sec + 1)) {
        ++sec;
        st.per_sec_ops.push_back(static_cast<double>(done - last_sec_done));
        Progress(sec, in_flight, issued, done, st, double(done - last_sec_done));
        last_sec_done = done;
      }
    }
    if (!failure.ok()) return failure;
    st.ops = done;
    st.elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    // A run shorter than a second (a quick seq) still gets a rate.
    if (st.per_sec_ops.empty() && st.elapsed > 0) st.per_sec_ops.push_back(static_cast<double>(done) / st.elapsed);
    return st;
  }

 private:
  struct Done {
    Clock::duration lat;
    rados::AioCompletion* c;
  };
  void Header() {
    if (ctx_.json()) return;
    printf("  sec Cur ops   started  finished  avg MB/s  cur MB/s last lat(s)  avg lat(s)\n");
  }
  void Progress(int sec, uint64_t cur, uint64_t started, uint64_t finished, const Stats& st, double cur_ops) {
    if (ctx_.json()) return;
    double mb = static_cast<double>(a_.op_size) / (1 << 20);
    printf("%5d %7llu %9llu %9llu %9.4g %9.4g %11.6g %11.6g\n", sec, static_cast<unsigned long long>(cur),
           static_cast<unsigned long long>(started), static_cast<unsigned long long>(finished),
           static_cast<double>(finished) * mb / sec, cur_ops * mb, last_lat_, Mean(st.lat));
    fflush(stdout);
  }

  Context& ctx_;
  const BenchArgs& a_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Done> finished_;
  std::map<rados::AioCompletion*, std::pair<rados::AioCompletionRef, std::function<Status()>>> pending_checks_;
  double last_lat_ = 0;
};

void Summary(Context& ctx, const BenchArgs& a, const Stats& st, const std::string& prefix, uint64_t objects) {
  double mb = static_cast<double>(a.op_size) / (1 << 20);
  std::vector<double> bw;
  for (double ops : st.per_sec_ops) bw.push_back(ops * mb);
  double bandwidth = st.elapsed > 0 ? static_cast<double>(st.ops) * mb / st.elapsed : 0;
  double iops = st.elapsed > 0 ? static_cast<double>(st.ops) / st.elapsed : 0;
  auto mx = [](const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); };
  auto mn = [](const std::vector<double>& v) { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); };
  bool write = a.mode == "write";
  if (ctx.json()) {
    ctx.PrintJson({{"mode", a.mode},
                   {"pool", a.pool},
                   {"total_time_run", st.elapsed},
                   {write ? "total_writes_made" : "total_reads_made", st.ops},
                   {"op_size", a.op_size},
                   {"concurrent_ios", a.threads},
                   {"bandwidth_mb_sec", bandwidth},
                   {"stddev_bandwidth", Stddev(bw)},
                   {"max_bandwidth", mx(bw)},
                   {"min_bandwidth", mn(bw)},
                   {"average_iops", iops},
                   {"stddev_iops", Stddev(st.per_sec_ops)},
                   {"max_iops", mx(st.per_sec_ops)},
                   {"min_iops", mn(st.per_sec_ops)},
                   {"average_latency", Mean(st.lat)},
                   {"stddev_latency", Stddev(st.lat)},
                   {"max_latency", mx(st.lat)},
                   {"min_latency", mn(st.lat)},
                   {"median_latency", Percentile(st.lat, 0.5)},
                   {"p99_latency", Percentile(st.lat, 0.99)},
                   {"object_prefix", prefix},
                   {"objects", objects}});
    return;
  }
  printf("Total time run:         %g\n", st.elapsed);
  printf("Total %s made:      %llu\n", write ? "writes" : "reads", static_cast<unsigned long long>(st.ops));
  printf("%s size:             %llu\n", write ? "Write" : "Read", static_cast<unsigned long long>(a.op_size));
  printf("Object size:            %llu\n", static_cast<unsigned long long>(a.op_size));
  printf("Bandwidth (MB/sec):     %g\n", bandwidth);
  printf("Stddev Bandwidth:       %g\n", Stddev(bw));
  printf("Max bandwidth (MB/sec): %g\n", mx(bw));
  printf("Min bandwidth (MB/sec): %g\n", mn(bw));
  printf("Average IOPS:           %.0f\n", iops);
  printf("Stddev IOPS:            %g\n", Stddev(st.per_sec_ops));
  printf("Max IOPS:               %g\n", mx(st.per_sec_ops));
  printf("Min IOPS:               %g\n", mn(st.per_sec_ops));
  printf("Average Latency(s):     %g\n", Mean(st.lat));
  printf("Stddev Latency(s):      %g\n", Stddev(st.lat));
  printf("Max latency(s):         %g\n", mx(st.lat));
  printf("Min latency(s):         %g\n", mn(st.lat));
  printf("Median latency(s):      %g\n", Percentile(st.lat, 0.5));
  printf("99th pct latency(s):    %g\n", Percentile(st.lat, 0.99));
}

std::string ObjectName(const std::string& prefix, uint64_t i) { return prefix + "_object" + std::to_string(i); }

// Removes objects 0..n-1 with `threads` in flight: a sliding window, so
// one slow remove does not hold up the next batch.
Status RemoveObjects(rados::IoCtx& io, const std::string& prefix, uint64_t n, int threads) {
  std::deque<rados::AioCompletionRef> window;
  Status first;
  auto reap = [&] {
    auto& w = window.front();
    w->Wait();
    if (!w->status().ok() && w->status().code() != Code::kNotFound && first.ok()) first = w->status();
    window.pop_front();
  };
  for (uint64_t i = 0; i < n; ++i) {
    if (window.size() >= static_cast<size_t>(threads)) reap();
    window.push_back(rados::MakeCompletion());
    io.AioRemove(ObjectName(prefix, i), window.back());
  }
  while (!window.empty()) reap();
  return first;
}

}  // namespace

void RunBench(Context& ctx, const BenchArgs& a) {
  auto rados = ConnectRados(ctx);
  if (!rados.ok()) return ctx.Fail(rados.status());
  auto io = (*rados)->CreateIoCtx(a.pool);
  if (!io.ok()) return ctx.Fail(io.status());
  const std::string meta = a.run_name.empty() ? kDefaultMeta : a.run_name;
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));

  if (a.mode == "write") {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    std::string prefix = "benchmark_data_" + std::string(host) + "_" + std::to_string(getpid());
    if (!ctx.json()) {
      printf("Maintaining %d concurrent writes of %llu bytes to objects of size %llu for up to %g seconds or 0 objects\n",
             a.threads, static_cast<unsigned long long>(a.op_size), static_cast<unsigned long long>(a.op_size),
             a.seconds);
      printf("Object prefix: %s\n", prefix.c_str());
    }
    // One buffer shared by every write (its name prefix differs per object,
    // so each object gets its own copy; that copy is cheap next to the I/O).
    std::string base = Content("", a.op_size);
    Runner r(ctx, a);
    auto st = r.Run([&](uint64_t, Clock::time_point now) { return now < deadline; },
                    [&](uint64_t i, rados::AioCompletionRef c) -> std::function<Status()> {
                      std::string oid = ObjectName(prefix, i);
                      std::string data = base;
                      memcpy(data.data(), oid.data(), std::min(oid.size(), data.size()));
                      io->AioWriteFull(oid, Bytes(std::move(data)), c);
                      return {};
                    });
    if (!st.ok()) return ctx.Fail(st.status());
    Summary(ctx, a, *st, prefix, st->ops);
    if (a.no_cleanup) {
      nlohmann::json m = {{"prefix", prefix}, {"objects", st->ops}, {"object_size", a.op_size}};
      Status s = io->WriteFull(meta, Bytes(m.dump()));
      if (!s.ok()) return ctx.Fail(s.Annotate("writing bench metadata"));
    } else {
      if (!ctx.json()) printf("Cleaning up (deleting benchmark objects)\n");
      Status s = RemoveObjects(*io, prefix, st->ops, a.threads);
      if (!s.ok()) return ctx.Fail(s.Annotate("cleanup"));
    }
    return;
  }

  // seq / rand read what the last `write --no-cleanup` left.
  auto m = io->Read(meta);
  if (!m.ok()) {
    if (m.status().code() == Code::kNotFound)
      return ctx.Fail(NotFound("no benchmark data in pool " + a.pool + ": run `bench SECONDS write --no-cleanup` first"));
    return ctx.Fail(m.status());
  }
  auto j = nlohmann::json::parse(m->view(), nullptr, false);
  if (!j.is_object() || !j["prefix"].is_string() || !j["objects"].is_number_unsigned() ||
      !j["object_size"].is_number_unsigned())
    return ctx.Fail(Corruption("bench metadata object " + meta + " is malformed"));
  std::string prefix = j["prefix"];
  uint64_t objects = j["objects"];
  BenchArgs ra = a;
  ra.op_size = j["object_size"];  // reads are whole objects, as written
  if (objects == 0) return ctx.Fail(NotFound("the last bench write left no objects"));
  std::mt19937_64 rng(std::random_device{}());
  std::string base = Content("", ra.op_size);
  Runner r(ctx, ra);
  auto st = r.Run(
      [&](uint64_t issued, Clock::time_point now) { return now < deadline && (a.mode == "rand" || issued < objects); },
      [&](uint64_t i, rados::AioCompletionRef c) -> std::function<Status()> {
        uint64_t n = a.mode == "seq" ? i : rng() % objects;
        std::string oid = ObjectName(prefix, n);
        auto out = std::make_shared<Bytes>();
        io->AioRead(oid, 0, 0, out.get(), c);
        return [out, oid, &base, &ra]() -> Status {
          std::string_view got = out->view();
          bool same = got.size() == ra.op_size &&
                      got.substr(0, std::min(oid.size(), got.size())) == std::string_view(oid).substr(0, got.size()) &&
                      (oid.size() >= got.size() || got.substr(oid.size()) == std::string_view(base).substr(oid.size()));
          if (!same) return Corruption("object " + oid + " does not hold what bench write put there");
          return Status::OK();
        };
      });
  if (!st.ok()) return ctx.Fail(st.status());
  Summary(ctx, ra, *st, prefix, objects);
}

void RunBenchCleanup(Context& ctx, const std::string& pool, const std::string& run_name) {
  auto rados = ConnectRados(ctx);
  if (!rados.ok()) return ctx.Fail(rados.status());
  auto io = (*rados)->CreateIoCtx(pool);
  if (!io.ok()) return ctx.Fail(io.status());
  const std::string meta = run_name.empty() ? kDefaultMeta : run_name;
  auto m = io->Read(meta);
  if (!m.ok()) {
    if (m.status().code() == Code::kNotFound) return;  // nothing to clean
    return ctx.Fail(m.status());
  }
  auto j = nlohmann::json::parse(m->view(), nullptr, false);
  if (!j.is_object() || !j["prefix"].is_string() || !j["objects"].is_number_unsigned())
    return ctx.Fail(Corruption("bench metadata object " + meta + " is malformed"));
  Status s = RemoveObjects(*io, j["prefix"].get<std::string>(), j["objects"].get<uint64_t>(), 16);
  if (!s.ok()) return ctx.Fail(s);
  s = io->Remove(meta);
  if (!s.ok() && s.code() != Code::kNotFound) ctx.Fail(s);
}

}  // namespace nacre::cli
