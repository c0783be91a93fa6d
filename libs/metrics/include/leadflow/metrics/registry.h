#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace leadflow::metrics {

// Prometheus metrics kept in process and rendered in the text exposition
// format (version 0.0.4) when scraped. Updating a metric is a relaxed atomic
// add: cheap enough for the hot path, where the caller keeps the reference
// that Family::With returned instead of looking it up per record.

// Only goes up (requests, records, bytes). Thread-safe.
class Counter {
 public:
  void Increment(uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Goes up and down (queue lengths, timers pending). Thread-safe.
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into cumulative buckets by upper bound (seconds for
// latencies, plain numbers for sizes). Thread-safe.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);
  void ObserveDuration(absl::Duration d) { Observe(absl::ToDoubleSeconds(d)); }

  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Per bucket (not cumulative), the last one being +Inf.
  std::vector<uint64_t> BucketCounts() const;
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
};

// 100 µs to 10 s: RPCs, commits, fsyncs.
std::vector<double> LatencyBuckets();
// 1 to 4096 in powers of two: batch and group sizes.
std::vector<double> SizeBuckets();

// One metric name with its label names; a metric per set of label values,
// made on first use and kept for the life of the process (label values must
// come from a bounded set: methods, codes, processors, partitions).
template <typename Metric>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<Metric>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        make_(std::move(make)) {}

  // The metric for these label values, one per label name in order.
  Metric& With(std::initializer_list<absl::string_view> values);
  Metric& With(const std::vector<std::string>& values);

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Label values and metric, for rendering.
  std::vector<std::pair<std::vector<std::string>, const Metric*>> Snapshot() const;

 private:
  Metric& WithKey(std::vector<std::string> values);

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<Metric>()> make_;
  mutable absl::Mutex mu_;
  absl::node_hash_map<std::string, std::pair<std::vector<std::string>, std::unique_ptr<Metric>>>
      metrics_ ABSL_GUARDED_BY(mu_);
};

// Samples read when scraped rather than kept (lag, store properties): a
// collector appends whole families.
struct CollectedFamily {
  enum class Type { kGauge, kCounter };
  std::string name;
  std::string help;
  Type type = Type::kGauge;
  std::vector<std::string> label_names;
  std::vector<std::pair<std::vector<std::string>, double>> samples;
};
using Collector = std::function<void(std::vector<CollectedFamily>& out)>;

// The metrics of a process. Families are registered once by name; asking
// again for a registered name returns the same family (so libraries can
// register where they use them). Thread-safe.
class Registry {
 public:
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> upper_bounds = LatencyBuckets());
  // Called at every scrape, in the order added.
  void AddCollector(Collector collector);
  // The text exposition format, families sorted by name.
  std::string Render() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Family<Counter>>> counters_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_ ABSL_GUARDED_BY(mu_);
  std::vector<Collector> collectors_ ABSL_GUARDED_BY(mu_);
};

// The process's registry: what leadflowd serves on --metrics-listen.
Registry& DefaultRegistry();

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

}  // namespace leadflow::metrics
