// One conformance suite for the StateStore port, run against both
// implementations: RocksDB in a temp data dir (store::Database) and the
// in-memory fake (store::MemoryStateStore). Then what only one of them
// does: RocksDB's reopen, the fake's power cut, and the fault injector.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "leadflow/store/database.h"
#include "leadflow/store/fault_injecting_state_store.h"
#include "leadflow/store/memory_state_store.h"
#include "support/server_process.h"

namespace leadflow::store {
namespace {

using leadflow::testing::TempDir;
using Values = std::vector<std::optional<std::string>>;
using Pairs = std::vector<std::pair<std::string, std::string>>;

struct RocksStore {
  RocksStore() { Reopen(); }
  void Reopen() {
    db.reset();
    auto opened = Database::Open({dir.path(), false});
    REQUIRE(opened.ok());
    db = *std::move(opened);
  }
  StateStore& store() { return *db; }
  TempDir dir;
  std::unique_ptr<Database> db;
};

struct MemoryStore {
  StateStore& store() { return db; }
  MemoryStateStore db;
};

// Keys with the bytes that trip up string handling: NUL, and 0xff (which
// has no successor, so a prefix of it has no end key).
const std::string kNul("a\0b", 3);
const std::string kFf = "a\xff";
const std::string kFfFf = "\xff\xff";

void Put(StateStore& store, Keyspace keyspace, const std::vector<std::string>& keys,
         absl::string_view value_prefix = "v:") {
  auto batch = store.NewBatch();
  for (const auto& key : keys) batch->Put(keyspace, key, absl::StrCat(value_prefix, key));
  REQUIRE(store.Write(batch.get()).ok());
}

std::optional<std::string> Get(const StateStore& store, Keyspace keyspace, absl::string_view key) {
  auto value = store.Get(keyspace, key);
  REQUIRE(value.ok());
  return *value;
}

// What Scan visits, stopping after `limit` keys (0: none).
Pairs ScanAll(const StateStore& store, Keyspace keyspace, absl::string_view prefix,
              absl::string_view start = "", size_t limit = 1000) {
  Pairs out;
  absl::Status status =
      store.Scan(keyspace, prefix, start, [&](absl::string_view key, absl::string_view value) {
        out.emplace_back(key, value);
        return out.size() < limit;
      });
  REQUIRE(status.ok());
  return out;
}

std::vector<std::string> Keys(const Pairs& pairs) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : pairs) keys.push_back(key);
  return keys;
}

std::optional<std::string> Last(const StateStore& store, Keyspace keyspace,
                                absl::string_view prefix) {
  auto last = store.LastKeyWithPrefix(keyspace, prefix);
  REQUIRE(last.ok());
  return *last;
}

TEST_CASE("keyspaces are named after the data dir's column families") {
  // Existing data dirs open unchanged only while these stay as they are.
  CHECK(KeyspaceName(Keyspace::kLog) == "log");
  CHECK(KeyspaceName(Keyspace::kState) == "state");
  CHECK(KeyspaceName(Keyspace::kViews) == "views");
}

TEMPLATE_TEST_CASE("a key reads as absent, then as put, overwritten and deleted", "", RocksStore,
                   MemoryStore) {
  TestType fixture;
  StateStore& store = fixture.store();
  CHECK(Get(store, Keyspace::kState, "k") == std::nullopt);
  auto batch = store.NewBatch();
  batch->Put(Keyspace::kState, "k", "one");
  CHECK(batch->Count() == 1);
  CHECK(Get(store, Keyspace::kState, "k") == std::nullopt);  // not before the write
  REQUIRE(store.Write(batch.get()).ok());
  CHECK(Get(store, Keyspace::kState, "k") == "one");

  auto overwrite = store.NewBatch();
  overwrite->Put(Keyspace::kState, "k", "two");
  REQUIRE(store.Write(overwrite.get()).ok());
  CHECK(Get(store, Keyspace::kState, "k") == "two");

  auto empty_value = store.NewBatch();
  empty_value->Put(Keyspace::kState, "empty", "");
  REQUIRE(store.Write(empty_value.get()).ok());
  CHECK(Get(store, Keyspace::kState, "empty") == "");

  auto deletion = store.NewBatch();
  deletion->Delete(Keyspace::kState, "k");
  deletion->Delete(Keyspace::kState, "never-there");
  CHECK(deletion->Count() == 2);
  REQUIRE(store.Write(deletion.get()).ok());
  CHECK(Get(store, Keyspace::kState, "k") == std::nullopt);
  CHECK(Get(store, Keyspace::kState, "empty") == "");

  auto empty = store.NewBatch();
  CHECK(empty->Count() == 0);
  CHECK(store.Write(empty.get()).ok());
}

TEMPLATE_TEST_CASE("keyspaces are separate", "", RocksStore, MemoryStore) {
  TestType fixture;
  StateStore& store = fixture.store();
  auto batch = store.NewBatch();
  batch->Put(Keyspace::kLog, "k", "log");
  batch->Put(Keyspace::kState, "k", "state");
  batch->Put(Keyspace::kViews, "k", "views");
  batch->Put(Keyspace::kViews, "views-only", "x");
  REQUIRE(store.Write(batch.get()).ok());
  CHECK(Get(store, Keyspace::kLog, "k") == "log");
  CHECK(Get(store, Keyspace::kState, "k") == "state");
  CHECK(Get(store, Keyspace::kViews, "k") == "views");
  CHECK(Get(store, Keyspace::kState, "views-only") == std::nullopt);
  CHECK(Keys(ScanAll(store, Keyspace::kLog, "")) == std::vector<std::string>{"k"});

  auto deletion = store.NewBatch();
  deletion->Delete(Keyspace::kState, "k");
  REQUIRE(store.Write(deletion.get()).ok());
  CHECK(Get(store, Keyspace::kState, "k") == std::nullopt);
  CHECK(Get(store, Keyspace::kLog, "k") == "log");
  CHECK(Get(store, Keyspace::kViews, "k") == "views");
}

TEMPLATE_TEST_CASE("a batch applies whole, in the order of its writes", "", RocksStore,
                   MemoryStore) {
  TestType fixture;
  StateStore& store = fixture.store();
  Put(store, Keyspace::kState, {"existing"});
  auto batch = store.NewBatch();
  batch->Put(Keyspace::kState, "put-then-deleted", "x");
  batch->Delete(Keyspace::kState, "put-then-deleted");
  batch->Delete(Keyspace::kState, "existing");
  batch->Put(Keyspace::kState, "existing", "back");
  batch->Put(Keyspace::kState, "twice", "first");
  batch->Put(Keyspace::kState, "twice", "second");
  batch->Put(Keyspace::kViews, "other keyspace", "y");
  CHECK(batch->Count() == 7);
  REQUIRE(store.Write(batch.get()).ok());
  CHECK(Get(store, Keyspace::kState, "put-then-deleted") == std::nullopt);
  CHECK(Get(store, Keyspace::kState, "existing") == "back");
  CHECK(Get(store, Keyspace::kState, "twice") == "second");
  CHECK(Get(store, Keyspace::kViews, "other keyspace") == "y");

  // Unsynced writes are readable at once too; Sync changes nothing visible.
  auto unsynced = store.NewBatch();
  unsynced->Put(Keyspace::kState, "unsynced", "u");
  unsynced->Delete(Keyspace::kState, "twice");
  REQUIRE(store.WriteUnsynced(unsynced.get()).ok());
  CHECK(Get(store, Keyspace::kState, "unsynced") == "u");
  CHECK(Get(store, Keyspace::kState, "twice") == std::nullopt);
  REQUIRE(store.Sync().ok());
  CHECK(Get(store, Keyspace::kState, "unsynced") == "u");
}

TEMPLATE_TEST_CASE("a batch of another store is refused and applies nothing", "", RocksStore,
                   MemoryStore) {
  TestType fixture;
  MemoryStateStore other;
  auto foreign = other.NewBatch();
  foreign->Put(Keyspace::kState, "k", "v");
  absl::Status written = fixture.store().Write(foreign.get());
  CHECK(written.code() == absl::StatusCode::kInvalidArgument);
  CHECK(fixture.store().WriteUnsynced(foreign.get()).code() == absl::StatusCode::kInvalidArgument);
  CHECK(Get(fixture.store(), Keyspace::kState, "k") == std::nullopt);
}

TEMPLATE_TEST_CASE("MultiGet answers every key in order, hits and misses", "", RocksStore,
                   MemoryStore) {
  TestType fixture;
  StateStore& store = fixture.store();
  Put(store, Keyspace::kViews, {"a", "c", kNul, kFf});
  Put(store, Keyspace::kState, {"b"});
  auto values = store.MultiGet(Keyspace::kViews, {"c", "b", "a", "missing", kNul, kFf, "a", ""});
  REQUIRE(values.ok());
  CHECK(*values == Values{"v:c", std::nullopt, "v:a", std::nullopt, "v:" + kNul, "v:" + kFf, "v:a",
                          std::nullopt});
  auto none = store.MultiGet(Keyspace::kViews, {});
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEMPLATE_TEST_CASE("Scan visits a prefix's keys from a start, bytewise, until told to stop", "",
                   RocksStore, MemoryStore) {
  TestType fixture;
  StateStore& store = fixture.store();
  const std::string a0 = std::string("a\0", 2);
  Put(store, Keyspace::kViews,
      {"a", a0, kNul, "a/1", "a/2", "a/10", kFf, "ab", "b", "", kFfFf, "\xff", "\x01"});
  Put(store, Keyspace::kState, {"a/state"});

  // Bytewise: NUL first, 0xff last (as unsigned bytes, not signed chars).
  CHECK(Keys(ScanAll(store, Keyspace::kViews, "a")) ==
        std::vector<std::string>{"a", a0, kNul, "a/1", "a/10", "a/2", "ab", kFf});
  CHECK(Keys(ScanAll(store, Keyspace::kViews, "")) ==
        std::vector<std::string>{"", "\x01", "a", a0, kNul, "a/1", "a/10", "a/2", "ab", kFf, "b",
                                 "\xff", kFfFf});
  CHECK(ScanAll(store, Keyspace::kViews, "a/") ==
        Pairs{{"a/1", "v:a/1"}, {"a/10", "v:a/10"}, {"a/2", "v:a/2"}});
  CHECK(Keys(ScanAll(store, Keyspace::kViews, a0)) == std::vector<std::string>{a0, kNul});

  // From a start inside the prefix; before it (the prefix wins); past it.
  CHECK(Keys(ScanAll(store, Keyspace::kViews, "a/", "a/10")) ==
        std::vector<std::string>{"a/10", "a/2"});
  CHECK(Keys(ScanAll(store, Keyspace::kViews, "a/", "a/10\x01")) ==
        std::vector<std::string>{"a/2"});
  CHECK(Keys(ScanAll(store, Keyspace::kViews, "a/", "0")) ==
        std::vector<std::string>{"a/1", "a/10", "a/2"});
  CHECK(ScanAll(store, Keyspace::kViews, "a/", "a0").empty());
  CHECK(ScanAll(store, Keyspace::kViews, "no-such-prefix").empty());

  // A prefix of 0xff bytes has no end key: it runs to the last key.
  CHECK(Keys(ScanAll(store, Keyspace::kViews, "\xff")) == std::vector<std::string>{"\xff", kFfFf});
  CHECK(Keys(ScanAll(store, Keyspace::kViews, kFfFf)) == std::vector<std::string>{kFfFf});
  CHECK(Keys(ScanAll(store, Keyspace::kViews, "a\xff")) == std::vector<std::string>{kFf});

  // Early stop: visit said false on the second key.
  CHECK(Keys(ScanAll(store, Keyspace::kViews, "a/", "", 2)) ==
        std::vector<std::string>{"a/1", "a/10"});
  CHECK(Keys(ScanAll(store, Keyspace::kViews, "a", a0, 1)) == std::vector<std::string>{a0});
}

TEMPLATE_TEST_CASE("Scan's visitor may read the store", "", RocksStore, MemoryStore) {
  TestType fixture;
  StateStore& store = fixture.store();
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) keys.push_back(absl::StrCat("ix/", absl::Dec(i, absl::kZeroPad3)));
  Put(store, Keyspace::kViews, keys);
  Put(store, Keyspace::kViews, {"item"});
  int visited = 0;
  REQUIRE(store
              .Scan(Keyspace::kViews, "ix/", "",
                    [&](absl::string_view key, absl::string_view value) {
                      CHECK(Get(store, Keyspace::kViews, "item") == "v:item");
                      CHECK(Get(store, Keyspace::kViews, key) == std::string(value));
                      ++visited;
                      return true;
                    })
              .ok());
  CHECK(visited == 200);
}

TEMPLATE_TEST_CASE("LastKeyWithPrefix finds the greatest key of a prefix", "", RocksStore,
                   MemoryStore) {
  TestType fixture;
  StateStore& store = fixture.store();
  CHECK(Last(store, Keyspace::kLog, "") == std::nullopt);
  CHECK(Last(store, Keyspace::kLog, "t") == std::nullopt);
  const std::string p0 = std::string("t\0\0\0\0", 5);
  const std::string p1 = std::string("t\0\0\0\x01", 5);
  auto offset = [](const std::string& prefix, int last_byte) {
    return prefix + std::string(7, '\0') + static_cast<char>(last_byte);
  };
  Put(store, Keyspace::kLog, {offset(p0, 0), offset(p0, 1), offset(p0, 0xff), offset(p1, 3), "u"});
  Put(store, Keyspace::kState, {offset(p1, 9)});
  CHECK(Last(store, Keyspace::kLog, p0) == offset(p0, 0xff));
  CHECK(Last(store, Keyspace::kLog, p1) == offset(p1, 3));
  CHECK(Last(store, Keyspace::kLog, std::string("t\0\0\0\x02", 5)) == std::nullopt);
  // Not "u": the end of prefix "t" is no key of it.
  CHECK(Last(store, Keyspace::kLog, "t") == offset(p1, 3));
  CHECK(Last(store, Keyspace::kLog, "") == "u");
  CHECK(Last(store, Keyspace::kLog, "s") == std::nullopt);
  CHECK(Last(store, Keyspace::kState, p1) == offset(p1, 9));

  // Prefixes that end in 0xff, or are nothing but.
  Put(store, Keyspace::kViews, {"a\xff", "a\xff\xff", "a\xff\xff\x01", "b", kFfFf});
  CHECK(Last(store, Keyspace::kViews, "a\xff") == "a\xff\xff\x01");
  CHECK(Last(store, Keyspace::kViews, "a\xff\xff") == "a\xff\xff\x01");
  CHECK(Last(store, Keyspace::kViews, "a") == "a\xff\xff\x01");
  CHECK(Last(store, Keyspace::kViews, "\xff") == kFfFf);
  CHECK(Last(store, Keyspace::kViews, "\xff\xff\xff") == std::nullopt);
}

TEMPLATE_TEST_CASE("Clear empties one keyspace", "", RocksStore, MemoryStore) {
  TestType fixture;
  StateStore& store = fixture.store();
  Put(store, Keyspace::kViews, {"a", "b", kNul});
  Put(store, Keyspace::kState, {"a"});
  REQUIRE(store.Clear(Keyspace::kViews).ok());
  CHECK(ScanAll(store, Keyspace::kViews, "").empty());
  CHECK(Get(store, Keyspace::kViews, "a") == std::nullopt);
  CHECK(Get(store, Keyspace::kState, "a") == "v:a");
  Put(store, Keyspace::kViews, {"c"});
  CHECK(Keys(ScanAll(store, Keyspace::kViews, "")) == std::vector<std::string>{"c"});
}

TEST_CASE("rocksdb: a reopened data dir has what was written, synced or not") {
  RocksStore fixture;
  Put(fixture.store(), Keyspace::kLog, {"log"});
  Put(fixture.store(), Keyspace::kState, {"state", kNul});
  auto unsynced = fixture.store().NewBatch();
  unsynced->Put(Keyspace::kViews, "views", "unsynced");
  REQUIRE(fixture.store().WriteUnsynced(unsynced.get()).ok());
  REQUIRE(fixture.store().Sync().ok());
  auto deletion = fixture.store().NewBatch();
  deletion->Delete(Keyspace::kState, "state");
  REQUIRE(fixture.store().WriteUnsynced(deletion.get()).ok());
  fixture.Reopen();
  StateStore& store = fixture.store();
  CHECK(Get(store, Keyspace::kLog, "log") == "v:log");
  CHECK(Get(store, Keyspace::kState, "state") == std::nullopt);
  CHECK(Get(store, Keyspace::kState, kNul) == "v:" + kNul);
  CHECK(Get(store, Keyspace::kViews, "views") == "unsynced");
  CHECK(Last(store, Keyspace::kLog, "") == "log");
}

TEST_CASE("rocksdb: a store that syncs writes reopens with them") {
  TempDir dir;
  {
    auto opened = Database::Open({dir.path(), /*sync_writes=*/true});
    REQUIRE(opened.ok());
    Put(**opened, Keyspace::kState, {"synced"});
    auto batch = (*opened)->NewBatch();
    batch->Put(Keyspace::kState, "group", "g");
    REQUIRE((*opened)->WriteUnsynced(batch.get()).ok());
    REQUIRE((*opened)->Sync().ok());
  }
  auto reopened = Database::Open({dir.path(), true});
  REQUIRE(reopened.ok());
  CHECK(Get(**reopened, Keyspace::kState, "synced") == "v:synced");
  CHECK(Get(**reopened, Keyspace::kState, "group") == "g");
}

TEST_CASE("memory: a power cut loses what was not synced and keeps what was") {
  MemoryStateStore store;
  Put(store, Keyspace::kState, {"durable", "overwritten", "deleted"});
  auto unsynced = store.NewBatch();
  unsynced->Put(Keyspace::kState, "overwritten", "new");
  unsynced->Delete(Keyspace::kState, "deleted");
  unsynced->Put(Keyspace::kState, "added", "a");
  unsynced->Put(Keyspace::kState, "added", "b");
  unsynced->Put(Keyspace::kViews, "view", "v");
  REQUIRE(store.WriteUnsynced(unsynced.get()).ok());
  CHECK(Get(store, Keyspace::kState, "overwritten") == "new");
  store.DropUnsyncedWrites();
  CHECK(Get(store, Keyspace::kState, "durable") == "v:durable");
  CHECK(Get(store, Keyspace::kState, "overwritten") == "v:overwritten");
  CHECK(Get(store, Keyspace::kState, "deleted") == "v:deleted");
  CHECK(Get(store, Keyspace::kState, "added") == std::nullopt);
  CHECK(Get(store, Keyspace::kViews, "view") == std::nullopt);
  CHECK(store.Size(Keyspace::kState) == 3);

  // Sync, a durable Write and Clear each make everything before them durable.
  auto synced = store.NewBatch();
  synced->Put(Keyspace::kState, "synced", "s");
  REQUIRE(store.WriteUnsynced(synced.get()).ok());
  REQUIRE(store.Sync().ok());
  auto before_write = store.NewBatch();
  before_write->Put(Keyspace::kState, "before-write", "w");
  REQUIRE(store.WriteUnsynced(before_write.get()).ok());
  Put(store, Keyspace::kViews, {"written"});
  auto lost = store.NewBatch();
  lost->Put(Keyspace::kState, "lost", "l");
  lost->Delete(Keyspace::kState, "durable");
  REQUIRE(store.WriteUnsynced(lost.get()).ok());
  store.DropUnsyncedWrites();
  CHECK(Get(store, Keyspace::kState, "synced") == "s");
  CHECK(Get(store, Keyspace::kState, "before-write") == "w");
  CHECK(Get(store, Keyspace::kViews, "written") == "v:written");
  CHECK(Get(store, Keyspace::kState, "lost") == std::nullopt);
  CHECK(Get(store, Keyspace::kState, "durable") == "v:durable");

  // Nothing unsynced: a power cut changes nothing.
  store.DropUnsyncedWrites();
  CHECK(store.Size(Keyspace::kState) == 5);
}

TEST_CASE("faults: injected failures surface with their status, N times, then calls go through") {
  MemoryStateStore memory;
  FaultInjectingStateStore store(&memory);
  using Op = FaultInjectingStateStore::Op;
  const absl::Status full = absl::UnavailableError("disk full");

  store.FailWrites(full, 2);
  auto batch = store.NewBatch();
  batch->Put(Keyspace::kState, "k", "v");
  CHECK(store.Write(batch.get()) == full);
  CHECK(store.WriteUnsynced(batch.get()) == full);
  CHECK(memory.Size(Keyspace::kState) == 0);  // a failed write applies nothing
  Put(store, Keyspace::kState, {"k"});
  CHECK(Get(memory, Keyspace::kState, "k") == "v:k");
  CHECK(store.Calls(Op::kWrite) == 3);
  CHECK(store.Failures(Op::kWrite) == 2);

  const absl::Status corrupt = absl::DataLossError("bad block");
  store.FailGets(corrupt, 2);
  CHECK(store.Get(Keyspace::kState, "k").status() == corrupt);
  CHECK(store.MultiGet(Keyspace::kState, {"k"}).status() == corrupt);
  CHECK(Get(store, Keyspace::kState, "k") == "v:k");
  CHECK(store.Failures(Op::kGet) == 2);

  store.FailScans(corrupt);
  CHECK(store.Scan(Keyspace::kState, "", "", [](absl::string_view, absl::string_view) {
    FAIL("visited despite the failure");
    return true;
  }) == corrupt);
  CHECK(Keys(ScanAll(store, Keyspace::kState, "")) == std::vector<std::string>{"k"});
  store.FailScans(corrupt);
  CHECK(store.LastKeyWithPrefix(Keyspace::kState, "").status() == corrupt);
  CHECK(Last(store, Keyspace::kState, "") == "k");
  CHECK(store.Calls(Op::kScan) == 4);

  store.FailSyncs(full, FaultInjectingStateStore::kAlways);
  for (int i = 0; i < 3; ++i) CHECK(store.Sync() == full);
  store.Heal();
  CHECK(store.Sync().ok());
  CHECK(store.Failures(Op::kSync) == 3);
  CHECK(store.Calls(Op::kSync) == 4);

  store.FailWrites(full, FaultInjectingStateStore::kAlways);
  CHECK(store.Clear(Keyspace::kState) == full);
  CHECK(Get(memory, Keyspace::kState, "k") == "v:k");
  store.Heal();
  CHECK(store.Clear(Keyspace::kState).ok());
  CHECK(memory.Size(Keyspace::kState) == 0);
}

TEST_CASE("faults: a fault injector over RocksDB forwards what it does not fail") {
  RocksStore fixture;
  FaultInjectingStateStore store(&fixture.store());
  Put(store, Keyspace::kViews, {"a", "b"});
  store.FailWrites(absl::UnavailableError("io"));
  auto batch = store.NewBatch();
  batch->Delete(Keyspace::kViews, "a");
  CHECK(store.Write(batch.get()).code() == absl::StatusCode::kUnavailable);
  CHECK(Get(store, Keyspace::kViews, "a") == "v:a");
  CHECK(store.Write(batch.get()).ok());  // the same batch, retried
  CHECK(Keys(ScanAll(store, Keyspace::kViews, "")) == std::vector<std::string>{"b"});
}

}  // namespace
}  // namespace leadflow::store
