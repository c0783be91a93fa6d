#include "leadflow/processors/robot_processor.h"

#include <google/protobuf/util/time_util.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/robots.h"
#include "leadflow/domain/team_turns.h"
#include "leadflow/processors/command_record.h"
#include "leadflow/v1/events.pb.h"

namespace leadflow::processors {
namespace {

using google::protobuf::util::TimeUtil;

// Most timers a punctuation fires; the rest fire on the next.
constexpr size_t kMaxTimersPerPunctuation = 500;

std::string DueKey(int32_t partition, const v1::RobotTimer& timer) {
  return absl::StrCat(RobotProcessor::DuePrefix(partition),
                      absl::StrFormat("%016d", TimeUtil::TimestampToMilliseconds(timer.due_time())),
                      "/", timer.timer_id());
}

// State writes, each mirrored to the changelog (an empty value deletes).
class StateWriter {
 public:
  StateWriter(ProcessorTransaction& txn, store::Keyspace keyspace)
      : txn_(txn), keyspace_(keyspace) {}

  void Put(const std::string& key, std::string value) {
    txn_.Put(keyspace_, key, value);
    Mirror(key, std::move(value));
  }
  void Delete(const std::string& key) {
    txn_.Delete(keyspace_, key);
    Mirror(key, "");
  }
  // Drops the item under `key` with the due entries of its `before` timers:
  // a completed activity, which nothing changes any more.
  void DropItem(int32_t partition, const std::string& key,
                const google::protobuf::RepeatedPtrField<v1::RobotTimer>& before) {
    for (const auto& timer : before) Delete(DueKey(partition, timer));
    Delete(key);
  }
  // Saves `item` under `key` and moves its timers' due entries from what
  // `before` had to what it has now.
  void SaveItem(int32_t partition, const std::string& key,
                const google::protobuf::RepeatedPtrField<v1::RobotTimer>& before,
                const v1::RobotItem& item) {
    std::set<std::string> old_keys;
    std::set<std::string> new_keys;
    for (const auto& timer : before) old_keys.insert(DueKey(partition, timer));
    for (const auto& timer : item.timers()) new_keys.insert(DueKey(partition, timer));
    for (const auto& due : old_keys) {
      if (new_keys.count(due) == 0) Delete(due);
    }
    for (const auto& due : new_keys) {
      if (old_keys.count(due) == 0) Put(due, key);
    }
    Put(key, SerializeDeterministic(item));
  }

 private:
  void Mirror(const std::string& key, std::string value) {
    if (!txn_.keeps_changelogs()) return;
    log::OutgoingRecord record =
        log::MakeRecord(std::string(log::kRobotStateTopic), key, std::move(value));
    record.tombstone = record.value.empty();
    txn_.Emit(std::move(record));
  }

  ProcessorTransaction& txn_;
  store::Keyspace keyspace_;
};

absl::StatusOr<v1::RobotItem> LoadItem(ProcessorTransaction& txn, store::Keyspace keyspace,
                                       const std::string& key) {
  v1::RobotItem item;
  LEADFLOW_ASSIGN_OR_RETURN(auto stored, txn.Get(keyspace, key));
  if (stored.has_value()) LEADFLOW_RETURN_IF_ERROR(ParseProto(*stored, &item, "robot item"));
  return item;
}

}  // namespace

// Picks are not decided here: each is a placeholder, and the step's
// commands go to the team's own aggregate (domain::AwaitingTeamPicks), the
// single writer of its turn across partitions and instances. Least loaded
// sends the members' loads as this instance's read model counts them. A
// storage error is kept and reported after the step.
class RobotProcessor::Teams final : public domain::TeamQueues {
 public:
  explicit Teams(const RobotProcessor* processor) : processor_(processor) {}

  std::string NextInTurn(absl::string_view queue,
                         const google::protobuf::RepeatedPtrField<std::string>& members) override {
    return Ask(queue, members, v1::TEAM_PICK_RULE_ROUND_ROBIN).placeholder();
  }

  std::string LeastLoaded(absl::string_view queue,
                          const google::protobuf::RepeatedPtrField<std::string>& members) override {
    v1::PendingTeamPick& pick = Ask(queue, members, v1::TEAM_PICK_RULE_LEAST_LOADED);
    for (const auto& member : members) {
      auto load = processor_->counters_->OpenItems(member);
      if (!load.ok()) {
        status_.Update(load.status());
        return "";
      }
      (*pick.mutable_loads())[member] = *load;
    }
    return pick.placeholder();
  }

  const absl::Status& status() const { return status_; }

  // The step's commands as they go out (waiting for its picks, if any).
  std::vector<v1::Command> Send(std::vector<v1::Command> commands) {
    return domain::AwaitingTeamPicks(std::move(commands), std::move(picks_));
  }

 private:
  const RobotProcessor* processor_;
  v1::PendingTeamPick& Ask(absl::string_view queue,
                           const google::protobuf::RepeatedPtrField<std::string>& members,
                           v1::TeamPickRule rule) {
    v1::PendingTeamPick& pick = picks_.emplace_back();
    pick.set_queue(std::string(queue));
    *pick.mutable_members() = members;
    pick.set_rule(rule);
    pick.set_placeholder(domain::TeamPickPlaceholder(static_cast<int>(picks_.size())));
    return pick;
  }

  std::vector<v1::PendingTeamPick> picks_;
  absl::Status status_;
};

RobotProcessor::RobotProcessor(const store::StateStore* db, const ItemReadModel* items,
                               const ActivityCounters* counters, const Clock* clock)
    : db_(db),
      items_(items),
      counters_(counters),
      clock_(clock),
      fired_(&metrics::DefaultRegistry()
                  .AddCounter("leadflow_robot_timers_fired_total",
                              "Robot timers fired (their rules run, commands issued).")
                  .With({})) {}

std::string RobotProcessor::ItemKey(absl::string_view type, absl::string_view id) {
  return absl::StrCat("robots/item/", type, "/", id);
}

std::string RobotProcessor::DuePrefix(int32_t partition) {
  return absl::StrFormat("robots/due/%04d/", partition);
}

absl::Status RobotProcessor::Restore(const log::Record& record, ProcessorTransaction& txn) {
  if (record.value.empty()) {
    txn.Delete(store::Keyspace::kState, record.key);
  } else {
    txn.Put(store::Keyspace::kState, record.key, record.value);
  }
  return absl::OkStatus();
}

absl::Status RobotProcessor::Process(const std::vector<log::Record>& batch,
                                     ProcessorTransaction& txn) {
  fired_in_unit_ = 0;
  LEADFLOW_ASSIGN_OR_RETURN(domain::PipelineSet config, items_->PipelinesForRobots());
  const store::Keyspace keyspace = store::Keyspace::kState;
  StateWriter writer(txn, keyspace);
  for (const auto& record : batch) {
    v1::EventEnvelope event;
    // The projection dead-letters undecodable events; no robot follows them.
    if (!ParseProto(record.value, &event, "event record").ok()) continue;
    if (!domain::RobotsWatch(event.aggregate_type())) continue;
    const std::string key = ItemKey(event.aggregate_type(), event.aggregate_id());
    LEADFLOW_ASSIGN_OR_RETURN(v1::RobotItem item, LoadItem(txn, keyspace, key));
    const int64_t version = domain::VersionOf(item.state());
    const auto before = item.timers();
    Teams teams(this);
    std::vector<v1::Command> commands =
        teams.Send(domain::RobotsOnEvent(item, event, config, teams));
    LEADFLOW_RETURN_IF_ERROR(teams.status());
    if (domain::VersionOf(item.state()) == version) continue;  // a replay
    if (item.state().activity().state() == v1::ACTIVITY_STATE_COMPLETED && item.timers().empty()) {
      writer.DropItem(record.partition, key, before);
    } else {
      writer.SaveItem(record.partition, key, before, item);
    }
    for (const auto& command : commands) txn.Emit(CommandRecord(command, "leadflow/robots"));
  }
  return absl::OkStatus();
}

absl::Status RobotProcessor::Punctuate(int32_t partition, absl::Time input_time,
                                       ProcessorTransaction& txn) {
  fired_in_unit_ = 0;
  const std::string prefix = DuePrefix(partition);
  const absl::Time due_by = std::min(clock_->Now(), input_time);
  const std::string until =
      absl::StrCat(prefix, absl::StrFormat("%016d", absl::ToUnixMillis(due_by)), "/\xff");
  struct Due {
    std::string key;
    std::string item_key;
    std::string timer_id;
  };
  std::vector<Due> due;
  LEADFLOW_RETURN_IF_ERROR(db_->Scan(
      store::Keyspace::kState, prefix, prefix, [&](absl::string_view key, absl::string_view value) {
        if (key >= until || due.size() == kMaxTimersPerPunctuation) return false;
        due.push_back(
            {std::string(key), std::string(value), std::string(key.substr(key.rfind('/') + 1))});
        return true;
      }));
  if (due.empty()) return absl::OkStatus();
  LEADFLOW_ASSIGN_OR_RETURN(domain::PipelineSet config, items_->PipelinesForRobots());
  const store::Keyspace keyspace = store::Keyspace::kState;
  StateWriter writer(txn, keyspace);
  for (const auto& entry : due) {
    LEADFLOW_ASSIGN_OR_RETURN(v1::RobotItem item, LoadItem(txn, keyspace, entry.item_key));
    const auto before = item.timers();
    Teams teams(this);
    std::vector<v1::Command> commands =
        teams.Send(domain::RobotsOnTimer(item, entry.timer_id, config, teams));
    LEADFLOW_RETURN_IF_ERROR(teams.status());
    writer.Delete(entry.key);
    writer.SaveItem(partition, entry.item_key, before, item);
    for (const auto& command : commands) txn.Emit(CommandRecord(command, "leadflow/robots"));
  }
  fired_in_unit_ = due.size();
  return absl::OkStatus();
}

void RobotProcessor::AfterCommit(int32_t partition, int64_t next_offset,
                                 const std::vector<log::Position>& outputs) {
  fired_->Increment(fired_in_unit_);
  fired_in_unit_ = 0;
}

absl::StatusOr<int64_t> RobotProcessor::DueTimers(int32_t partitions, absl::Time now,
                                                  int64_t limit) const {
  int64_t due = 0;
  for (int32_t p = 0; p < partitions && due < limit; ++p) {
    const std::string prefix = DuePrefix(p);
    const std::string until =
        absl::StrCat(prefix, absl::StrFormat("%016d", absl::ToUnixMillis(now)), "/\xff");
    LEADFLOW_RETURN_IF_ERROR(db_->Scan(store::Keyspace::kState, prefix, prefix,
                                       [&](absl::string_view key, absl::string_view) {
                                         if (key >= until || due >= limit) return false;
                                         ++due;
                                         return true;
                                       }));
  }
  return due;
}

}  // namespace leadflow::processors
