#include "leadflow/store/memory_state_store.h"

#include <algorithm>
#include <utility>

#include "key_range.h"

namespace leadflow::store {
namespace {

class MemoryBatch final : public StateBatch {
 public:
  struct Op {
    Keyspace keyspace;
    std::string key;
    std::optional<std::string> value;  // nullopt: delete
  };

  explicit MemoryBatch(const MemoryStateStore* owner) : owner_(owner) {}

  void Put(Keyspace keyspace, absl::string_view key, absl::string_view value) override {
    ops_.push_back({keyspace, std::string(key), std::string(value)});
  }
  void Delete(Keyspace keyspace, absl::string_view key) override {
    ops_.push_back({keyspace, std::string(key), std::nullopt});
  }
  size_t Count() const override { return ops_.size(); }

  const MemoryStateStore* owner() const { return owner_; }
  const std::vector<Op>& ops() const { return ops_; }

 private:
  const MemoryStateStore* const owner_;
  std::vector<Op> ops_;
};

// Keys visited per lock: the visitor runs unlocked, so it may use the store.
constexpr size_t kScanChunk = 64;

size_t Index(Keyspace keyspace) { return static_cast<size_t>(keyspace); }

}  // namespace

absl::StatusOr<std::optional<std::string>> MemoryStateStore::Get(Keyspace keyspace,
                                                                 absl::string_view key) const {
  absl::MutexLock lock(&mu_);
  const Map& map = data_[Index(keyspace)];
  auto it = map.find(key);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::vector<std::optional<std::string>>> MemoryStateStore::MultiGet(
    Keyspace keyspace, const std::vector<std::string>& keys) const {
  std::vector<std::optional<std::string>> values(keys.size());
  absl::MutexLock lock(&mu_);
  const Map& map = data_[Index(keyspace)];
  for (size_t i = 0; i < keys.size(); ++i) {
    auto it = map.find(keys[i]);
    if (it != map.end()) values[i] = it->second;
  }
  return values;
}

absl::Status MemoryStateStore::Scan(
    Keyspace keyspace, absl::string_view prefix, absl::string_view start,
    absl::FunctionRef<bool(absl::string_view key, absl::string_view value)> visit) const {
  std::string from(std::max(prefix, start));
  bool past_from = false;  // after the first chunk: resume after its last key
  std::vector<std::pair<std::string, std::string>> chunk;
  while (true) {
    bool more = false;
    chunk.clear();
    {
      absl::MutexLock lock(&mu_);
      const Map& map = data_[Index(keyspace)];
      auto it = past_from ? map.upper_bound(from) : map.lower_bound(from);
      for (; it != map.end() && HasPrefix(it->first, prefix); ++it) {
        if (chunk.size() == kScanChunk) {
          more = true;
          break;
        }
        chunk.emplace_back(it->first, it->second);
      }
    }
    for (const auto& [key, value] : chunk) {
      if (!visit(key, value)) return absl::OkStatus();
    }
    if (!more) return absl::OkStatus();
    from = std::move(chunk.back().first);
    past_from = true;
  }
}

absl::StatusOr<std::optional<std::string>> MemoryStateStore::LastKeyWithPrefix(
    Keyspace keyspace, absl::string_view prefix) const {
  const std::string end = PrefixEnd(prefix);
  absl::MutexLock lock(&mu_);
  const Map& map = data_[Index(keyspace)];
  auto it = end.empty() ? map.end() : map.lower_bound(end);
  if (it == map.begin()) return std::nullopt;
  --it;
  if (!HasPrefix(it->first, prefix)) return std::nullopt;
  return it->first;
}

std::unique_ptr<StateBatch> MemoryStateStore::NewBatch() const {
  return std::make_unique<MemoryBatch>(this);
}

absl::Status MemoryStateStore::Apply(StateBatch* batch, bool durable) {
  auto* memory = dynamic_cast<MemoryBatch*>(batch);
  if (memory == nullptr || memory->owner() != this) {
    return absl::InvalidArgumentError("writing a batch this store did not make");
  }
  absl::MutexLock lock(&mu_);
  for (const MemoryBatch::Op& op : memory->ops()) {
    Map& map = data_[Index(op.keyspace)];
    auto it = map.find(op.key);
    if (!durable) {
      unsynced_.push_back(
          {op.keyspace, op.key,
           it == map.end() ? std::nullopt : std::optional<std::string>(it->second)});
    }
    if (op.value.has_value()) {
      if (it == map.end()) {
        map.emplace(op.key, *op.value);
      } else {
        it->second = *op.value;
      }
    } else if (it != map.end()) {
      map.erase(it);
    }
  }
  // A durable write makes every write before it durable too (one log).
  if (durable) unsynced_.clear();
  return absl::OkStatus();
}

absl::Status MemoryStateStore::Write(StateBatch* batch) { return Apply(batch, true); }

absl::Status MemoryStateStore::WriteUnsynced(StateBatch* batch) { return Apply(batch, false); }

absl::Status MemoryStateStore::Sync() {
  absl::MutexLock lock(&mu_);
  unsynced_.clear();
  return absl::OkStatus();
}

absl::Status MemoryStateStore::Clear(Keyspace keyspace) {
  absl::MutexLock lock(&mu_);
  data_[Index(keyspace)].clear();
  unsynced_.clear();
  return absl::OkStatus();
}

void MemoryStateStore::DropUnsyncedWrites() {
  absl::MutexLock lock(&mu_);
  for (auto undo = unsynced_.rbegin(); undo != unsynced_.rend(); ++undo) {
    Map& map = data_[Index(undo->keyspace)];
    if (undo->before.has_value()) {
      map.insert_or_assign(std::move(undo->key), std::move(*undo->before));
    } else {
      map.erase(undo->key);
    }
  }
  unsynced_.clear();
}

size_t MemoryStateStore::Size(Keyspace keyspace) const {
  absl::MutexLock lock(&mu_);
  return data_[Index(keyspace)].size();
}

}  // namespace leadflow::store
