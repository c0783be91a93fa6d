#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "leadflow/log/log.h"

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_mock_cluster_s rd_kafka_mock_cluster_t;

namespace leadflow::log {

// librdkafka's mock cluster: real Kafka-protocol brokers in this process on
// loopback ports, with consumer groups, idempotence, transactions and fault
// injection. It keeps NOTHING on disk: everything is gone when it is
// destroyed. For local runs (leadflow-dev-broker) and tests; production
// runs on Apache Kafka.
class KafkaMockCluster {
 public:
  static absl::StatusOr<std::unique_ptr<KafkaMockCluster>> Start(int brokers);
  ~KafkaMockCluster();
  KafkaMockCluster(const KafkaMockCluster&) = delete;
  KafkaMockCluster& operator=(const KafkaMockCluster&) = delete;

  // "127.0.0.1:port,127.0.0.1:port,…"
  std::string bootstrap_servers() const;
  absl::Status CreateTopic(const TopicSpec& topic, int replication_factor);
  // For fault injection (rd_kafka_mock_* functions).
  rd_kafka_mock_cluster_t* raw() const { return cluster_; }
  int brokers() const { return brokers_; }

 private:
  KafkaMockCluster() = default;
  rd_kafka_t* handle_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  int brokers_ = 0;
};

}  // namespace leadflow::log
