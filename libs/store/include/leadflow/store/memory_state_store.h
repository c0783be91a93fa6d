#pragma once

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "leadflow/store/state_store.h"

namespace leadflow::store {

// A StateStore in memory, for tests: an ordered map per keyspace. It keeps
// track of what is durable as a store that syncs writes would: Write,
// Clear and Sync make everything applied so far durable, WriteUnsynced does
// not, and DropUnsyncedWrites takes the store back to its last durable
// state (a power cut, as RocksDB's FaultInjectionTestFS simulates one).
// Thread-safe.
class MemoryStateStore final : public StateStore {
 public:
  MemoryStateStore() = default;
  MemoryStateStore(const MemoryStateStore&) = delete;
  MemoryStateStore& operator=(const MemoryStateStore&) = delete;

  absl::StatusOr<std::optional<std::string>> Get(Keyspace keyspace,
                                                 absl::string_view key) const override;
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      Keyspace keyspace, const std::vector<std::string>& keys) const override;
  // Not a snapshot: writes made while it runs may be seen (past the keys
  // already visited).
  absl::Status Scan(
      Keyspace keyspace, absl::string_view prefix, absl::string_view start,
      absl::FunctionRef<bool(absl::string_view key, absl::string_view value)> visit) const override;
  absl::StatusOr<std::optional<std::string>> LastKeyWithPrefix(
      Keyspace keyspace, absl::string_view prefix) const override;
  std::unique_ptr<StateBatch> NewBatch() const override;
  absl::Status Write(StateBatch* batch) override;
  absl::Status WriteUnsynced(StateBatch* batch) override;
  absl::Status Sync() override;
  absl::Status Clear(Keyspace keyspace) override;

  // Undoes every write not made durable yet, newest first.
  void DropUnsyncedWrites();
  // How many keys the keyspace holds.
  size_t Size(Keyspace keyspace) const;

 private:
  using Map = std::map<std::string, std::string, std::less<>>;
  // A key's value before an unsynced write changed it (nullopt: absent).
  struct Undo {
    Keyspace keyspace;
    std::string key;
    std::optional<std::string> before;
  };
  absl::Status Apply(StateBatch* batch, bool durable);

  mutable absl::Mutex mu_;
  std::array<Map, kKeyspaceCount> data_ ABSL_GUARDED_BY(mu_);
  // The writes since the last durable point, oldest first.
  std::vector<Undo> unsynced_ ABSL_GUARDED_BY(mu_);
};

}  // namespace leadflow::store
