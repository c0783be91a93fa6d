#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace leadflow::store {

// The separate key spaces of a data directory. Keys of one never collide
// with keys of another.
enum class Keyspace : uint8_t {
  kLog,    // the embedded log's records and topic metadata
  kState,  // processors' state, input offsets and changelog checkpoints
  kViews,  // read models and the projection's offsets
};
inline constexpr size_t kKeyspaceCount = 3;

// "log", "state" or "views" (also the RocksDB column family's name).
absl::string_view KeyspaceName(Keyspace keyspace);

// Writes to apply as one unit: StateStore::Write applies all of them or
// none, in the order they were added (a later write to a key wins). Not
// thread-safe. A batch is applied only by the store that made it.
class StateBatch {
 public:
  virtual ~StateBatch() = default;
  virtual void Put(Keyspace keyspace, absl::string_view key, absl::string_view value) = 0;
  virtual void Delete(Keyspace keyspace, absl::string_view key) = 0;
  // How many writes the batch holds (puts and deletes).
  virtual size_t Count() const = 0;
};

// The local key-value state of one instance: byte-string keys in keyspaces,
// ordered bytewise. The port between leadflow and its storage engine
// (RocksDB in a data dir: store::Database; in memory for tests:
// MemoryStateStore). Implementations are thread-safe. Errors are
// absl::Status: UNAVAILABLE for I/O trouble worth retrying, DATA_LOSS for
// corruption.
class StateStore {
 public:
  virtual ~StateStore() = default;

  // nullopt when the key is absent.
  virtual absl::StatusOr<std::optional<std::string>> Get(Keyspace keyspace,
                                                         absl::string_view key) const = 0;
  // The values of `keys`, in their order (nullopt where absent); faster than
  // a Get per key.
  virtual absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      Keyspace keyspace, const std::vector<std::string>& keys) const = 0;
  // Calls `visit` with every key that starts with `prefix` and is not less
  // than `start` (nor than `prefix`), in bytewise order, until `visit`
  // returns false. The views are valid during the call only. `visit` may
  // read and write the store; whether the scan sees writes made after it
  // started is up to the implementation (RocksDB: it does not).
  virtual absl::Status Scan(
      Keyspace keyspace, absl::string_view prefix, absl::string_view start,
      absl::FunctionRef<bool(absl::string_view key, absl::string_view value)> visit) const = 0;
  // The greatest key that starts with `prefix`, or nullopt when there is none.
  virtual absl::StatusOr<std::optional<std::string>> LastKeyWithPrefix(
      Keyspace keyspace, absl::string_view prefix) const = 0;

  // An empty batch for Write / WriteUnsynced of this store.
  virtual std::unique_ptr<StateBatch> NewBatch() const = 0;
  // Applies the batch atomically and durably: when the store syncs writes
  // (Database::Options::sync_writes; MemoryStateStore always), it and every
  // write applied before it survive a power cut once this returns.
  virtual absl::Status Write(StateBatch* batch) = 0;
  // Applies the batch atomically without waiting for durability: readable
  // at once, and a process crash loses nothing, but a power cut may until
  // the next Sync() or Write(). Several batches, one fsync: group commit.
  virtual absl::Status WriteUnsynced(StateBatch* batch) = 0;
  // Makes every write applied so far durable (nothing to do when the store
  // does not sync writes).
  virtual absl::Status Sync() = 0;
  // Removes every key of the keyspace, durably (read models are rebuilt so).
  virtual absl::Status Clear(Keyspace keyspace) = 0;
};

}  // namespace leadflow::store
