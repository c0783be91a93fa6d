// One conformance suite for the Log interface, run against both engines:
// the embedded RocksDB log, and Kafka through librdkafka's mock cluster
// (real Kafka protocol, in process, nothing on disk).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <thread>
#include <type_traits>

#include "absl/strings/numbers.h"
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
  // `wait`: how long the log waits on the brokers (KafkaLog::Options).
  explicit KafkaEngine(absl::Duration wait = absl::Seconds(20)) : timeout(wait) {
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
    options.timeout = timeout;
    auto opened_log = KafkaLog::Open(db.get(), options);
    INFO(opened_log.status().ToString());
    REQUIRE(opened_log.ok());
    log = *std::move(opened_log);
  }
  absl::Duration timeout;
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

// One append of a concurrent test: what it appended and what it got.
struct Appended {
  std::vector<std::string> values;  // in input order
  std::vector<Position> positions;
  std::vector<Position> seen;  // by before_write
};

bool SamePositions(const std::vector<Position>& a, const std::vector<Position>& b) {
  return std::equal(
      a.begin(), a.end(), b.begin(), b.end(), [](const Position& x, const Position& y) {
        return x.topic == y.topic && x.partition == y.partition && x.offset == y.offset;
      });
}

// Records at the positions the appends got, and how many appends were
// not found there; per writer, each partition's offsets must grow in the
// order it appended.
struct Landing {
  int misplaced = 0;
  int out_of_order = 0;
};
Landing CheckLanding(const std::vector<Record>& records,
                     const std::vector<std::vector<Appended>>& writers) {
  std::map<std::pair<int32_t, int64_t>, std::string> at;
  for (const auto& r : records) at[{r.partition, r.offset}] = r.value;
  Landing landing;
  for (const auto& appends : writers) {
    std::map<int32_t, int64_t> last;
    for (const auto& append : appends) {
      for (size_t j = 0; j < append.values.size(); ++j) {
        const Position& pos = append.positions[j];
        auto found = at.find({pos.partition, pos.offset});
        if (pos.topic != "t" || found == at.end() || found->second != append.values[j]) {
          ++landing.misplaced;
        }
        auto [previous, first] = last.try_emplace(pos.partition, pos.offset);
        if (!first) {
          if (pos.offset <= previous->second) ++landing.out_of_order;
          previous->second = pos.offset;
        }
      }
    }
  }
  return landing;
}

TEMPLATE_TEST_CASE("appends from many threads land whole, once, in order, where they were told", "",
                   EmbeddedEngine, KafkaEngine) {
  TestType engine;
  // Members of two groups, so that one transaction can carry the input
  // offsets of several groups and partitions.
  RecordingListener listener(0);
  std::vector<std::unique_ptr<GroupReader>> members;
  for (const char* group : {"concurrent-a", "concurrent-b"}) {
    auto member = engine.log->OpenGroupReader("t", group, &listener);
    REQUIRE(member.ok());
    members.push_back(*std::move(member));
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (auto& member : members) {
    while (member->Assignment().size() < 4 && absl::Now() < deadline) {
      REQUIRE(member->Poll(10, absl::Milliseconds(100)).ok());
    }
    REQUIRE(member->Assignment().size() == 4);
  }

  constexpr int kThreads = 8;
  constexpr int kAppends = 50;
  std::vector<std::vector<Appended>> results(kThreads, std::vector<Appended>(kAppends));
  std::vector<std::string> errors(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ++ready;
      while (ready < kThreads) std::this_thread::yield();
      for (int i = 0; i < kAppends; ++i) {
        Appended& out = results[t][i];
        std::vector<OutgoingRecord> records;
        // Every tenth append has no records: with input (i = 9, 39), a
        // transaction of offsets only; without, none at all.
        const int plain = i % 10 == 9 ? 0 : 1 + i % 3;
        for (int j = 0; j < plain; ++j) {
          out.values.push_back(absl::StrCat(t, "/", i, "/", j));
          records.push_back(Rec(absl::StrCat("w", t, "-", j % 2), out.values.back()));
        }
        if (plain > 0 && i % 4 == 1) {
          OutgoingRecord reply = MakeRecord("t", absl::StrCat("w", t, "-0"), "");
          reply.partition = PartitionForKey(reply.key, 4);
          reply.complete = [t, i](const std::vector<Position>& positions, OutgoingRecord* record) {
            record->value = absl::StrCat(t, "/", i, "/reply@", positions[0].partition, ":",
                                         positions[0].offset);
          };
          out.values.push_back("");  // known once the append returns
          records.push_back(std::move(reply));
        }
        InputProgress input{members[t % 2].get(), t % 4, i + 1};
        auto batch = engine.db->NewBatch();
        const std::string state_key = absl::StrCat("concurrent/", t, "/", i);
        auto appended = engine.log->AppendWithState(
            std::move(records), batch.get(),
            [&out, &state_key](const std::vector<Position>& positions, store::StateBatch* b) {
              out.seen = positions;
              b->Put(store::Keyspace::kState, state_key, absl::StrCat(positions.size()));
            },
            i % 3 == 0 ? &input : nullptr);
        if (!appended.ok()) {
          errors[t] = absl::StrCat("append ", t, "/", i, ": ", appended.status().ToString());
          return;
        }
        out.positions = *std::move(appended);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& error : errors) {
    INFO(error);
    REQUIRE(error.empty());
  }

  size_t total = 0;
  int64_t transactional = 0;
  int unseen = 0;
  int unwritten = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kAppends; ++i) {
      Appended& append = results[t][i];
      REQUIRE(append.positions.size() == append.values.size());
      if (!SamePositions(append.seen, append.positions)) ++unseen;
      if (!append.values.empty() && append.values.back().empty()) {
        append.values.back() = absl::StrCat(t, "/", i, "/reply@", append.positions[0].partition,
                                            ":", append.positions[0].offset);
      }
      auto stored = engine.db->Get(store::Keyspace::kState, absl::StrCat("concurrent/", t, "/", i));
      if (!stored.ok() || !stored->has_value() || **stored != absl::StrCat(append.values.size())) {
        ++unwritten;
      }
      total += append.values.size();
      if (!append.values.empty() || i % 3 == 0) ++transactional;
    }
  }
  CHECK(unseen == 0);     // before_write saw the positions the append returned
  CHECK(unwritten == 0);  // and its writes reached the store
  auto records = ReadAll(*engine.log, total);
  CHECK(records.size() == total);  // nothing lost, nothing twice
  const Landing landing = CheckLanding(records, results);
  CHECK(landing.misplaced == 0);
  CHECK(landing.out_of_order == 0);
  if constexpr (std::is_same_v<TestType, KafkaEngine>) {
    const KafkaLog::TransactionStats stats = static_cast<KafkaLog&>(*engine.log).Stats();
    std::fprintf(stderr, "concurrent appends: %lld in %lld transactions\n",
                 static_cast<long long>(stats.appends), static_cast<long long>(stats.transactions));
    CHECK(stats.appends == transactional);
    CHECK(stats.transactions < stats.appends);  // appends did share transactions
    CHECK(stats.retried_alone == 0);
  }
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

TEST_CASE(
    "kafka: an append that cannot succeed fails alone, not those it shared a transaction with") {
  KafkaEngine engine;
  auto& kafka = static_cast<KafkaLog&>(*engine.log);
  constexpr int kThreads = 6;
  std::vector<std::vector<Appended>> results(kThreads);
  std::vector<std::string> errors(kThreads);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop || i < 5; ++i) {
        Appended append;
        std::vector<OutgoingRecord> records;
        for (int j = 0; j < 2; ++j) {
          append.values.push_back(absl::StrCat(t, "/", i, "/", j));
          records.push_back(Rec(absl::StrCat("w", t, "-", j), append.values.back()));
        }
        auto appended = engine.log->Append(std::move(records));
        if (!appended.ok()) {
          errors[t] = absl::StrCat("append ", t, "/", i, ": ", appended.status().ToString());
          return;
        }
        append.positions = *std::move(appended);
        results[t].push_back(std::move(append));
      }
    });
  }
  // Larger than the producer's message.max.bytes (1 MB): it can never be
  // appended. Sent until it has shared a transaction with others.
  int poisoned = 0;
  while (kafka.Stats().retried_alone == 0 && poisoned < 100) {
    ++poisoned;
    auto appended = engine.log->Append(
        {Rec("poison", "poison-first"), MakeRecord("t", "poison", std::string(2 << 20, 'x'))});
    INFO(appended.status().ToString());
    CHECK(appended.status().message().find("too large") != absl::string_view::npos);
    // Refused for good: not something to retry.
    CHECK(appended.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(IsUnwritable(appended.status()));
  }
  stop = true;
  for (auto& thread : threads) thread.join();
  std::fprintf(stderr, "poison: shared a transaction after %d appends\n", poisoned);
  CHECK(kafka.Stats().retried_alone > 0);
  for (const auto& error : errors) {
    INFO(error);
    CHECK(error.empty());
  }
  size_t total = 0;
  for (const auto& appends : results) {
    for (const auto& append : appends) total += append.values.size();
  }
  // The dev broker shows records of aborted transactions (see
  // docs/architecture.md), so what the aborted shared transactions carried
  // shows too: only where each good append landed is checked.
  auto records = ReadAll(*engine.log, total);
  const Landing landing = CheckLanding(records, results);
  CHECK(landing.misplaced == 0);
  CHECK(landing.out_of_order == 0);
}

TEST_CASE(
    "kafka: with the brokers away an append fails as retriable, readiness says so, and both "
    "recover when they return") {
  KafkaEngine engine(absl::Seconds(3));
  Log* log = engine.log.get();
  KafkaMockCluster* cluster = engine.cluster;
  REQUIRE(log->Append({Rec("k", "before")}).ok());
  CHECK(log->Readiness().ok());

  for (int broker = 1; broker <= 3; ++broker) {
    rd_kafka_mock_broker_set_down(cluster->raw(), broker);
  }
  absl::StatusOr<std::vector<Position>> away = log->Append({Rec("k", "away")});
  INFO(away.status().ToString());
  CHECK(away.status().code() == absl::StatusCode::kUnavailable);  // worth retrying
  CHECK(log->Readiness().code() == absl::StatusCode::kUnavailable);
  CHECK(log->Health().ok());  // trouble that passes, not a reason to exit

  for (int broker = 1; broker <= 3; ++broker) {
    rd_kafka_mock_broker_set_up(cluster->raw(), broker);
  }
  bool back = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!back && absl::Now() < deadline) back = log->Append({Rec("k", "back")}).ok();
  CHECK(back);
  CHECK(log->Readiness().ok());
}

TEST_CASE("kafka: a producer fenced by the broker reports it, and appends fail") {
  KafkaEngine engine;
  REQUIRE(engine.log->Append({Rec("k", "before")}).ok());
  CHECK(engine.log->Health().ok());
  // The broker answers the next EndTxn (API key 26) as it answers a
  // producer whose transactional id another instance has taken over.
  rd_kafka_mock_push_request_errors(engine.cluster->raw(), 26, 1,
                                    RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
  // Two records: a transaction (one record alone goes through the plain
  // producer, which has no transaction to end).
  CHECK_FALSE(engine.log->Append({Rec("k", "fenced"), Rec("k", "fenced-too")}).ok());
  const absl::Status health = engine.log->Health();
  CHECK(health.code() == absl::StatusCode::kUnavailable);
  CHECK(health.message().find("FENCED") != absl::string_view::npos);
  // Fenced, the instance takes nothing more, by either producer.
  CHECK_FALSE(engine.log->Append({Rec("k", "after")}).ok());
  CHECK_FALSE(engine.log->Append({Rec("k", "after"), Rec("k", "after-too")}).ok());
}

TEST_CASE("kafka: under broker faults during a load nothing is lost or doubled") {
  KafkaEngine engine;
  rd_kafka_mock_cluster_t* mock = engine.cluster->raw();
  // Faults while the load runs: a broker down and up, partition leaders
  // moving, slow round trips, failing produce requests.
  leadflow::testing::BrokerFaults faults(mock, 3, kTopics);
  // 2,000 records in transactions of 50. A failed append is retried, as a
  // processor retries a batch.
  int failures = 0;
  std::vector<std::string> errors;
  std::vector<Appended> appends;
  // Per batch, its appends that failed by aborting their transaction.
  std::vector<int> aborted(40, 0);
  const absl::Time load_start = absl::Now();
  for (int batch = 0; batch < 40; ++batch) {
    std::vector<OutgoingRecord> records;
    Appended append;
    for (int i = 0; i < 50; ++i) {
      const int n = batch * 50 + i;
      records.push_back(Rec(absl::StrCat("k", n % 17), absl::StrCat(n)));
      append.values.push_back(absl::StrCat(n));
    }
    while (true) {
      auto appended = engine.log->Append(records);
      if (appended.ok()) {
        append.positions = *std::move(appended);
        break;
      }
      ++failures;
      errors.push_back(appended.status().ToString());
      // Only a commit whose outcome is unknown may have made the batch
      // visible; every other failure aborted its transaction.
      CHECK(appended.status().message().find("outcome unknown") == std::string::npos);
      ++aborted[batch];
      // A producer failed for good is replaced, as leadflowd is restarted
      // when its log's health says so; the new one fences the old one's
      // open transaction.
      if (!engine.log->Health().ok()) engine.Reopen();
      REQUIRE(failures < 100);
      absl::SleepFor(absl::Milliseconds(50));
    }
    appends.push_back(std::move(append));
  }
  faults.Stop();
  const absl::Duration load_time = absl::Now() - load_start;
  const absl::Time read_start = absl::Now();
  auto records = ReadAll(*engine.log, 2000);
  std::fprintf(stderr, "fault load: appends %s (%d retried), read %s\n",
               absl::FormatDuration(load_time).c_str(), failures,
               absl::FormatDuration(absl::Now() - read_start).c_str());
  for (const auto& e : errors) UNSCOPED_INFO("append failed: " << e);
  // Nothing lost: every record is there, at the positions its append was
  // told, in order.
  std::map<std::string, int> seen;
  for (const auto& r : records) ++seen[r.value];
  CHECK(seen.size() == 2000);
  const Landing landing = CheckLanding(records, {appends});
  CHECK(landing.misplaced == 0);
  CHECK(landing.out_of_order == 0);
  // Nothing doubled by a commit: a batch that never failed shows once. The
  // dev broker ignores the isolation level (docs/architecture.md), so what
  // an aborted transaction had written shows too: a batch shows at most
  // once more per aborted attempt (a real broker hides those).
  int doubled = 0;
  for (const auto& [value, count] : seen) {
    int n = 0;
    (void)absl::SimpleAtoi(value, &n);
    if (count > 1 + aborted[n / 50]) ++doubled;
  }
  CHECK(doubled == 0);
}

}  // namespace
}  // namespace leadflow::log
