// leadflowd: the lead-processing server, on the embedded (RocksDB) log or on
// Apache Kafka.
//
// Wiring only: opens the data directory, starts the processors (intake →
// commands → projection, and follow-ups back to commands) on their threads, serves gRPC, and stops
// cleanly on SIGTERM/SIGINT.

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "leadflow/api/access_service.h"
#include "leadflow/api/authenticator.h"
#include "leadflow/api/backup_service.h"
#include "leadflow/api/crm_service.h"
#include "leadflow/api/event_service.h"
#include "leadflow/api/intake_service.h"
#include "leadflow/api/lead_service.h"
#include "leadflow/api/pipeline_service.h"
#include "leadflow/api/report_service.h"
#include "leadflow/api/rpc_metrics.h"
#include "leadflow/auth/api_key.h"
#include "leadflow/auth/jwt.h"
#include "leadflow/base/derived_id.h"
#include "leadflow/base/logger.h"
#include "leadflow/config/flag_file.h"
#include "leadflow/domain/contact_points.h"
#include "leadflow/domain/input_limits.h"
#include "leadflow/http/http_server.h"
#include "leadflow/log/embedded_log.h"
#include "leadflow/log/kafka_client_config.h"
#include "leadflow/log/kafka_log.h"
#include "leadflow/metrics/registry.h"
#include "leadflow/processors/command_processor.h"
#include "leadflow/processors/crm_projection.h"
#include "leadflow/processors/follow_up_processor.h"
#include "leadflow/processors/intake_processor.h"
#include "leadflow/processors/outcome_relay.h"
#include "leadflow/processors/robot_processor.h"
#include "leadflow/store/database.h"
#include "leadflow/store/fault_injecting_state_store.h"
#include "leadflow/tls/grpc_tls.h"

namespace {

using namespace leadflow;  // NOLINT: the binary's own wiring

struct Options {
  std::string data_dir = "./leadflow-data";
  std::string listen = "127.0.0.1:50051";
  int partitions = 4;
  std::string default_region = "RU";
  std::vector<std::string> supervisors;
  std::vector<std::string> act_for_others;
  bool sync_writes = true;
  bool rebuild_read_models = false;
  // gRPC server reflection (what grpcurl lists and describes).
  bool reflection = true;
  std::string time_zone = "UTC";
  std::string clock_file;
  // Kafka engine when set.
  std::string kafka_brokers;
  std::string kafka_transactional_id;
  int kafka_replication = 3;
  int kafka_session_timeout_ms = 10000;
  int kafka_transaction_timeout_ms = 10000;
  int kafka_standby_interval_ms = 1000;
  int kafka_max_record_bytes = 1000000;
  // gRPC transport security.
  tls::ServerTls tls;
  // librdkafka settings for every Kafka client (security), from a file.
  std::string kafka_config;
  // The administrator's API key (default: <data-dir>/admin.key).
  std::string admin_key_file;
  // JWTs from an identity provider, when jwt.jwks_file is set.
  auth::JwtSettings jwt;
  // Storage faults to inject (tests of failure handling).
  std::vector<std::string> inject_faults;
  // Where CreateBackup writes; <data_dir>/backups when empty.
  std::string backup_dir;
  // Metrics, probes and HTTP intake; off when empty.
  std::string http_listen;
  std::string log_level = "info";
  std::string log_format = "text";
  // Calls slower than this are logged (0: none).
  int slow_request_ms = 1000;
};

// Takes gRPC's reflection plugin off a server: linking grpc++_reflection
// registers it for every server built in the process.
class WithoutReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments* /*args*/) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    const std::string reflection = grpc::reflection::ProtoServerReflectionPlugin().name();
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [&](const std::unique_ptr<grpc::ServerBuilderPlugin>& plugin) {
                                    return plugin->name() == reflection;
                                  }),
                   plugins->end());
  }
};

// The environment variable of a flag: LEADFLOWD_DATA_DIR for --data-dir.
std::string EnvNameOf(absl::string_view flag) {
  return absl::StrCat("LEADFLOWD_", absl::AsciiStrToUpper(absl::StrReplaceAll(flag, {{"-", "_"}})));
}

// CLI11's reader of --config: config::ParseFlagFile's settings, each a
// flag of `app` (an unknown one ends the start naming its line). A setting
// whose environment variable is set is left to it: a flag wins over the
// environment, which wins over the file.
class YamlFlagConfig final : public CLI::Config {
 public:
  explicit YamlFlagConfig(const CLI::App* app) : app_(app) {}

  std::string to_config(const CLI::App* /*app*/, bool /*default_also*/, bool /*write_description*/,
                        std::string /*prefix*/) const override {
    return "";
  }
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    const std::string text{std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>()};
    absl::StatusOr<std::vector<config::FlagSetting>> settings = config::ParseFlagFile(text);
    if (!settings.ok()) {
      throw CLI::ConfigError(absl::StrCat("--config: ", settings.status().message()));
    }
    std::vector<CLI::ConfigItem> read;
    for (auto& setting : *settings) {
      if (app_->get_option_no_throw("--" + setting.name) == nullptr || setting.name == "config") {
        throw CLI::ConfigError(absl::StrCat("--config: line ", setting.line, ": '", setting.name,
                                            "' is not a setting of leadflowd (see --help)"));
      }
      if (std::getenv(EnvNameOf(setting.name).c_str()) != nullptr) continue;
      CLI::ConfigItem item;
      item.name = std::move(setting.name);
      item.inputs = std::move(setting.values);
      read.push_back(std::move(item));
    }
    return read;
  }

 private:
  const CLI::App* app_;
};

int Fail(const absl::Status& status) {
  logging::Error("leadflowd", status.ToString());
  return 1;
}

// Why the server should not take traffic now (NOT_SERVING), or OK: writes
// failing in the log (a full disk, brokers away) or a processor retrying a
// batch that fails.
absl::Status Readiness(const log::Log& log,
                       const std::vector<processors::ProcessorRunner*>& runners) {
  if (absl::Status s = log.Readiness(); !s.ok()) return s;
  for (const auto* runner : runners) {
    if (absl::Status s = runner->Trouble(); !s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat("processor ", runner->processor().Name(), ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

v1::ServerStatus CollectStatus(const log::Log& log,
                               const std::vector<processors::ProcessorRunner*>& runners) {
  v1::ServerStatus status;
  status.set_engine(log.EngineName());
  for (const auto* runner : runners) {
    const auto offsets = runner->CommittedOffsets();
    const auto consumed = runner->ConsumedOffsets();
    const std::string topic = runner->processor().InputTopic();
    for (int32_t p = 0; p < static_cast<int32_t>(offsets.size()); ++p) {
      auto* row = status.add_processors();
      row->set_processor(runner->processor().Name());
      row->set_topic(topic);
      row->set_partition(p);
      row->set_committed_offset(offsets[p]);
      // Unknown for now (Kafka unreachable): shown as no lag rather than
      // failing the whole status.
      row->set_end_offset(log.EndOffset(topic, p).value_or(consumed[p]));
      row->set_owned(runner->Holds(p));
      row->set_replicated(runner->processor().Replicated());
      const processors::ProcessorRunner::RestoredRecords restored = runner->Restored(p);
      row->set_standby_restored_records(restored.standby);
      row->set_takeover_restored_records(restored.takeover);
      if (!row->owned()) {
        status.set_unowned_partitions(status.unowned_partitions() + 1);
        continue;
      }
      row->set_lag(std::max<int64_t>(0, row->end_offset() - consumed[p]));
      status.set_total_lag(status.total_lag() + row->lag());
    }
  }
  status.set_dead_letters(log.EndOffset(log::kDeadLetterTopic, 0).value_or(0));
  return status;
}

using metrics::CollectedFamily;

CollectedFamily Gauge(std::string name, std::string help, std::vector<std::string> labels = {}) {
  CollectedFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.label_names = std::move(labels);
  return family;
}

CollectedFamily Counter(std::string name, std::string help, std::vector<std::string> labels = {}) {
  CollectedFamily family = Gauge(std::move(name), std::move(help), std::move(labels));
  family.type = CollectedFamily::Type::kCounter;
  return family;
}

// What the metrics read when scraped: lag and offsets per processor and
// partition, the dead-letter topic, the store's own figures, robots behind
// the clock, and the Kafka producer's.
void AddCollectors(metrics::Registry& registry, const log::Log& log,
                   const std::vector<processors::ProcessorRunner*>& runners,
                   const store::Database& rocks, const processors::RobotProcessor& robots,
                   const Clock& clock, const std::atomic<bool>& caught_up) {
  registry.AddCollector([&](std::vector<CollectedFamily>& out) {
    const v1::ServerStatus status = CollectStatus(log, runners);
    CollectedFamily lag = Gauge("leadflow_processor_lag_records",
                                "Records on the input partition not processed yet (owned "
                                "partitions only).",
                                {"processor", "topic", "partition"});
    CollectedFamily committed = Gauge("leadflow_processor_committed_offset",
                                      "Next input offset to process, as committed with the state.",
                                      {"processor", "topic", "partition"});
    CollectedFamily owned = Gauge("leadflow_processor_partition_owned",
                                  "1 when this instance processes the partition now.",
                                  {"processor", "topic", "partition"});
    for (const auto& row : status.processors()) {
      std::vector<std::string> labels = {row.processor(), row.topic(),
                                         absl::StrCat(row.partition())};
      if (row.owned()) lag.samples.emplace_back(labels, static_cast<double>(row.lag()));
      committed.samples.emplace_back(labels, static_cast<double>(row.committed_offset()));
      owned.samples.emplace_back(labels, row.owned() ? 1 : 0);
    }
    CollectedFamily dead = Gauge("leadflow_dead_letter_records",
                                 "Records on the dead-letter topic (all time, all instances).");
    dead.samples.push_back({{}, static_cast<double>(status.dead_letters())});
    out.push_back(std::move(lag));
    out.push_back(std::move(committed));
    out.push_back(std::move(owned));
    out.push_back(std::move(dead));
    for (const auto& [name, value] : rocks.Properties()) {
      CollectedFamily property = Gauge(absl::StrCat("leadflow_rocksdb_", name),
                                       "RocksDB property (see docs/operations.md).");
      property.samples.push_back({{}, value});
      out.push_back(std::move(property));
    }
    // Bounded: a scrape must stay cheap however far behind the robots are.
    constexpr int64_t kDueLimit = 100000;
    auto due = robots.DueTimers(log.PartitionCount(log::kEventsTopic), clock.Now(), kDueLimit);
    if (due.ok()) {
      CollectedFamily timers = Gauge("leadflow_robot_timers_due",
                                     "Robot timers past their due time and not fired yet on this "
                                     "instance (counted up to 100000).");
      timers.samples.push_back({{}, static_cast<double>(*due)});
      out.push_back(std::move(timers));
    }
    CollectedFamily ready = Gauge("leadflow_ready", "1 when the server takes traffic (/readyz).");
    ready.samples.push_back({{}, caught_up.load() && Readiness(log, runners).ok() ? 1.0 : 0.0});
    out.push_back(std::move(ready));
    if (const auto* kafka = dynamic_cast<const log::KafkaLog*>(&log)) {
      const log::KafkaLog::TransactionStats stats = kafka->Stats();
      CollectedFamily transactions = Counter("leadflow_kafka_transactions_total",
                                             "Kafka transactions committed (group commits).");
      transactions.samples.push_back({{}, static_cast<double>(stats.transactions)});
      CollectedFamily appends = Counter("leadflow_kafka_transaction_appends_total",
                                        "Appends the committed Kafka transactions carried.");
      appends.samples.push_back({{}, static_cast<double>(stats.appends)});
      CollectedFamily alone = Counter("leadflow_kafka_transactions_retried_alone_total",
                                      "Shared transactions that aborted and were redone append by "
                                      "append.");
      alone.samples.push_back({{}, static_cast<double>(stats.retried_alone)});
      out.push_back(std::move(transactions));
      out.push_back(std::move(appends));
      out.push_back(std::move(alone));
      // librdkafka's own figures, per client of this process.
      CollectedFamily queued = Gauge("leadflow_kafka_client_queue_messages",
                                     "Messages waiting in a Kafka client's queues.", {"client"});
      CollectedFamily queued_bytes = Gauge("leadflow_kafka_client_queue_bytes",
                                           "Bytes waiting in a Kafka client's queues.", {"client"});
      CollectedFamily sent = Counter("leadflow_kafka_client_tx_messages_total",
                                     "Messages a Kafka client produced.", {"client"});
      CollectedFamily fetched = Counter("leadflow_kafka_client_rx_messages_total",
                                        "Messages a Kafka client fetched.", {"client"});
      CollectedFamily errors =
          Counter("leadflow_kafka_client_request_errors_total",
                  "Requests of a Kafka client to its brokers that failed.", {"client"});
      CollectedFamily rtt =
          Gauge("leadflow_kafka_broker_rtt_seconds",
                "Average round trip from a Kafka client to a broker.", {"client", "broker"});
      for (const auto& [client, figures] : log::KafkaLog::ClientStatisticsSnapshot()) {
        queued.samples.push_back({{client}, figures.queue_messages});
        queued_bytes.samples.push_back({{client}, figures.queue_bytes});
        sent.samples.push_back({{client}, figures.tx_messages});
        fetched.samples.push_back({{client}, figures.rx_messages});
        errors.samples.push_back({{client}, figures.tx_errors});
        for (const auto& [broker, seconds] : figures.broker_rtt_seconds) {
          rtt.samples.push_back({{client, broker}, seconds});
        }
      }
      out.push_back(std::move(queued));
      out.push_back(std::move(queued_bytes));
      out.push_back(std::move(sent));
      out.push_back(std::move(fetched));
      out.push_back(std::move(errors));
      out.push_back(std::move(rtt));
    }
  });
}

int Run(const Options& options) {
  auto log_level = logging::ParseLevel(options.log_level);
  if (!log_level.ok()) return Fail(log_level.status());
  auto log_format = logging::ParseFormat(options.log_format);
  if (!log_format.ok()) return Fail(log_format.status());
  logging::Configure(*log_level, *log_format);
  // What this start was told (paths only: secrets live in files).
  logging::Info("leadflowd", "starting",
                {{"data_dir", options.data_dir},
                 {"listen", options.listen},
                 {"http_listen", options.http_listen},
                 {"engine", options.kafka_brokers.empty() ? "embedded" : "kafka"},
                 {"kafka_brokers", options.kafka_brokers},
                 {"kafka_config", options.kafka_config},
                 {"partitions", options.partitions},
                 {"sync_writes", options.sync_writes ? "true" : "false"},
                 {"default_region", options.default_region},
                 {"time_zone", options.time_zone},
                 {"tls_cert", options.tls.cert_file},
                 {"tls_client_ca", options.tls.client_ca_file},
                 {"jwt_jwks", options.jwt.jwks_file},
                 {"jwt_issuer", options.jwt.issuer},
                 {"admin_key_file", options.admin_key_file},
                 {"backup_dir", options.backup_dir},
                 {"log_level", options.log_level},
                 {"slow_request_ms", options.slow_request_ms}});
  if (!domain::IsKnownPhoneRegion(options.default_region)) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("--default-region: unknown region '", options.default_region, "'")));
  }
  absl::TimeZone time_zone;
  if (!absl::LoadTimeZone(options.time_zone, &time_zone)) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("--time-zone: unknown time zone '", options.time_zone, "'")));
  }
  // Checked before anything is opened: a wrong flag is said at once.
  auto credentials = tls::ServerCredentialsFor(options.listen, options.tls);
  if (!credentials.ok()) return Fail(credentials.status());
  std::shared_ptr<const auth::JwtVerifier> jwt;
  if (!options.jwt.jwks_file.empty()) {
    auto verifier = auth::JwtVerifier::Create(options.jwt);
    if (!verifier.ok()) return Fail(verifier.status());
    jwt = *std::move(verifier);
  } else if (!options.jwt.issuer.empty() || !options.jwt.audiences.empty()) {
    return Fail(absl::InvalidArgumentError("--jwt-issuer and --jwt-audience need --jwt-jwks"));
  }
  if (!options.kafka_config.empty() && options.kafka_brokers.empty()) {
    return Fail(absl::InvalidArgumentError(
        "--kafka-config needs --kafka-brokers: the embedded engine has no Kafka clients"));
  }
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return Fail(
        absl::UnavailableError(absl::StrCat("--data-dir ", options.data_dir, ": ", ec.message())));
  }
  // Block the stop signals in every thread; main waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto opened_store = store::Database::Open({options.data_dir, options.sync_writes});
  if (!opened_store.ok()) return Fail(opened_store.status());
  // The data dir's RocksDB; everything else sees the port only (the
  // metrics read its properties).
  store::Database* const database = opened_store->get();
  std::unique_ptr<store::StateStore> rocks = *std::move(opened_store);
  std::unique_ptr<store::FaultInjectingStateStore> faulty;
  if (!options.inject_faults.empty()) {
    faulty = std::make_unique<store::FaultInjectingStateStore>(rocks.get());
    for (const auto& spec : options.inject_faults) {
      if (auto s = faulty->FailFromSpec(spec); !s.ok()) return Fail(s);
    }
    logging::Warning("leadflowd", absl::StrCat("injecting storage faults ",
                                               absl::StrJoin(options.inject_faults, ", ")));
  }
  store::StateStore* const db =
      faulty != nullptr ? static_cast<store::StateStore*>(faulty.get()) : rocks.get();
  std::unique_ptr<log::Log> log;
  const std::string data_dir = std::filesystem::absolute(options.data_dir).string();
  if (options.kafka_brokers.empty()) {
    auto embedded = log::EmbeddedLog::Open(db, log::StandardTopics(options.partitions));
    if (!embedded.ok()) return Fail(embedded.status());
    log = *std::move(embedded);
  } else {
    log::KafkaLog::Options kafka;
    kafka.bootstrap_servers = options.kafka_brokers;
    kafka.topics = log::StandardTopics(options.partitions);
    kafka.replication_factor = options.kafka_replication;
    kafka.session_timeout = absl::Milliseconds(options.kafka_session_timeout_ms);
    kafka.transaction_timeout = absl::Milliseconds(options.kafka_transaction_timeout_ms);
    kafka.max_record_bytes = static_cast<size_t>(options.kafka_max_record_bytes);
    if (!options.kafka_config.empty()) {
      auto settings = log::ReadKafkaClientConfig(options.kafka_config);
      if (!settings.ok()) return Fail(settings.status());
      kafka.client_settings = *std::move(settings);
      std::vector<std::string> keys;
      bool secrets = false;
      for (const auto& [key, value] : kafka.client_settings) {
        keys.push_back(key);
        secrets = secrets || log::IsSecretKafkaSetting(key);
      }
      // Keys only: values may be secrets.
      logging::Info("leadflowd",
                    absl::StrCat("kafka client settings from ", options.kafka_config, ": ",
                                 keys.empty() ? "(none)" : absl::StrJoin(keys, ", ")));
      struct stat file {};
      if (secrets && stat(options.kafka_config.c_str(), &file) == 0 &&
          (file.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        logging::Warning("leadflowd", absl::StrCat(options.kafka_config,
                                                   " holds secrets and is readable by others "
                                                   "(chmod 600 it)"));
      }
    }
    // Stable per host and data dir: a restarted instance fences its
    // previous self, and instances on other hosts never fence each other.
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    kafka.transactional_id = options.kafka_transactional_id.empty()
                                 ? DeriveId("leadflowd", absl::StrCat(host, ":", data_dir))
                                 : options.kafka_transactional_id;
    auto opened = log::KafkaLog::Open(db, kafka);
    if (!opened.ok()) return Fail(opened.status());
    log = *std::move(opened);
  }

  std::unique_ptr<Clock> clock;
  if (options.clock_file.empty()) {
    clock = std::make_unique<SystemClock>();
  } else {
    clock = std::make_unique<FileClock>(options.clock_file);
  }
  domain::DomainConfig config;
  config.default_region = options.default_region;
  config.supervisors = options.supervisors;
  processors::LeadReadModel leads(db);
  processors::ItemReadModel items(db);
  processors::TimelineReadModel timeline(db);
  processors::ActivityCounters counters(db);
  processors::CommandOutcomes outcomes;
  processors::IntakeProcessor intake(&leads, &items, config,
                                     log->PartitionCount(log::kIntakeTopic));
  processors::CommandProcessor commands(&outcomes, &items, config,
                                        log->PartitionCount(log::kCommandsTopic));
  processors::FollowUpProcessor follow_ups;
  processors::RobotProcessor robots(db, &items, &counters, clock.get());
  processors::OutcomeRelay relay(log.get(), &outcomes);
  processors::ReportReadModel reports(db);
  processors::CrmProjection projection({&leads, &items, &timeline, &counters, &reports});

  if (options.rebuild_read_models) {
    // The read model is derived: drop it with its offsets and fold the log again.
    if (auto s = db->Clear(store::Keyspace::kViews); !s.ok()) return Fail(s);
    logging::Info("leadflowd", "read models dropped; rebuilding from the event log");
  }
  // One instance holds every partition on the embedded log: intake decides
  // its commands itself, under the command processor's writer lock, in
  // smaller batches so that a command waits at most one of them.
  const bool single_instance = !log->KeepsChangelogs();
  if (single_instance) intake.DecideInline(&outcomes);
  processors::ProcessorRunner intake_runner(log.get(), db, &intake, single_instance ? 250 : 1000);
  processors::ProcessorRunner command_runner(log.get(), db, &commands);
  absl::Mutex aggregate_writer;
  if (single_instance) {
    intake_runner.ShareWriterLock(&aggregate_writer);
    command_runner.ShareWriterLock(&aggregate_writer);
  }
  processors::ProcessorRunner projection_runner(log.get(), db, &projection);
  processors::ProcessorRunner follow_up_runner(log.get(), db, &follow_ups);
  processors::ProcessorRunner robot_runner(log.get(), db, &robots);
  std::vector<processors::ProcessorRunner*> runners = {
      &intake_runner, &command_runner, &projection_runner, &follow_up_runner, &robot_runner};
  for (auto* runner : runners) {
    if (auto s = runner->Init(); !s.ok()) return Fail(s);
    if (options.kafka_standby_interval_ms > 0) {
      runner->EnableStandby(absl::Milliseconds(options.kafka_standby_interval_ms));
    }
  }
  projection.ResumeFrom(projection_runner.CommittedOffsets());
  if (auto s = relay.Start(); !s.ok()) return Fail(s);

  // Serves probes and metrics from here on, while catching up too.
  std::atomic<bool> caught_up{false};
  std::unique_ptr<http::HttpServer> http_server;
  if (!options.http_listen.empty()) {
    // Intake over HTTP carries API keys: in the clear only on loopback,
    // or behind a TLS proxy the operator vouches for.
    if (!tls::IsLoopback(options.http_listen) && !options.tls.allow_plaintext) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("--http-listen ", options.http_listen,
                       ": plaintext HTTP (API keys in the clear) on a non-loopback address; "
                       "terminate TLS in front of it and pass --allow-plaintext")));
    }
    AddCollectors(metrics::DefaultRegistry(), *log, runners, *database, robots, *clock, caught_up);
    http::HttpServer::Options http_options;
    http_options.listen = options.http_listen;
    http_options.max_body_bytes = domain::InputLimits::kRequestBytes;
    http_options.readiness = [&]() -> absl::Status {
      if (!caught_up.load()) {
        return absl::UnavailableError("catching up with the event log (read models)");
      }
      return Readiness(*log, runners);
    };
    http_options.liveness = [&] {
      const absl::Status health = log->Health();
      return absl::IsDataLoss(health) ? health : absl::OkStatus();
    };
    auto started = http::HttpServer::Start(std::move(http_options));
    if (!started.ok()) return Fail(started.status());
    http_server = *std::move(started);
    const std::string http_host = options.http_listen.substr(0, options.http_listen.rfind(':'));
    logging::Info("leadflowd", absl::StrCat("http (metrics, probes, intake) on ", http_host, ":",
                                            http_server->port()));
  }

  api::ServiceContext context;
  context.log = log.get();
  context.db = db;
  context.leads = &leads;
  context.items = &items;
  context.counters = &counters;
  context.time_zone = time_zone;
  context.time_zone_name = options.time_zone;
  context.reports = &reports;
  context.projection = &projection;
  context.timeline = &timeline;
  context.outcomes = &outcomes;
  context.clock = clock.get();
  context.config = config;
  api::Authenticator authenticator(&items, {jwt, options.act_for_others});
  context.auth = &authenticator;
  context.server_status = [&] { return CollectStatus(*log, runners); };

  api::IntakeServiceImpl intake_service(&context);
  api::LeadServiceImpl lead_service(&context);
  api::CrmServiceImpl crm_service(&context);
  api::PipelineServiceImpl pipeline_service(&context);
  api::EventServiceImpl event_service(&context);
  api::AdminServiceImpl admin_service(&context);
  // The embedded engine's whole state is this store; on Kafka the log is not.
  const std::string backup_dir =
      options.backup_dir.empty() ? data_dir + "/backups" : options.backup_dir;
  api::BackupServiceImpl backup_service(&context, log->KeepsChangelogs() ? nullptr : database,
                                        backup_dir);
  api::AccessServiceImpl access_service(&context);
  api::ReportServiceImpl report_service(&context);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!options.reflection) builder.SetOption(std::make_unique<WithoutReflection>());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(api::RpcMetricsInterceptor(
      &metrics::DefaultRegistry(), options.slow_request_ms > 0
                                       ? absl::Milliseconds(options.slow_request_ms)
                                       : absl::InfiniteDuration()));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  int port = 0;
  builder.AddListeningPort(options.listen, *credentials, &port);
  builder.SetMaxReceiveMessageSize(domain::InputLimits::kRequestBytes);
  builder.RegisterService(&intake_service);
  builder.RegisterService(&lead_service);
  builder.RegisterService(&crm_service);
  builder.RegisterService(&pipeline_service);
  builder.RegisterService(&event_service);
  builder.RegisterService(&admin_service);
  builder.RegisterService(&backup_service);
  builder.RegisterService(&access_service);
  builder.RegisterService(&report_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return Fail(absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.listen,
        options.tls.cert_file.empty()
            ? ""
            : " (or --tls-key is not the private key of --tls-cert, or a file is not PEM)")));
  }
  // Health checks say NOT_SERVING until the read models have caught up:
  // the server as a whole ("") and each service by its name.
  const std::vector<std::string> health_names = {"",
                                                 v1::IntakeService::service_full_name(),
                                                 v1::LeadService::service_full_name(),
                                                 v1::CrmService::service_full_name(),
                                                 v1::PipelineService::service_full_name(),
                                                 v1::EventService::service_full_name(),
                                                 v1::AdminService::service_full_name(),
                                                 v1::BackupService::service_full_name(),
                                                 v1::AccessService::service_full_name(),
                                                 v1::ReportService::service_full_name()};
  auto set_serving = [&](bool serving) {
    for (const auto& name : health_names) {
      server->GetHealthCheckService()->SetServingStatus(name, serving);
    }
  };
  set_serving(false);
  // Commands are decided with the pipelines the read model holds: let it
  // catch up with the event log first (a rebuilt or new replica starts
  // empty), so no command is decided with pipelines it has not seen yet.
  // Caught up means: up to the end the log has now (an empty poll is not
  // proof on Kafka, where a fetch may still be on its way).
  std::vector<int64_t> events_end;
  for (int32_t p = 0; p < log->PartitionCount(log::kEventsTopic); ++p) {
    auto end = log->EndOffset(log::kEventsTopic, p);
    if (!end.ok()) return Fail(end.status());
    events_end.push_back(*end);
  }
  const timespec no_wait{0, 0};
  absl::Duration backoff = absl::Milliseconds(10);
  // A long catch-up (a rebuild) says how far it is, every few seconds.
  const std::vector<int64_t> consumed_at_start = projection_runner.ConsumedOffsets();
  int64_t to_fold = 0;
  for (size_t p = 0; p < events_end.size(); ++p) {
    to_fold += std::max<int64_t>(0, events_end[p] - consumed_at_start[p]);
  }
  const absl::Time catch_up_start = absl::Now();
  absl::Time reported = catch_up_start;
  for (bool behind = true; behind;) {
    if (sigtimedwait(&stop_signals, nullptr, &no_wait) > 0) {
      logging::Info("leadflowd", "signal while catching up, shutting down");
      return 0;
    }
    if (absl::Now() - reported >= absl::Seconds(5)) {
      reported = absl::Now();
      int64_t folded = 0;
      const std::vector<int64_t> so_far = projection_runner.ConsumedOffsets();
      for (size_t p = 0; p < events_end.size(); ++p) {
        folded += std::max<int64_t>(0, std::min(so_far[p], events_end[p]) - consumed_at_start[p]);
      }
      const double seconds = absl::ToDoubleSeconds(reported - catch_up_start);
      const double rate = seconds > 0 ? static_cast<double>(folded) / seconds : 0;
      logging::Info(
          "leadflowd", "catching up",
          {{"events_folded", folded},
           {"events_to_fold", to_fold},
           {"events_per_second", static_cast<int64_t>(rate)},
           {"eta_seconds",
            rate > 0 ? static_cast<int64_t>(static_cast<double>(to_fold - folded) / rate) : -1}});
    }
    auto applied = projection_runner.RunOnce(absl::Milliseconds(50));
    if (!applied.ok()) {
      // Storage trouble that may pass (a full disk freed, a device back):
      // not serving, and trying again, as the running processors do.
      const absl::Status& trouble = applied.status();
      if (!absl::IsUnavailable(trouble) && !absl::IsResourceExhausted(trouble) &&
          !absl::IsAborted(trouble) && !absl::IsDeadlineExceeded(trouble)) {
        return Fail(trouble);
      }
      logging::Warning("leadflowd", "catching up: batch refused; retrying",
                       {{"processor", "projection"},
                        {"error", trouble.ToString()},
                        {"retry_in", absl::FormatDuration(backoff)}});
      const timespec pause = absl::ToTimespec(backoff);
      if (sigtimedwait(&stop_signals, nullptr, &pause) > 0) {
        logging::Info("leadflowd", "signal while catching up, shutting down");
        return 0;
      }
      backoff = std::min(backoff * 2, absl::Seconds(1));
      continue;
    }
    backoff = absl::Milliseconds(10);
    const std::vector<int64_t> consumed = projection_runner.ConsumedOffsets();
    behind = false;
    for (size_t p = 0; p < events_end.size(); ++p) behind = behind || consumed[p] < events_end[p];
  }
  authenticator.SetReady();
  for (auto* runner : runners) runner->Start();
  if (http_server != nullptr) http_server->ServeIntake(server->InProcessChannel({}));

  // Every call needs a credential: the first start makes the
  // administrator's, and every start makes sure it is in force.
  const std::string admin_key_file =
      options.admin_key_file.empty() ? data_dir + "/admin.key" : options.admin_key_file;
  auto admin_key = auth::LoadOrCreateKeyFile(admin_key_file);
  if (!admin_key.ok()) return Fail(admin_key.status());
  // Retried while the log cannot take it yet (Kafka brokers still
  // electing, partitions not assigned): the same command each time.
  for (absl::Status issued = absl::UnavailableError("");;) {
    issued = api::EnsureAdministratorKey(&context, admin_key->key, "admin");
    if (issued.ok()) break;
    if (!absl::IsUnavailable(issued) && !absl::IsDeadlineExceeded(issued)) {
      return Fail(absl::Status(issued.code(), absl::StrCat("--admin-key-file ", admin_key_file,
                                                           ": ", issued.message())));
    }
    logging::Warning("leadflowd", "administrator key not issued yet; retrying",
                     {{"status", issued.ToString()}});
    if (sigtimedwait(&stop_signals, nullptr, &no_wait) > 0) return 0;
  }
  logging::Info(
      "leadflowd",
      absl::StrCat(
          "administrator API key ", admin_key->created ? "written to " : "from ", admin_key_file,
          admin_key->created ? " (keep it secret; the CLI reads LEADFLOW_TOKEN_FILE)" : ""));
  if (jwt != nullptr) {
    logging::Info("leadflowd",
                  absl::StrCat("JWTs of ", options.jwt.issuer, " for ",
                               absl::StrJoin(options.jwt.audiences, ", "), " accepted (",
                               jwt->key_count(), " keys from ", options.jwt.jwks_file, ")"));
  }
  caught_up = true;
  set_serving(true);

  const std::string host = options.listen.substr(0, options.listen.rfind(':'));
  logging::Info("leadflowd",
                absl::StrCat("engine ", log->EngineName(),
                             options.kafka_brokers.empty() ? "" : " at ", options.kafka_brokers,
                             ", data dir ", data_dir, ", ", options.partitions, " partitions"));
  if (!options.tls.cert_file.empty()) {
    logging::Info("leadflowd",
                  absl::StrCat("TLS with ", options.tls.cert_file,
                               options.tls.client_ca_file.empty()
                                   ? ""
                                   : absl::StrCat("; client certificates signed by ",
                                                  options.tls.client_ca_file, " required")));
  }
  // Scripts read the port off the end of this line: no fields after it.
  logging::Info("leadflowd", absl::StrCat("listening on ", host, ":", port));

  // Waits for a stop signal, checking four times a second that the log can
  // go on and whether writes go through (health checks follow).
  absl::Status health = absl::OkStatus();
  bool serving = true;
  const timespec tick{0, 250'000'000};
  while (true) {
    const int signal_number = sigtimedwait(&stop_signals, nullptr, &tick);
    if (signal_number > 0) {
      logging::Info("leadflowd", "signal received, shutting down", {{"signal", signal_number}});
      break;
    }
    const absl::Status ready = Readiness(*log, runners);
    if (ready.ok() != serving) {
      serving = ready.ok();
      set_serving(serving);
      if (serving) {
        logging::Info("leadflowd", "writes go through again; serving");
      } else {
        logging::Warning("leadflowd", "not serving", {{"reason", ready.ToString()}});
      }
    }
    health = log->Health();
    if (absl::IsDataLoss(health)) {
      // What is in memory may not be on the disk: a clean stop would flush
      // it there. Leave at once; the restart recovers what is durable.
      logging::Error("leadflowd", "stopping at once", {{"reason", health.ToString()}});
      std::_Exit(75);  // EX_TEMPFAIL: restart me
    }
    if (!health.ok()) {
      // Its partitions stay stuck while it lives: leave, so the group hands
      // them to other instances and a supervisor restarts this one.
      logging::Error("leadflowd", "shutting down", {{"reason", health.ToString()}});
      break;
    }
  }
  std::fflush(stdout);
  set_serving(false);
  caught_up = false;
  event_service.Shutdown();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (http_server != nullptr) http_server->Stop();
  for (auto* runner : runners) runner->Stop();
  relay.Stop();
  return health.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil is built with its mutex deadlock detection on, which
  // keeps a lock graph on every Lock (visible in the server's profile). The
  // test builds keep it; the server does not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Options options;
  CLI::App app{"leadflowd: event-sourced lead processing server (embedded log or Kafka)"};
  app.add_option("--data-dir", options.data_dir, "Directory for the log, state and read models")
      ->capture_default_str();
  app.add_option("--listen", options.listen, "gRPC address; port 0 picks a free one")
      ->capture_default_str();
  app.add_option("--partitions", options.partitions,
                 "Partitions per topic (fixed once the data dir exists)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--supervisors", options.supervisors,
                 "User ids allowed to reopen junk leads (comma-separated)")
      ->delimiter(',');
  app.add_option("--default-region", options.default_region,
                 "Region of phone numbers written without a country code (ISO 3166)")
      ->capture_default_str();
  app.add_option("--sync-writes", options.sync_writes,
                 "fsync every write (off: a power cut may lose the last writes; a crash does not)")
      ->capture_default_str();
  app.add_option("--reflection", options.reflection,
                 "Serve gRPC server reflection (the schema, for grpcurl and other tools)")
      ->capture_default_str();
  app.add_flag("--rebuild-read-models", options.rebuild_read_models,
               "Drop the read models and rebuild them from the event log at start");
  app.add_option("--time-zone", options.time_zone,
                 "Time zone whose days the counters count (\"due today\"), e.g. Europe/Moscow")
      ->capture_default_str();
  app.add_option("--clock-file", options.clock_file,
                 "Read the current time from this file (RFC 3339) instead of the system clock: "
                 "for tests and what-if runs");
  app.add_option("--tls-cert", options.tls.cert_file,
                 "Serve gRPC over TLS with this certificate (PEM; with --tls-key)")
      ->group("TLS");
  app.add_option("--tls-key", options.tls.key_file, "The certificate's private key (PEM)")
      ->group("TLS");
  app.add_option("--tls-client-ca", options.tls.client_ca_file,
                 "Require client certificates signed by these CAs (PEM): mutual TLS")
      ->group("TLS");
  app.add_option("--act-for-others", options.act_for_others,
                 "Clients (client-certificate common names) that may name another actor in "
                 "their requests; every other mutual-TLS client acts as itself (comma-separated; "
                 "API keys say it themselves)")
      ->delimiter(',')
      ->group("TLS");
  app.add_flag("--allow-plaintext", options.tls.allow_plaintext,
               "Serve plaintext gRPC on a non-loopback --listen address and plaintext HTTP on a "
               "non-loopback --http-listen address (otherwise only loopback is served so)")
      ->group("TLS");
  app.add_option("--admin-key-file", options.admin_key_file,
                 "The administrator's API key: made here at first start (mode 0600) when the "
                 "file does not exist, issued from it when it does (default: "
                 "<data-dir>/admin.key)")
      ->group("Access");
  app.add_option("--jwt-jwks", options.jwt.jwks_file,
                 "Accept JWTs signed by these keys (a JWKS file of RSA or P-256 keys: RS256, "
                 "ES256)")
      ->check(CLI::ExistingFile)
      ->group("Access");
  app.add_option("--jwt-issuer", options.jwt.issuer, "The iss JWTs must carry")->group("Access");
  app.add_option("--jwt-audience", options.jwt.audiences,
                 "An aud JWTs must carry one of (comma-separated)")
      ->delimiter(',')
      ->group("Access");
  app.add_option("--jwt-principal-claim", options.jwt.principal_claim,
                 "The claim naming the caller (the actor of its events)")
      ->capture_default_str()
      ->group("Access");
  app.add_option("--jwt-roles-claim", options.jwt.roles_claim,
                 "The claim listing the caller's roles (an array of strings)")
      ->capture_default_str()
      ->group("Access");
  app.add_option("--kafka-brokers", options.kafka_brokers,
                 "Run on Apache Kafka (bootstrap servers host:port,…) instead of the embedded log");
  app.add_option("--kafka-config", options.kafka_config,
                 "librdkafka settings for every Kafka client, one key=value a line "
                 "(security.protocol, sasl.*, ssl.*): secrets stay off the command line")
      ->check(CLI::ExistingFile);
  app.add_option("--kafka-transactional-id", options.kafka_transactional_id,
                 "Producer transactional.id (default: derived from the data dir)");
  app.add_option("--kafka-replication", options.kafka_replication,
                 "Replication factor of topics leadflowd creates")
      ->capture_default_str();
  app.add_option("--kafka-session-timeout-ms", options.kafka_session_timeout_ms,
                 "An instance silent this long loses its partitions to the others")
      ->check(CLI::Range(1000, 300000))
      ->capture_default_str();
  app.add_option("--kafka-transaction-timeout-ms", options.kafka_transaction_timeout_ms,
                 "The broker aborts a transaction of a dead instance after this long")
      ->check(CLI::Range(1000, 900000))
      ->capture_default_str();
  app.add_option("--kafka-standby-interval-ms", options.kafka_standby_interval_ms,
                 "How often the changelogs of partitions other instances own are replayed into "
                 "the local state (a warm standby, so a takeover replays only the last moments); "
                 "0 turns it off")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str();
  app.add_option("--kafka-max-record-bytes", options.kafka_max_record_bytes,
                 "The largest record the brokers take (their message.max.bytes): a bigger "
                 "channel event or command is refused with INVALID_ARGUMENT, and an input whose "
                 "output would be bigger goes to the dead-letter topic")
      ->check(CLI::Range(1024, 1 << 30))
      ->capture_default_str();
  app.add_option("--inject-faults", options.inject_faults,
                 "Fail storage calls, for tests of failure handling: OP:SKIP:TIMES:CODE, e.g. "
                 "sync:200:1:unavailable (repeatable)")
      ->group("Testing");
  app.add_option("--backup-dir", options.backup_dir,
                 "Where `leadflow backup create` puts backups of the embedded engine "
                 "(default: <data-dir>/backups; better on another disk)")
      ->group("Operations");
  app.add_option("--http-listen,--metrics-listen", options.http_listen,
                 "Serve HTTP here (host:port; port 0 picks a free one): Prometheus /metrics, "
                 "/healthz and /readyz probes, and intake (POST /v1/channel-events, "
                 "/v1/forms/{form_id}); off when not given")
      ->group("Operations");
  app.add_option("--log-level", options.log_level, "debug, info, warning or error")
      ->capture_default_str()
      ->group("Operations");
  app.add_option("--log-format", options.log_format,
                 "text (for people) or json (one object per line, for log pipelines)")
      ->capture_default_str()
      ->group("Operations");
  app.add_option("--slow-request-ms", options.slow_request_ms,
                 "Log gRPC calls that take longer than this (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->group("Operations");
  // Every setting also from a YAML file of the flags' names and from the
  // environment: a flag wins over LEADFLOWD_<NAME>, which wins over the file.
  // LEADFLOWD_CONFIG names the file when --config does not; it must exist.
  const char* config_from_env = std::getenv("LEADFLOWD_CONFIG");
  const bool config_in_env = config_from_env != nullptr && *config_from_env != '\0';
  app.set_config("--config", config_in_env ? config_from_env : "",
                 "YAML file of settings named as the flags (data-dir: /var/lib/leadflow); "
                 "LEADFLOWD_* environment variables override it, flags override both "
                 "(Env:LEADFLOWD_CONFIG)",
                 config_in_env)
      ->group("Operations");
  app.config_formatter(std::make_shared<YamlFlagConfig>(&app));
  app.allow_config_extras(CLI::config_extras_mode::error);
  for (CLI::Option* option : app.get_options({})) {
    if (option->get_lnames().empty()) continue;
    const std::string& name = option->get_lnames().front();
    if (name == "help" || name == "config") continue;
    option->envname(EnvNameOf(name));
  }
  CLI11_PARSE(app, argc, argv);
  return Run(options);
}
