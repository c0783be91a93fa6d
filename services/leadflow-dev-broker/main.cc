// leadflow-dev-broker: a Kafka-protocol cluster for local runs and tests,
// built on librdkafka's mock cluster. It creates leadflow's topics, prints
// the bootstrap servers and runs until SIGTERM/SIGINT. It keeps NOTHING on
// disk. Production runs on Apache Kafka (see docs/operations.md).

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "leadflow/log/kafka_mock_cluster.h"

int main(int argc, char** argv) {
  int brokers = 3;
  int partitions = 4;
  CLI::App app{"leadflow-dev-broker: in-memory Kafka-protocol brokers on loopback (dev/test only)"};
  app.add_option("--brokers", brokers, "Number of brokers")
      ->check(CLI::Range(1, 9))
      ->capture_default_str();
  app.add_option("--partitions", partitions, "Partitions per leadflow topic")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto cluster = leadflow::log::KafkaMockCluster::Start(brokers);
  if (!cluster.ok()) {
    std::fprintf(stderr, "leadflow-dev-broker: %s\n", cluster.status().ToString().c_str());
    return 1;
  }
  const int replication = brokers < 3 ? brokers : 3;
  for (const auto& topic : leadflow::log::StandardTopics(partitions)) {
    if (auto s = (*cluster)->CreateTopic(topic, replication); !s.ok()) {
      std::fprintf(stderr, "leadflow-dev-broker: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("leadflow-dev-broker: topic %s (%d partitions, replication %d)\n",
                topic.name.c_str(), topic.partitions, replication);
  }
  std::printf(
      "leadflow-dev-broker: librdkafka mock cluster, %d brokers. It keeps NOTHING on disk: "
      "every record is gone when it stops. For development and tests only.\n",
      brokers);
  std::printf("leadflow-dev-broker: bootstrap servers %s\n",
              (*cluster)->bootstrap_servers().c_str());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::printf("leadflow-dev-broker: stopping; all data is discarded\n");
  return 0;
}
