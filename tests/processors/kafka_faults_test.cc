// The processors on the Kafka engine (librdkafka's mock cluster, in this
// process) while the brokers misbehave: thousands of intake events under a
// broker going down and up, partition leaders moving, slow round trips and
// failing requests. Nothing is lost, nothing is doubled, and processing
// resumes on its own.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "leadflow/domain/channel_event_rules.h"
#include "leadflow/log/kafka_log.h"
#include "leadflow/log/kafka_mock_cluster.h"
#include "leadflow/processors/command_processor.h"
#include "leadflow/processors/crm_projection.h"
#include "leadflow/processors/follow_up_processor.h"
#include "leadflow/processors/intake_processor.h"
#include "leadflow/store/database.h"
#include "support/broker_faults.h"
#include "support/channel_events.h"
#include "support/intake_scenario.h"
#include "support/server_process.h"

namespace leadflow::processors {
namespace {

constexpr int32_t kPartitions = 4;

// Intake → commands → projection on the mock cluster, each processor on its
// own thread as in leadflowd.
struct KafkaPipeline {
  explicit KafkaPipeline(size_t max_record_bytes = 1000000) {
    auto started = log::KafkaMockCluster::Start(3);
    REQUIRE(started.ok());
    cluster = *std::move(started);
    for (const auto& topic : log::StandardTopics(kPartitions)) {
      REQUIRE(cluster->CreateTopic(topic, 3).ok());
    }
    auto opened = store::Database::Open({dir.path(), false});
    REQUIRE(opened.ok());
    db = *std::move(opened);
    log::KafkaLog::Options options;
    options.bootstrap_servers = cluster->bootstrap_servers();
    options.topics = log::StandardTopics(kPartitions);
    options.transactional_id = "kafka-faults";
    options.timeout = absl::Seconds(20);
    options.max_record_bytes = max_record_bytes;
    auto opened_log = log::KafkaLog::Open(db.get(), options);
    INFO(opened_log.status().ToString());
    REQUIRE(opened_log.ok());
    log = *std::move(opened_log);
    leads = std::make_unique<LeadReadModel>(db.get());
    items = std::make_unique<ItemReadModel>(db.get());
    counters = std::make_unique<ActivityCounters>(db.get());
    reports = std::make_unique<ReportReadModel>(db.get());
    intake = std::make_unique<IntakeProcessor>(leads.get(), items.get(), domain::DomainConfig(),
                                               kPartitions);
    commands = std::make_unique<CommandProcessor>(&outcomes, items.get(), domain::DomainConfig(),
                                                  kPartitions);
    timeline = std::make_unique<TimelineReadModel>(db.get());
    projection = std::make_unique<CrmProjection>(CrmProjection::Models{
        leads.get(), items.get(), timeline.get(), counters.get(), reports.get()});
    follow_ups = std::make_unique<FollowUpProcessor>();
    for (Processor* p : std::vector<Processor*>{intake.get(), commands.get(), projection.get(),
                                                follow_ups.get()}) {
      runners.push_back(std::make_unique<ProcessorRunner>(log.get(), db.get(), p));
      REQUIRE(runners.back()->Init().ok());
    }
    for (auto& runner : runners) runner->Start();
  }

  // Appends channel events to intake as a client would: a failed append is
  // sent again (it may have landed; intake drops repeats by event id).
  void Publish(const std::vector<v1::ChannelEvent>& events, int* retries) {
    for (size_t start = 0; start < events.size(); start += 100) {
      std::vector<log::OutgoingRecord> records;
      for (size_t i = start; i < std::min(start + 100, events.size()); ++i) {
        auto normalized = domain::NormalizeChannelEvent(events[i], domain::DomainConfig());
        REQUIRE(normalized.ok());
        records.push_back(log::MakeRecord(std::string(log::kIntakeTopic),
                                          domain::IntakeRoutingKey(*normalized),
                                          normalized->SerializeAsString()));
      }
      while (!log->Append(records).ok()) {
        REQUIRE(++*retries < 200);
        absl::SleepFor(absl::Milliseconds(50));
      }
    }
  }

  // Every partition held and consumed to its end, twice in a row.
  bool WaitUntilIdle(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    int idle_checks = 0;
    while (absl::Now() < deadline) {
      bool idle = true;
      for (const auto& runner : runners) {
        const std::string topic = runner->processor().InputTopic();
        const auto consumed = runner->ConsumedOffsets();
        for (int32_t p = 0; p < kPartitions; ++p) {
          auto end = log->EndOffset(topic, p);
          idle = idle && runner->Holds(p) && end.ok() && consumed[p] >= *end;
        }
      }
      idle_checks = idle ? idle_checks + 1 : 0;
      if (idle_checks == 2) return true;
      absl::SleepFor(absl::Milliseconds(200));
    }
    return false;
  }

  // How far the runner of `processor` has consumed its input, over all
  // partitions (on Kafka, transaction markers take offsets too).
  int64_t Consumed(const std::string& processor) const {
    int64_t total = 0;
    for (const auto& runner : runners) {
      if (runner->processor().Name() != processor) continue;
      for (int64_t offset : runner->ConsumedOffsets()) total += offset;
    }
    return total;
  }

  std::vector<v1::Lead> AllLeads() {
    LeadReadModel::Query query;
    query.page_size = 1000;
    auto page = leads->List(query);
    REQUIRE(page.ok());
    return page->leads;
  }

  leadflow::testing::TempDir dir;
  std::unique_ptr<log::KafkaMockCluster> cluster;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<log::KafkaLog> log;
  std::unique_ptr<LeadReadModel> leads;
  std::unique_ptr<TimelineReadModel> timeline;
  CommandOutcomes outcomes;
  std::unique_ptr<IntakeProcessor> intake;
  std::unique_ptr<ItemReadModel> items;
  std::unique_ptr<ActivityCounters> counters;
  std::unique_ptr<ReportReadModel> reports;
  std::unique_ptr<CommandProcessor> commands;
  std::unique_ptr<CrmProjection> projection;
  std::unique_ptr<FollowUpProcessor> follow_ups;
  // Last: stopped and destroyed before what they run.
  std::vector<std::unique_ptr<ProcessorRunner>> runners;
};

TEST_CASE("kafka: 3,000 intake events under broker faults give exactly the expected leads") {
  KafkaPipeline pipeline;
  rd_kafka_mock_cluster_t* mock = pipeline.cluster->raw();
  // The 1,000-event scenario three times over under new event ids: the
  // same 600 people, each with three times the communications.
  leadflow::testing::Scenario scenario;
  std::vector<v1::ChannelEvent> events;
  for (int round = 0; round < 3; ++round) {
    for (v1::ChannelEvent event : scenario.events) {
      event.set_id(absl::StrCat("r", round, "-", event.id()));
      events.push_back(std::move(event));
    }
  }
  leadflow::testing::Scenario expected = scenario;
  for (auto& [key, count] : expected.expected_communications) count *= 3;

  leadflow::testing::BrokerFaults faults(mock, 3, log::StandardTopics(kPartitions));
  int retries = 0;
  pipeline.Publish(events, &retries);
  // Faults go on while the processors work through the load: until the
  // last of them, the projection, is 1,000 offsets into the events (the
  // load makes about 3,000), so every step has worked under them. Under
  // faults on a loaded 2-core machine that can take minutes.
  const absl::Time limit = absl::Now() + absl::Seconds(300);
  while (pipeline.Consumed("projection") < 1000 && absl::Now() < limit) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  const int64_t consumed_under_faults = pipeline.Consumed("projection");
  faults.Stop();
  INFO("events consumed under faults: " << consumed_under_faults);
  REQUIRE(consumed_under_faults >= 1000);
  // Resumes on its own: nothing is restarted by hand.
  REQUIRE(pipeline.WaitUntilIdle(absl::Seconds(120)));
  INFO("publish retries: " << retries);
  leadflow::testing::CheckLeadsMatch(expected, pipeline.AllLeads());
}

TEST_CASE(
    "kafka: an input whose output is over the brokers' record limit is dead-lettered and "
    "its partition goes on") {
  // Records up to 6,000 bytes: an email with a 4,000-byte body fits as a
  // channel event, but its CreateLead command (the lead with the body as
  // comments, and the event it came from) does not.
  KafkaPipeline pipeline(6000);
  v1::ChannelEvent big = leadflow::testing::EmailEvent("big-email", "big@example.com");
  big.mutable_email()->set_body(std::string(4000, 'x'));
  auto normalized_big = domain::NormalizeChannelEvent(big, domain::DomainConfig());
  REQUIRE(normalized_big.ok());
  const int32_t partition =
      log::PartitionForKey(domain::IntakeRoutingKey(*normalized_big), kPartitions);
  // Calls of ten people whose intake partition is the big email's, after it.
  std::vector<v1::ChannelEvent> events = {big};
  for (int i = 0; events.size() < 11; ++i) {
    v1::ChannelEvent call =
        leadflow::testing::CallEvent(absl::StrCat("after-", i), absl::StrCat("+7916", 5500000 + i));
    auto normalized = domain::NormalizeChannelEvent(call, domain::DomainConfig());
    REQUIRE(normalized.ok());
    if (log::PartitionForKey(domain::IntakeRoutingKey(*normalized), kPartitions) == partition) {
      events.push_back(call);
    }
  }
  int retries = 0;
  pipeline.Publish(events, &retries);
  REQUIRE(pipeline.WaitUntilIdle(absl::Seconds(60)));
  CHECK(pipeline.AllLeads().size() == 10);

  // The email is on the dead-letter topic, as it came, with the reason.
  auto reader = pipeline.log->OpenReader(std::string(log::kDeadLetterTopic), {0});
  REQUIRE(reader.ok());
  std::vector<log::Record> dead;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (dead.empty() && absl::Now() < deadline) {
    auto polled = (*reader)->Poll(10, absl::Milliseconds(200));
    REQUIRE(polled.ok());
    for (auto& record : *polled) dead.push_back(std::move(record));
  }
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].value == normalized_big->SerializeAsString());
  CHECK(dead[0].HeaderValue("leadflow_processor") == "intake");
  INFO(dead[0].HeaderValue("leadflow_reason"));
  CHECK(absl::StrContains(dead[0].HeaderValue("leadflow_reason"), "over the limit of 6000 bytes"));

  // A record over the limit appended directly is refused for good, not as
  // something to retry, and nothing of its append is written.
  const int32_t k_partition = log::PartitionForKey("k", kPartitions);
  const int64_t end_before = *pipeline.log->EndOffset(std::string(log::kIntakeTopic), k_partition);
  absl::StatusOr<std::vector<log::Position>> appended = pipeline.log->Append(
      {log::MakeRecord(std::string(log::kIntakeTopic), "k", std::string(7000, 'y')),
       log::MakeRecord(std::string(log::kIntakeTopic), "k", "small")});
  CHECK(appended.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(log::IsUnwritable(appended.status()));
  CHECK(*pipeline.log->EndOffset(std::string(log::kIntakeTopic), k_partition) == end_before);
}

}  // namespace
}  // namespace leadflow::processors
