#include "leadflow/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace leadflow::metrics {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> counts(bounds_.size() + 1);
  for (size_t i = 0; i < counts.size(); ++i) {
    counts[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  return counts;
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

std::vector<double> SizeBuckets() {
  std::vector<double> bounds;
  for (double b = 1; b <= 4096; b *= 2) bounds.push_back(b);
  return bounds;
}

template <typename Metric>
Metric& Family<Metric>::With(std::initializer_list<absl::string_view> values) {
  return WithKey(std::vector<std::string>(values.begin(), values.end()));
}

template <typename Metric>
Metric& Family<Metric>::With(const std::vector<std::string>& values) {
  return WithKey(values);
}

template <typename Metric>
Metric& Family<Metric>::WithKey(std::vector<std::string> values) {
  // A wrong count is a programming error; pad or cut so the output stays
  // well formed rather than abort a server.
  values.resize(label_names_.size());
  std::string key = absl::StrJoin(values, absl::string_view("\0", 1));
  absl::MutexLock lock(&mu_);
  auto& slot = metrics_[key];
  if (slot.second == nullptr) slot = {std::move(values), make_()};
  return *slot.second;
}

template <typename Metric>
std::vector<std::pair<std::vector<std::string>, const Metric*>> Family<Metric>::Snapshot() const {
  std::vector<std::pair<std::vector<std::string>, const Metric*>> out;
  absl::MutexLock lock(&mu_);
  out.reserve(metrics_.size());
  for (const auto& [key, entry] : metrics_) out.emplace_back(entry.first, entry.second.get());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

namespace {

template <typename F>
F& FindOrAdd(std::vector<std::unique_ptr<F>>& families, std::unique_ptr<F> made) {
  for (auto& family : families) {
    if (family->name() == made->name()) return *family;
  }
  families.push_back(std::move(made));
  return *families.back();
}

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(absl::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// {a="x",b="y"} with `extra` (le="…") last; empty when there are no labels.
std::string LabelSet(const std::vector<std::string>& names, const std::vector<std::string>& values,
                     absl::string_view extra = {}) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    parts.push_back(absl::StrCat(names[i], "=\"", EscapeLabelValue(values[i]), "\""));
  }
  if (!extra.empty()) parts.emplace_back(extra);
  if (parts.empty()) return "";
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  return absl::StrFormat("%.9g", value);
}

void Header(std::string& out, const std::string& name, const std::string& help,
            absl::string_view type) {
  absl::StrAppend(&out, "# HELP ", name, " ", EscapeHelp(help), "\n# TYPE ", name, " ", type, "\n");
}

}  // namespace

Family<Counter>& Registry::AddCounter(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names) {
  absl::MutexLock lock(&mu_);
  return FindOrAdd(counters_,
                   std::make_unique<Family<Counter>>(name, help, std::move(label_names),
                                                     [] { return std::make_unique<Counter>(); }));
}

Family<Gauge>& Registry::AddGauge(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names) {
  absl::MutexLock lock(&mu_);
  return FindOrAdd(gauges_, std::make_unique<Family<Gauge>>(name, help, std::move(label_names), [] {
                     return std::make_unique<Gauge>();
                   }));
}

Family<Histogram>& Registry::AddHistogram(const std::string& name, const std::string& help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> upper_bounds) {
  absl::MutexLock lock(&mu_);
  return FindOrAdd(histograms_,
                   std::make_unique<Family<Histogram>>(name, help, std::move(label_names),
                                                       [bounds = std::move(upper_bounds)] {
                                                         return std::make_unique<Histogram>(bounds);
                                                       }));
}

void Registry::AddCollector(Collector collector) {
  absl::MutexLock lock(&mu_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::Render() const {
  std::vector<Collector> collectors;
  // name → rendered family, so the output is sorted by name.
  std::map<std::string, std::string> rendered;
  {
    absl::MutexLock lock(&mu_);
    collectors = collectors_;
    for (const auto& family : counters_) {
      std::string& out = rendered[family->name()];
      Header(out, family->name(), family->help(), "counter");
      for (const auto& [values, counter] : family->Snapshot()) {
        absl::StrAppend(&out, family->name(), LabelSet(family->label_names(), values), " ",
                        counter->Value(), "\n");
      }
    }
    for (const auto& family : gauges_) {
      std::string& out = rendered[family->name()];
      Header(out, family->name(), family->help(), "gauge");
      for (const auto& [values, gauge] : family->Snapshot()) {
        absl::StrAppend(&out, family->name(), LabelSet(family->label_names(), values), " ",
                        FormatValue(gauge->Value()), "\n");
      }
    }
    for (const auto& family : histograms_) {
      std::string& out = rendered[family->name()];
      Header(out, family->name(), family->help(), "histogram");
      for (const auto& [values, histogram] : family->Snapshot()) {
        const std::vector<uint64_t> counts = histogram->BucketCounts();
        const std::vector<double>& bounds = histogram->upper_bounds();
        uint64_t cumulative = 0;
        for (size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          const std::string le = i < bounds.size() ? FormatValue(bounds[i]) : "+Inf";
          absl::StrAppend(&out, family->name(), "_bucket",
                          LabelSet(family->label_names(), values, absl::StrCat("le=\"", le, "\"")),
                          " ", cumulative, "\n");
        }
        const std::string labels = LabelSet(family->label_names(), values);
        absl::StrAppend(&out, family->name(), "_sum", labels, " ", FormatValue(histogram->Sum()),
                        "\n", family->name(), "_count", labels, " ", cumulative, "\n");
      }
    }
  }
  // Outside the lock: collectors read other components, which may register.
  std::vector<CollectedFamily> collected;
  for (const auto& collector : collectors) collector(collected);
  for (const auto& family : collected) {
    std::string& out = rendered[family.name];
    if (out.empty()) {
      Header(out, family.name, family.help,
             family.type == CollectedFamily::Type::kCounter ? "counter" : "gauge");
    }
    for (const auto& [values, value] : family.samples) {
      absl::StrAppend(&out, family.name, LabelSet(family.label_names, values), " ",
                      FormatValue(value), "\n");
    }
  }
  std::string out;
  for (const auto& [name, text] : rendered) out += text;
  return out;
}

Registry& DefaultRegistry() {
  static Registry* registry = new Registry();
  return *registry;
}

}  // namespace leadflow::metrics
