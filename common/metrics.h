// The metrics registry: counters, gauges and latency histograms, rendered as
// Prometheus text by MetricsServer (metrics_server.h) on every daemon.
//
// Metrics are created once (at start-up) and then updated lock-free from any
// thread; the registry owns them for the life of the process, so the
// returned pointers never dangle.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace nacre {

class Counter {
 public:
  void Inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void Set(int64_t v) { v_.store(v, std::memory_order_relaxed); }
  void Add(int64_t d) { v_.fetch_add(d, std::memory_order_relaxed); }
  int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// Latency histogram with fixed exponential buckets from 10 us to ~84 s
// (factor 2), which covers a socket round trip up to a stalled disk.
class Histogram {
 public:
  static constexpr int kBuckets = 24;
  static double BucketBound(int i);  // upper bound in seconds

  void Observe(double seconds);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const;
  uint64_t bucket(int i) const { return buckets_[i].load(std::memory_order_relaxed); }
  // Approximate quantile (0..1) from the buckets, in seconds.
  double Quantile(double q) const;

 private:
  std::atomic<uint64_t> buckets_[kBuckets + 1] = {};  // last is +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
};

class MetricsRegistry {
 public:
  // Returns the metric with this name and label set, creating it on first
  // use. `labels` is Prometheus label text without braces: `pool="data"`.
  Counter* GetCounter(const std::string& name, const std::string& help, const std::string& labels = "");
  Gauge* GetGauge(const std::string& name, const std::string& help, const std::string& labels = "");
  Histogram* GetHistogram(const std::string& name, const std::string& help, const std::string& labels = "");

  // Prometheus text exposition format 0.0.4.
  std::string RenderPrometheus() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Family {
    Kind kind;
    std::string help;
    std::map<std::string, std::unique_ptr<Counter>> counters;
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  Family& GetFamily(const std::string& name, const std::string& help, Kind kind);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

// The process's one registry.
MetricsRegistry& Metrics();

}  // namespace nacre
