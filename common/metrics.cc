#include "common/metrics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "common/log.h"

namespace nacre {

double Histogram::BucketBound(int i) { return 10e-6 * std::ldexp(1.0, i); }

void Histogram::Observe(double seconds) {
  if (!(seconds >= 0)) seconds = 0;  // also catches NaN
  int i = 0;
  while (i < kBuckets && seconds > BucketBound(i)) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

double Histogram::sum() const { return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9; }

double Histogram::Quantile(double q) const {
  uint64_t total = count();
  if (total == 0) return 0;
  double target = q * static_cast<double>(total);
  uint64_t seen = 0;
  for (int i = 0; i <= kBuckets; ++i) {
    seen += bucket(i);
    if (static_cast<double>(seen) >= target) return i < kBuckets ? BucketBound(i) : BucketBound(kBuckets - 1);
  }
  return BucketBound(kBuckets - 1);
}

MetricsRegistry::Family& MetricsRegistry::GetFamily(const std::string& name, const std::string& help, Kind kind) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.kind = kind;
    it->second.help = help;
  } else if (it->second.kind != kind) {
    // One name, two kinds is a programming error that would corrupt the output.
    NLOG(metrics, kError) << "metric " << name << " registered with two kinds";
    abort();
  }
  return it->second;
}

Counter* MetricsRegistry::GetCounter(const std::string& name, const std::string& help, const std::string& labels) {
  std::lock_guard<std::mutex> g(mu_);
  auto& slot = GetFamily(name, help, Kind::kCounter).counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return slot.get();
}

Gauge* MetricsRegistry::GetGauge(const std::string& name, const std::string& help, const std::string& labels) {
  std::lock_guard<std::mutex> g(mu_);
  auto& slot = GetFamily(name, help, Kind::kGauge).gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return slot.get();
}

Histogram* MetricsRegistry::GetHistogram(const std::string& name, const std::string& help, const std::string& labels) {
  std::lock_guard<std::mutex> g(mu_);
  auto& slot = GetFamily(name, help, Kind::kHistogram).histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>();
  return slot.get();
}

namespace {

std::string WithLabels(const std::string& name, const std::string& labels, const std::string& extra = "") {
  std::string l = labels;
  if (!extra.empty()) l = l.empty() ? extra : l + "," + extra;
  return l.empty() ? name : name + "{" + l + "}";
}

std::string FormatDouble(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

std::string MetricsRegistry::RenderPrometheus() const {
  std::lock_guard<std::mutex> g(mu_);
  std::ostringstream os;
  for (const auto& [name, f] : families_) {
    static const char* kinds[] = {"counter", "gauge", "histogram"};
    os << "# HELP " << name << " " << f.help << "\n# TYPE " << name << " " << kinds[static_cast<int>(f.kind)] << "\n";
    for (const auto& [labels, c] : f.counters) os << WithLabels(name, labels) << " " << c->value() << "\n";
    for (const auto& [labels, ga] : f.gauges) os << WithLabels(name, labels) << " " << ga->value() << "\n";
    for (const auto& [labels, h] : f.histograms) {
      uint64_t cum = 0;
      for (int i = 0; i < Histogram::kBuckets; ++i) {
        cum += h->bucket(i);
        os << WithLabels(name + "_bucket", labels, "le=\"" + FormatDouble(Histogram::BucketBound(i)) + "\"") << " "
           << cum << "\n";
      }
      cum += h->bucket(Histogram::kBuckets);
      os << WithLabels(name + "_bucket", labels, "le=\"+Inf\"") << " " << cum << "\n";
      os << WithLabels(name + "_sum", labels) << " " << FormatDouble(h->sum()) << "\n";
      os << WithLabels(name + "_count", labels) << " " << h->count() << "\n";
    }
  }
  return os.str();
}

MetricsRegistry& Metrics() {
  static MetricsRegistry* r = new MetricsRegistry();  // lives until exit
  return *r;
}

}  // namespace nacre
