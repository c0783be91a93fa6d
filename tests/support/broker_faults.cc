#include "support/broker_faults.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "absl/time/clock.h"

namespace leadflow::testing {

BrokerFaults::BrokerFaults(rd_kafka_mock_cluster_t* mock, int brokers,
                           std::vector<log::TopicSpec> topics)
    : mock_(mock), brokers_(brokers) {
  thread_ = std::thread([this, topics = std::move(topics)] {
    for (int round = 0; running_; ++round) {
      const int32_t broker = 1 + round % brokers_;
      switch (round % 4) {
        case 0:
          rd_kafka_mock_broker_set_down(mock_, broker);
          absl::SleepFor(absl::Milliseconds(300));
          rd_kafka_mock_broker_set_up(mock_, broker);
          break;
        case 1:
          for (const auto& topic : topics) {
            for (int32_t p = 0; p < topic.partitions; ++p) {
              rd_kafka_mock_partition_set_leader(mock_, topic.name.c_str(), p, broker);
            }
          }
          break;
        case 2:
          rd_kafka_mock_broker_set_rtt(mock_, broker, 150);
          absl::SleepFor(absl::Milliseconds(300));
          rd_kafka_mock_broker_set_rtt(mock_, broker, 0);
          break;
        default:
          // The next two requests of any kind fail.
          rd_kafka_mock_push_request_errors(mock_, 0, 2, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
          break;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  });
}

void BrokerFaults::Stop() {
  running_ = false;
  if (!thread_.joinable()) return;
  thread_.join();
  for (int32_t b = 1; b <= brokers_; ++b) {
    rd_kafka_mock_broker_set_up(mock_, b);
    rd_kafka_mock_broker_set_rtt(mock_, b, 0);
  }
}

}  // namespace leadflow::testing
