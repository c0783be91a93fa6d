#include "leadflow/metrics/registry.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"

using leadflow::metrics::CollectedFamily;
using leadflow::metrics::Registry;

TEST_CASE("counters render per label set, sorted, with HELP and TYPE") {
  Registry registry;
  auto& calls = registry.AddCounter("rpc_total", "Calls.", {"method", "code"});
  calls.With({"GetLead", "OK"}).Increment();
  calls.With({"GetLead", "OK"}).Increment(2);
  calls.With({"AssignLead", "NOT_FOUND"}).Increment();
  // Asking again by name gives the same family.
  registry.AddCounter("rpc_total", "Calls.", {"method", "code"})
      .With({"GetLead", "OK"})
      .Increment();
  CHECK(registry.Render() ==
        "# HELP rpc_total Calls.\n"
        "# TYPE rpc_total counter\n"
        "rpc_total{method=\"AssignLead\",code=\"NOT_FOUND\"} 1\n"
        "rpc_total{method=\"GetLead\",code=\"OK\"} 4\n");
}

TEST_CASE("histograms render cumulative buckets, +Inf, sum and count") {
  Registry registry;
  auto& h = registry.AddHistogram("commit_seconds", "Commit latency.", {}, {0.001, 0.01});
  h.With({}).Observe(0.0005);
  h.With({}).Observe(0.001);  // on the bound: counted in it (le)
  h.With({}).Observe(0.005);
  h.With({}).Observe(3);
  CHECK(registry.Render() ==
        "# HELP commit_seconds Commit latency.\n"
        "# TYPE commit_seconds histogram\n"
        "commit_seconds_bucket{le=\"0.001\"} 2\n"
        "commit_seconds_bucket{le=\"0.01\"} 3\n"
        "commit_seconds_bucket{le=\"+Inf\"} 4\n"
        "commit_seconds_sum 3.0065\n"
        "commit_seconds_count 4\n");
}

TEST_CASE("label values are escaped and gauges go both ways") {
  Registry registry;
  auto& g = registry.AddGauge("timers", "Timers.\nPending", {"reason"});
  g.With({"a \"quoted\"\\ value\nnext"}).Set(5);
  g.With({"a \"quoted\"\\ value\nnext"}).Add(-1.5);
  CHECK(registry.Render() ==
        "# HELP timers Timers.\\nPending\n"
        "# TYPE timers gauge\n"
        "timers{reason=\"a \\\"quoted\\\"\\\\ value\\nnext\"} 3.5\n");
}

TEST_CASE("collectors add families read at scrape time") {
  Registry registry;
  int scrapes = 0;
  registry.AddCollector([&](std::vector<CollectedFamily>& out) {
    ++scrapes;
    CollectedFamily lag;
    lag.name = "lag_records";
    lag.help = "Lag.";
    lag.label_names = {"processor", "partition"};
    lag.samples = {{{"intake", "0"}, 3}, {{"intake", "1"}, 0}};
    out.push_back(lag);
  });
  registry.AddCounter("a_total", "First by name.").With({}).Increment();
  const std::string text = registry.Render();
  CHECK(scrapes == 1);
  CHECK(text ==
        "# HELP a_total First by name.\n"
        "# TYPE a_total counter\n"
        "a_total 1\n"
        "# HELP lag_records Lag.\n"
        "# TYPE lag_records gauge\n"
        "lag_records{processor=\"intake\",partition=\"0\"} 3\n"
        "lag_records{processor=\"intake\",partition=\"1\"} 0\n");
  registry.Render();
  CHECK(scrapes == 2);
}
