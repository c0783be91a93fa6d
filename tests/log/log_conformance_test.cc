// One conformance suite for the Log interface, run against both engines:
// the embedded RocksDB log, and Kafka through librdkafka's mock cluster
// (real Kafka protocol, in process, nothing on disk).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "leadflow/log/embedded_log.h"
#include "leadflow/log/kafka_log.h"
#include "leadflow/log/kafka_mock_cluster.h"
#include "leadflow/store/database.h"
#include "support/broker_faults.h"
#include "support/server_process.h"

namespace leadflow::log {
namespace {

using leadflow::testing::TempDir;

const std::vector<TopicSpec> kTopics = {{"t", 4}};

std::unique_ptr<store::StateStore> OpenDatabase(const TempDir& dir) {
  auto opened = store::Database::Open({dir.path(), false});
  REQUIRE(opened.ok());
  return *std::move(opened);
}

struct EmbeddedEngine {
  EmbeddedEngine() { Reopen(); }
  void Reopen() {
    log.reset();
    db.reset();
    db = OpenDatabase(dir);
    auto opened_log = EmbeddedLog::Open(db.get(), kTopics);
    REQUIRE(opened_log.ok());
    log = *std::move(opened_log);
  }
  TempDir dir;
  std::unique_ptr<store::StateStore> db;
  std::unique_ptr<Log> log;
  KafkaMockCluster* cluster = nullptr;
};

struct KafkaEngine {
  KafkaEngine() {
    auto started = KafkaMockCluster::Start(3);
    REQUIRE(started.ok());
    owned_cluster = *std::move(started);
    cluster = owned_cluster.get();
    // The mock cluster has no controller for CreateTopics; create them as
    // leadflow-dev-broker does. (On real Kafka, KafkaLog::Open creates them.)
    for (const auto& topic : kTopics) REQUIRE(cluster->CreateTopic(topic, 3).ok());
    Reopen();
  }
  void Reopen() {
    log.reset();
    db.reset();
    db = OpenDatabase(dir);
    KafkaLog::Options options;
    options.bootstrap_servers = cluster->bootstrap_servers();
    options.topics = kTopics;
    options.transactional_id = "conformance";
    options.timeout = absl::Seconds(20);
    auto opened_log = KafkaLog::Open(db.get(), options);
    INFO(opened_log.status().ToString());
    REQUIRE(opened_log.ok());
    log = *std::move(opened_log);
  }
  std::unique_ptr<KafkaMockCluster> owned_cluster;
  KafkaMockCluster* cluster = nullptr;
  TempDir dir;
  std::unique_ptr<store::StateStore> db;
  std::unique_ptr<Log> log;
};

OutgoingRecord Rec(const std::string& key, const std::string& value) {
  return MakeRecord("t", key, value, {{"ce_id", "id-" + value}});
}

// Reads from `start` until `count` records came (or 20 s passed), then
// half a second more, so a duplicate or a record that should not be there
// has the chance to show.
std::vector<Record> ReadAll(const Log& log, size_t count, const std::vector<int64_t>& start = {}) {
  auto reader = log.OpenReader("t", start);
  REQUIRE(reader.ok());
  std::vector<Record> out;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  absl::Time settled = absl::InfiniteFuture();
  while (absl::Now() < std::min(deadline, settled)) {
    auto records = (*reader)->Poll(1000, absl::Milliseconds(50));
    REQUIRE(records.ok());
    for (auto& r : *records) out.push_back(std::move(r));
    if (out.size() >= count && settled == absl::InfiniteFuture()) {
      settled = absl::Now() + absl::Milliseconds(500);
    }
  }
  return out;
}

TEMPLATE_TEST_CASE("records of one key keep their order in the partition the key names", "",
                   EmbeddedEngine, KafkaEngine) {
  TestType engine;
  std::map<std::pair<int32_t, int64_t>, std::string> appended;
  for (int round = 0; round < 10; ++round) {
    std::vector<OutgoingRecord> batch;
    for (int k = 0; k < 6; ++k)
      batch.push_back(Rec(absl::StrCat("key-", k), absl::StrCat(round * 6 + k)));
    auto positions = engine.log->Append(std::move(batch));
    REQUIRE(positions.ok());
    for (int k = 0; k < 6; ++k) {
      const auto& pos = (*positions)[k];
      CHECK(pos.partition == PartitionForKey(absl::StrCat("key-", k), 4));
      appended[{pos.partition, pos.offset}] = absl::StrCat(round * 6 + k);
    }
  }
  auto records = ReadAll(*engine.log, 60);
  REQUIRE(records.size() == 60);  // nothing lost, nothing twice
  std::map<std::string, int> last;
  for (const auto& r : records) {
    CHECK(appended.at({r.partition, r.offset}) == r.value);
    CHECK(r.HeaderValue("ce_id") == "id-" + r.value);
    const int value = std::stoi(r.value);
    auto it = last.find(r.key);
    if (it != last.end()) CHECK(value > it->second);
    last[r.key] = value;
  }
  CHECK(last.size() == 6);
}

TEMPLATE_TEST_CASE("a reader starts at the offsets it is given and can seek back", "",
                   EmbeddedEngine, KafkaEngine) {
  TestType engine;
  std::vector<Position> positions;
  for (int i = 0; i < 10; ++i) {
    auto appended = engine.log->Append({Rec("same", absl::StrCat(i))});
    REQUIRE(appended.ok());
    positions.push_back(appended->front());
  }
  const int32_t p = positions[0].partition;
  std::vector<int64_t> start(4, 0);
  for (int32_t q = 0; q < 4; ++q) start[q] = *engine.log->EndOffset("t", q);
  start[p] = positions[5].offset;
  auto reader = engine.log->OpenReader("t", start);
  REQUIRE(reader.ok());
  std::vector<Record> got;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (got.size() < 5 && absl::Now() < deadline) {
    auto records = (*reader)->Poll(100, absl::Milliseconds(100));
    REQUIRE(records.ok());
    got.insert(got.end(), records->begin(), records->end());
  }
  REQUIRE(got.size() == 5);
  CHECK(got.front().value == "5");
  CHECK(got.back().value == "9");
  REQUIRE((*reader)->Seek(p, positions[0].offset).ok());
  std::vector<Record> again;
  while (again.empty() && absl::Now() < deadline) {
    auto records = (*reader)->Poll(1, absl::Milliseconds(100));
    REQUIRE(records.ok());
    again = *records;
  }
  REQUIRE(again.size() == 1);
  CHECK(again.front().value == "0");
}

TEMPLATE_TEST_CASE("a drained reader's position reaches the end offset", "", EmbeddedEngine,
                   KafkaEngine) {
  TestType engine;
  for (int i = 0; i < 5; ++i) REQUIRE(engine.log->Append({Rec("k", absl::StrCat(i))}).ok());
  REQUIRE(engine.log->Append({Rec("k", "5"), Rec("k", "6")}).ok());
  const int32_t p = PartitionForKey("k", 4);
  auto reader = engine.log->OpenReader("t", {});
  REQUIRE(reader.ok());
  size_t got = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline &&
         (got < 7 || (*reader)->Position(p) < *engine.log->EndOffset("t", p))) {
    auto records = (*reader)->Poll(100, absl::Milliseconds(50));
    REQUIRE(records.ok());
    got += records->size();
  }
  CHECK(got == 7);
  CHECK((*reader)->Position(p) == *engine.log->EndOffset("t", p));
}

TEMPLATE_TEST_CASE("after a reopen nothing is lost and offsets go on", "", EmbeddedEngine,
                   KafkaEngine) {
  TestType engine;
  int64_t last_offset = -1;
  for (int i = 0; i < 20; ++i) {
    auto appended = engine.log->Append({Rec("k", absl::StrCat(i))});
    REQUIRE(appended.ok());
    last_offset = appended->front().offset;
  }
  engine.Reopen();
  auto records = ReadAll(*engine.log, 20);
  REQUIRE(records.size() == 20);
  for (int i = 0; i < 20; ++i) CHECK(records[i].value == absl::StrCat(i));
  auto appended = engine.log->Append({Rec("k", "20")});
  REQUIRE(appended.ok());
  CHECK(appended->front().offset > last_offset);
}

TEMPLATE_TEST_CASE("records and local state commit together, positions known before the write", "",
                   EmbeddedEngine, KafkaEngine) {
  TestType engine;
  auto state = engine.db->NewBatch();
  state->Put(store::Keyspace::kState, "offset", "5");
  std::vector<Position> seen;
  auto positions = engine.log->AppendWithState(
      {Rec("a", "1"), Rec("b", "2")}, state.get(),
      [&](const std::vector<Position>& pos, store::StateBatch* batch) {
        seen = pos;
        batch->Put(store::Keyspace::kState, "last", absl::StrCat(pos.back().offset));
      },
      nullptr);
  REQUIRE(positions.ok());
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].offset == (*positions)[1].offset);
  CHECK(*engine.db->Get(store::Keyspace::kState, "offset").value() == "5");
  CHECK(*engine.db->Get(store::Keyspace::kState, "last").value() ==
        absl::StrCat((*positions)[1].offset));
  CHECK(ReadAll(*engine.log, 2).size() == 2);
}

TEMPLATE_TEST_CASE("a pinned partition wins over the key; a deferred record comes last, completed",
                   "", EmbeddedEngine, KafkaEngine) {
  TestType engine;
  OutgoingRecord pinned = Rec("a", "pinned");
  pinned.partition = 3;
  OutgoingRecord reply = Rec("b", "reply");
  reply.partition = 3;
  reply.complete = [](const std::vector<Position>& positions, OutgoingRecord* out) {
    out->value = absl::StrCat("after ", positions[0].offset);
  };
  auto state = engine.db->NewBatch();
  std::vector<Position> seen;
  auto positions = engine.log->AppendWithState(
      {pinned, reply, Rec("c", "plain")}, state.get(),
      [&](const std::vector<Position>& pos, store::StateBatch*) { seen = pos; }, nullptr);
  REQUIRE(positions.ok());
  REQUIRE(positions->size() == 3);
  CHECK((*positions)[0].partition == 3);
  CHECK((*positions)[1].partition == 3);
  CHECK((*positions)[1].offset > (*positions)[0].offset);  // appended after the others
  CHECK((*positions)[2].partition == PartitionForKey("c", 4));
  CHECK(seen.size() == 3);
  CHECK(seen[1].offset == (*positions)[1].offset);
  auto reader = engine.log->OpenPartitionReader("t", 3, (*positions)[1].offset);
  REQUIRE(reader.ok());
  std::vector<Record> got;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (got.empty() && absl::Now() < deadline) {
    auto records = (*reader)->Poll(10, absl::Milliseconds(100));
    REQUIRE(records.ok());
    got = *records;
  }
  REQUIRE(got.size() == 1);  // only partition 3, only from the offset given
  CHECK(got[0].partition == 3);
  CHECK(got[0].value == absl::StrCat("after ", (*positions)[0].offset));
}

// Records what a group reader tells it; starts every partition at `start`.
struct RecordingListener : RebalanceListener {
  explicit RecordingListener(int64_t start_offset) : start(start_offset) {}
  absl::StatusOr<std::vector<int64_t>> OnAssigned(const std::vector<int32_t>& partitions) override {
    assigned.insert(assigned.end(), partitions.begin(), partitions.end());
    return std::vector<int64_t>(partitions.size(), start);
  }
  void OnRevoked(const std::vector<int32_t>& partitions) override {
    revoked.insert(revoked.end(), partitions.begin(), partitions.end());
  }
  int64_t start;
  std::vector<int32_t> assigned;
  std::vector<int32_t> revoked;
};

TEMPLATE_TEST_CASE("a lone group member holds every partition, from where its listener says", "",
                   EmbeddedEngine, KafkaEngine) {
  TestType engine;
  for (int32_t p = 0; p < 4; ++p) {
    for (int i = 0; i < 3; ++i) {
      OutgoingRecord record = Rec("k", absl::StrCat(p, "-", i));
      record.partition = p;
      REQUIRE(engine.log->Append({record}).ok());
    }
  }
  RecordingListener listener(2);
  auto member = engine.log->OpenGroupReader("t", "conformance-group", &listener);
  REQUIRE(member.ok());
  CHECK((*member)->group() == "conformance-group");
  std::vector<Record> got;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (got.size() < 4 && absl::Now() < deadline) {
    auto records = (*member)->Poll(100, absl::Milliseconds(100));
    REQUIRE(records.ok());
    got.insert(got.end(), records->begin(), records->end());
  }
  CHECK((*member)->Assignment() == std::vector<int32_t>{0, 1, 2, 3});
  std::sort(listener.assigned.begin(), listener.assigned.end());
  CHECK(listener.assigned == std::vector<int32_t>{0, 1, 2, 3});
  REQUIRE(got.size() == 4);  // each partition's last record only
  for (const auto& record : got) {
    CHECK(record.offset == 2);
    CHECK(record.value == absl::StrCat(record.partition, "-2"));
  }
  // Input progress commits with the outputs of the same unit.
  auto state = engine.db->NewBatch();
  InputProgress input{member->get(), 1, 3};
  CHECK(engine.log->AppendWithState({Rec("out", "x")}, state.get(), nullptr, &input).ok());
}

TEMPLATE_TEST_CASE("appending to an unknown topic fails and appends nothing", "", EmbeddedEngine,
                   KafkaEngine) {
  TestType engine;
  auto appended = engine.log->Append({Rec("a", "1"), MakeRecord("nope", "a", "2")});
  REQUIRE_FALSE(appended.ok());
  CHECK(appended.status().code() == absl::StatusCode::kNotFound);
  CHECK(engine.log->Append({Rec("a", "after")}).ok());
  auto records = ReadAll(*engine.log, 1);
  REQUIRE(records.size() == 1);
  CHECK(records[0].value == "after");
}

TEST_CASE("kafka: failed and retried produce requests write every record exactly once") {
  KafkaEngine engine;
  // Produce (ApiKey 0) fails with retriable errors and a dropped connection;
  // the idempotent producer retries without duplicating.
  rd_kafka_mock_push_request_errors(
      engine.cluster->raw(), 0, 4, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT,
      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
  for (int i = 0; i < 30; ++i) {
    auto appended = engine.log->Append({Rec(absl::StrCat("k", i % 3), absl::StrCat(i))});
    INFO(appended.status().ToString());
    REQUIRE(appended.ok());
  }
  auto records = ReadAll(*engine.log, 30);
  CHECK(records.size() == 30);
  std::map<std::string, int> seen;
  for (const auto& r : records) ++seen[r.value];
  CHECK(seen.size() == 30);
  for (const auto& [value, count] : seen) CHECK(count == 1);
}

}  // namespace
}  // namespace leadflow::log

namespace leadflow::log {
namespace {

TEST_CASE("kafka: a producer fenced by the broker reports it, and appends fail") {
  KafkaEngine engine;
  REQUIRE(engine.log->Append({Rec("k", "before")}).ok());
  CHECK(engine.log->Health().ok());
  // The broker answers the next EndTxn (API key 26) as it answers a
  // producer whose transactional id another instance has taken over.
  rd_kafka_mock_push_request_errors(engine.cluster->raw(), 26, 1,
                                    RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
  CHECK_FALSE(engine.log->Append({Rec("k", "fenced")}).ok());
  const absl::Status health = engine.log->Health();
  CHECK(health.code() == absl::StatusCode::kUnavailable);
  CHECK(health.message().find("FENCED") != absl::string_view::npos);
  CHECK_FALSE(engine.log->Append({Rec("k", "after")}).ok());
}

TEST_CASE("kafka: under broker faults during a load nothing is lost or doubled") {
  KafkaEngine engine;
  rd_kafka_mock_cluster_t* mock = engine.cluster->raw();
  // Faults while the load runs: a broker down and up, partition leaders
  // moving, slow round trips, failing produce requests.
  leadflow::testing::BrokerFaults faults(mock, 3, kTopics);
  // 2,000 records in transactions of 50. A failed append is retried, as a
  // processor retries a batch; an aborted transaction leaves nothing visible.
  int failures = 0;
  std::vector<std::string> errors;
  const absl::Time load_start = absl::Now();
  for (int batch = 0; batch < 40; ++batch) {
    std::vector<OutgoingRecord> records;
    for (int i = 0; i < 50; ++i) {
      const int n = batch * 50 + i;
      records.push_back(Rec(absl::StrCat("k", n % 17), absl::StrCat(n)));
    }
    while (true) {
      auto appended = engine.log->Append(records);
      if (appended.ok()) break;
      ++failures;
      errors.push_back(appended.status().ToString());
      REQUIRE(failures < 100);
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  faults.Stop();
  const absl::Duration load_time = absl::Now() - load_start;
  const absl::Time read_start = absl::Now();
  auto records = ReadAll(*engine.log, 2000);
  std::fprintf(stderr, "fault load: appends %s (%d retried), read %s\n",
               absl::FormatDuration(load_time).c_str(), failures,
               absl::FormatDuration(absl::Now() - read_start).c_str());
  std::map<std::string, int> seen;
  for (const auto& r : records) ++seen[r.value];
  CHECK(seen.size() == 2000);
  int doubled = 0;
  for (const auto& [value, count] : seen) doubled += count > 1 ? 1 : 0;
  for (const auto& e : errors) UNSCOPED_INFO("append failed: " << e);
  CHECK(doubled == 0);
  CHECK(records.size() == 2000);
  for (const auto& e : errors) UNSCOPED_INFO("append failed: " << e);
}

}  // namespace
}  // namespace leadflow::log
