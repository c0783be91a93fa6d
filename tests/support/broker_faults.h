#pragma once

#include <atomic>
#include <thread>
#include <vector>

#include "leadflow/log/log.h"

typedef struct rd_kafka_mock_cluster_s rd_kafka_mock_cluster_t;

namespace leadflow::testing {

// Faults on librdkafka's mock cluster while a load runs, in turn until
// Stop: a broker down and up, every partition of `topics` moving its
// leader, slow round trips, failing requests. Stop heals every broker.
class BrokerFaults {
 public:
  BrokerFaults(rd_kafka_mock_cluster_t* mock, int brokers, std::vector<log::TopicSpec> topics);
  ~BrokerFaults() { Stop(); }
  BrokerFaults(const BrokerFaults&) = delete;
  BrokerFaults& operator=(const BrokerFaults&) = delete;

  void Stop();

 private:
  rd_kafka_mock_cluster_t* const mock_;
  const int brokers_;
  std::atomic<bool> running_{true};
  std::thread thread_;
};

}  // namespace leadflow::testing
