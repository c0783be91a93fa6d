#include "leadflow/log/kafka_mock_cluster.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "absl/strings/str_cat.h"

namespace leadflow::log {

absl::StatusOr<std::unique_ptr<KafkaMockCluster>> KafkaMockCluster::Start(int brokers) {
  if (brokers < 1) return absl::InvalidArgumentError("brokers: at least 1");
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only owns the mock cluster; it never connects anywhere.
  rd_kafka_conf_set(conf, "bootstrap.servers", "", error, sizeof(error));
  rd_kafka_conf_set(conf, "log_level", "3", error, sizeof(error));
  // The brokers' sockets take their options from this handle. With Nagle's
  // algorithm on (Kafka's own brokers have it off), a response sent while
  // the client has yet to acknowledge the previous one waits for the
  // client's delayed ACK (40 ms on Linux): transactions of several requests
  // took ~45 ms instead of ~3 ms whenever a few ran back to back.
  rd_kafka_conf_set(conf, "socket.nagle.disable", "true", error, sizeof(error));
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (handle == nullptr) return absl::InternalError(absl::StrCat("mock cluster handle: ", error));
  std::unique_ptr<KafkaMockCluster> cluster(new KafkaMockCluster());
  cluster->handle_ = handle;
  cluster->cluster_ = rd_kafka_mock_cluster_new(handle, brokers);
  cluster->brokers_ = brokers;
  if (cluster->cluster_ == nullptr) return absl::InternalError("cannot start the mock cluster");
  return cluster;
}

KafkaMockCluster::~KafkaMockCluster() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_ != nullptr) rd_kafka_destroy(handle_);
}

std::string KafkaMockCluster::bootstrap_servers() const {
  return rd_kafka_mock_cluster_bootstraps(cluster_);
}

absl::Status KafkaMockCluster::CreateTopic(const TopicSpec& topic, int replication_factor) {
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_, topic.name.c_str(),
                                                       topic.partitions, replication_factor);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(
        absl::StrCat("creating topic ", topic.name, ": ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

}  // namespace leadflow::log
