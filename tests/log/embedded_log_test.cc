#include "leadflow/log/embedded_log.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "leadflow/store/database.h"
#include "leadflow/store/fault_injecting_state_store.h"
#include "leadflow/store/memory_state_store.h"
#include "support/server_process.h"

namespace leadflow::log {
namespace {

using leadflow::testing::TempDir;

std::unique_ptr<store::Database> OpenDb(const TempDir& dir) {
  auto db = store::Database::Open({dir.path(), false});
  REQUIRE(db.ok());
  return *std::move(db);
}

std::unique_ptr<EmbeddedLog> OpenLog(store::StateStore* db, int partitions = 4) {
  auto log = EmbeddedLog::Open(db, {{"t", partitions}});
  REQUIRE(log.ok());
  return *std::move(log);
}

OutgoingRecord Rec(const std::string& key, const std::string& value) {
  return MakeRecord("t", key, value, {{"h", "v-" + value}});
}

TEST_CASE("records of one key keep their order in one partition") {
  TempDir dir;
  auto db = OpenDb(dir);
  auto log = OpenLog(db.get());
  std::vector<Position> positions;
  for (int i = 0; i < 50; ++i) {
    auto appended = log->Append({Rec(absl::StrCat("k", i % 5), absl::StrCat(i))});
    REQUIRE(appended.ok());
    positions.push_back(appended->front());
  }
  for (int k = 0; k < 5; ++k) {
    const int32_t partition = PartitionForKey(absl::StrCat("k", k), 4);
    auto records = log->Read("t", partition, 0, 1000);
    REQUIRE(records.ok());
    int last = -1;
    for (const auto& r : *records) {
      if (r.key != absl::StrCat("k", k)) continue;
      const int value = std::stoi(r.value);
      CHECK(value > last);
      CHECK(value % 5 == k);
      CHECK(r.HeaderValue("h") == "v-" + r.value);
      last = value;
    }
    CHECK(last >= 45);
  }
}

TEST_CASE("offsets are dense per partition and reads start where asked") {
  TempDir dir;
  auto db = OpenDb(dir);
  auto log = OpenLog(db.get(), 1);
  std::vector<OutgoingRecord> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(Rec("same", absl::StrCat(i)));
  auto positions = log->Append(std::move(batch));
  REQUIRE(positions.ok());
  for (int i = 0; i < 10; ++i) CHECK((*positions)[i].offset == i);
  CHECK(*log->EndOffset("t", 0) == 10);
  auto tail = log->Read("t", 0, 7, 100);
  REQUIRE(tail.ok());
  REQUIRE(tail->size() == 3);
  CHECK(tail->front().offset == 7);
  CHECK(tail->front().value == "7");
  auto limited = log->Read("t", 0, 0, 4);
  REQUIRE(limited.ok());
  CHECK(limited->size() == 4);
  auto past_end = log->Read("t", 0, 10, 4);
  REQUIRE(past_end.ok());
  CHECK(past_end->empty());
}

TEST_CASE("the log survives close and reopen, and continues its offsets") {
  TempDir dir;
  {
    auto db = OpenDb(dir);
    auto log = OpenLog(db.get());
    for (int i = 0; i < 20; ++i) REQUIRE(log->Append({Rec(absl::StrCat("k", i), "x")}).ok());
  }
  auto db = OpenDb(dir);
  auto log = OpenLog(db.get());
  int64_t total = 0;
  for (int p = 0; p < 4; ++p) total += *log->EndOffset("t", p);
  CHECK(total == 20);
  auto appended = log->Append({Rec("k0", "y")});
  REQUIRE(appended.ok());
  const auto& pos = appended->front();
  auto records = log->Read("t", pos.partition, 0, 1000);
  REQUIRE(records.ok());
  CHECK(records->back().offset == pos.offset);
  CHECK(static_cast<int64_t>(records->size()) == pos.offset + 1);
}

TEST_CASE("reopening with another partition count is refused") {
  TempDir dir;
  auto db = OpenDb(dir);
  { OpenLog(db.get(), 4); }
  auto reopened = EmbeddedLog::Open(db.get(), {{"t", 8}});
  REQUIRE_FALSE(reopened.ok());
  CHECK(reopened.status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("records and local state commit together, with positions known before the write") {
  TempDir dir;
  auto db = OpenDb(dir);
  auto log = OpenLog(db.get(), 1);
  auto state = db->NewBatch();
  state->Put(store::Keyspace::kState, "offset", "5");
  std::vector<Position> seen;
  auto positions = log->AppendWithState(
      {Rec("a", "1"), Rec("a", "2")}, state.get(),
      [&](const std::vector<Position>& pos, store::StateBatch* batch) {
        seen = pos;
        batch->Put(store::Keyspace::kState, "last", absl::StrCat(pos.back().offset));
      },
      nullptr);
  REQUIRE(positions.ok());
  CHECK(seen.size() == 2);
  CHECK(*db->Get(store::Keyspace::kState, "offset").value() == "5");
  CHECK(*db->Get(store::Keyspace::kState, "last").value() == "1");
  CHECK(*log->EndOffset("t", 0) == 2);
}

TEST_CASE("appending to an unknown topic fails and appends nothing") {
  TempDir dir;
  auto db = OpenDb(dir);
  auto log = OpenLog(db.get(), 1);
  auto appended = log->Append({Rec("a", "1"), MakeRecord("nope", "a", "2")});
  REQUIRE_FALSE(appended.ok());
  CHECK(appended.status().code() == absl::StatusCode::kNotFound);
  CHECK(*log->EndOffset("t", 0) == 0);
}

TEST_CASE("a waiting reader wakes when records arrive") {
  TempDir dir;
  auto db = OpenDb(dir);
  auto log = OpenLog(db.get(), 2);
  CHECK_FALSE(log->WaitForRecords("t", {0, 0}, absl::Milliseconds(10)));
  // Catch2's assertions are not thread-safe: the writer's result is
  // checked after the join.
  absl::Status appended;
  std::thread writer([&] { appended = log->Append({Rec("k", "v")}).status(); });
  CHECK(log->WaitForRecords("t", {0, 0}, absl::Seconds(10)));
  writer.join();
  CHECK(appended.ok());
}

TEST_CASE("on a power cut, appended records survive and a state-only group goes") {
  store::MemoryStateStore db;
  {
    auto log = OpenLog(&db, 1);
    REQUIRE(log->Append({Rec("a", "1"), Rec("a", "2")}).ok());
    // A read model's batch: no records, so no fsync (it derives from
    // records already durable, and is redone from them).
    auto state = db.NewBatch();
    state->Put(store::Keyspace::kViews, "offset/t/0", "2");
    REQUIRE(log->AppendWithState({}, state.get(), nullptr, nullptr).ok());
    CHECK(db.Get(store::Keyspace::kViews, "offset/t/0")->has_value());
  }
  db.DropUnsyncedWrites();
  CHECK_FALSE(db.Get(store::Keyspace::kViews, "offset/t/0")->has_value());
  auto log = OpenLog(&db, 1);
  CHECK(*log->EndOffset("t", 0) == 2);
  auto records = log->Read("t", 0, 0, 10);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 2);
  CHECK(records->at(1).value == "2");
  CHECK(records->at(1).HeaderValue("h") == "v-2");
}

TEST_CASE("records answered by their processing are readable at once and durable with its unit") {
  store::MemoryStateStore db;
  {
    auto log = OpenLog(&db, 1);
    // A command from the API: readable before any fsync...
    REQUIRE(log->AppendAnsweredByProcessing({Rec("a", "1")}, absl::InfiniteFuture()).ok());
    auto read = log->Read("t", 0, 0, 10);
    REQUIRE(read.ok());
    CHECK(read->size() == 1);
  }
  // ...so a power cut before its processing takes it back (its writer,
  // never answered, retries).
  db.DropUnsyncedWrites();
  {
    auto log = OpenLog(&db, 1);
    CHECK(*log->EndOffset("t", 0) == 0);
    REQUIRE(log->AppendAnsweredByProcessing({Rec("a", "1")}, absl::InfiniteFuture()).ok());
    // The processing unit appends records after it and fsyncs: both stay.
    REQUIRE(log->Append({Rec("a", "2")}).ok());
  }
  db.DropUnsyncedWrites();
  auto log = OpenLog(&db, 1);
  CHECK(*log->EndOffset("t", 0) == 2);
  auto records = log->Read("t", 0, 0, 10);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 2);
  CHECK(records->at(0).value == "1");
}

TEST_CASE("a failed group fsync publishes nothing and stops the log until a restart") {
  store::MemoryStateStore memory;
  {
    store::FaultInjectingStateStore db(&memory);
    auto log = OpenLog(&db, 1);
    REQUIRE(log->Append({Rec("a", "1")}).ok());
    db.FailSyncs(absl::UnavailableError("disk gone"));
    auto failed = log->Append({Rec("a", "2")});
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.status().code() == absl::StatusCode::kUnavailable);
    CHECK(failed.status().message().find("disk gone") != absl::string_view::npos);
    // Readers never see the record whose fsync failed...
    CHECK(*log->EndOffset("t", 0) == 1);
    auto read = log->Read("t", 0, 0, 10);
    REQUIRE(read.ok());
    CHECK(read->size() == 1);
    // ...and the log takes nothing more, even once the disk answers again:
    // what it holds in memory may not be on the disk.
    db.Heal();
    CHECK(absl::IsDataLoss(log->Health()));
    CHECK(log->Append({Rec("a", "3")}).status().code() == absl::StatusCode::kUnavailable);
    auto state = db.NewBatch();
    state->Put(store::Keyspace::kViews, "offset/t/0", "1");
    CHECK_FALSE(log->AppendWithState({}, state.get(), nullptr, nullptr).ok());
    CHECK(db.Calls(store::FaultInjectingStateStore::Op::kSync) == 2);
  }
  // The restart recovers what is durable: the first record, and offsets
  // going on from it.
  memory.DropUnsyncedWrites();
  auto log = OpenLog(&memory, 1);
  CHECK(log->Health().ok());
  CHECK(*log->EndOffset("t", 0) == 1);
  auto next = log->Append({Rec("a", "2")});
  REQUIRE(next.ok());
  CHECK(next->front().offset == 1);
  auto records = log->Read("t", 0, 0, 10);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 2);
  CHECK(records->at(0).value == "1");
  CHECK(records->at(1).value == "2");
}

TEST_CASE("a failed write appends nothing and frees its offsets") {
  store::MemoryStateStore memory;
  store::FaultInjectingStateStore db(&memory);
  auto log = OpenLog(&db, 1);
  db.FailWrites(absl::UnavailableError("disk full"));
  auto failed = log->Append({Rec("a", "1")});
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().message() == "disk full");
  CHECK(*log->EndOffset("t", 0) == 0);
  auto next = log->Append({Rec("a", "2")});
  REQUIRE(next.ok());
  CHECK(next->front().offset == 0);
  auto records = log->Read("t", 0, 0, 10);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 1);
  CHECK(records->front().value == "2");
}

TEST_CASE("keys land where Kafka's default partitioner puts them") {
  // murmur2 reference values of the Java client (as in librdkafka's own unit
  // test), partition = (hash & 0x7fffffff) % n.
  CHECK(PartitionForKey("kafka", 100) == 1348980580 % 100);
  CHECK(PartitionForKey("giberish123456789", 100) == 257239820 % 100);
  CHECK(PartitionForKey("", 100) == 0x106e08d9 % 100);
}

TEST_CASE("CloudEvents time headers are RFC 3339 in UTC, as absl formats them", "[log]") {
  // Consumers parse ce_time; its bytes are those of the general formatter.
  std::vector<absl::Time> times = {
      absl::UnixEpoch(),
      absl::FromUnixSeconds(1796303778),
      absl::FromUnixMillis(1796303778250),
      absl::FromUnixNanos(1796303778000000001),
      absl::FromUnixMicros(951782400123456),  // 2000-02-29
      absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone()) +
          absl::Nanoseconds(999999999)};
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 2000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    times.push_back(absl::FromUnixNanos(static_cast<int64_t>(x % 4102444800000000000ull)));
  }
  for (absl::Time time : times) {
    const std::vector<Header> headers = CloudEventHeaders("id", "type", "src", time, "ct");
    auto at = std::find_if(headers.begin(), headers.end(),
                           [](const Header& h) { return h.key == "ce_time"; });
    REQUIRE(at != headers.end());
    CHECK(at->value == absl::FormatTime(absl::RFC3339_full, time, absl::UTCTimeZone()));
  }
}

}  // namespace
}  // namespace leadflow::log
