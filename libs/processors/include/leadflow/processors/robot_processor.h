#pragma once

#include <string>
#include <vector>

#include "leadflow/base/clock.h"
#include "leadflow/processors/activity_counters.h"
#include "leadflow/processors/item_read_model.h"
#include "leadflow/processors/processor.h"

namespace leadflow::processors {

// Runs the robots and triggers of the pipelines (domain/robots.h) over the
// events topic and puts the commands they issue on the commands topic.
//
// State (keyspace `state`), per input partition p:
//   robots/item/<type>/<id>             RobotItem: the lead, deal or activity
//                                       as its events made it, its timers
//   robots/due/<p>/<due ms, 16 digits>/<timer id>  → the item's key
// Every state write also goes to the changelog (leadflow.robot-state.v1;
// a deletion is a tombstone), so a new owner of a partition restores it.
// A completed activity's item is dropped: nothing changes it any more.
// Round-robin turns are not kept here: a step that picks from a team sends
// its commands through the team's aggregate (domain/team_turns.h).
//
// On time, exactly once: a timer is written in the same unit as the event
// that armed it, and fired (commands emitted, timer deleted) in one unit of
// its own by Punctuate once the clock passes its due time, also after a
// restart. Command ids derive from the cause event and the rule, and the
// command processor applies an id once.
//
// Pipelines are read from the read model at the start of each batch, as the
// command processor reads them.
class RobotProcessor final : public Processor {
 public:
  RobotProcessor(const store::StateStore* db, const ItemReadModel* items,
                 const ActivityCounters* counters, const Clock* clock);

  std::string Name() const override { return "robots"; }
  std::string InputTopic() const override { return std::string(log::kEventsTopic); }
  store::Keyspace StateKeyspace() const override { return store::Keyspace::kState; }
  absl::Status Process(const std::vector<log::Record>& batch, ProcessorTransaction& txn) override;
  bool Punctuates() const override { return true; }
  absl::Status Punctuate(int32_t partition, absl::Time input_time,
                         ProcessorTransaction& txn) override;
  std::vector<std::string> ChangelogTopics() const override {
    return {std::string(log::kRobotStateTopic)};
  }
  absl::Status Restore(const log::Record& record, ProcessorTransaction& txn) override;
  void AfterCommit(int32_t partition, int64_t next_offset,
                   const std::vector<log::Position>& outputs) override;

  // Timers due by `now` and not fired yet, over partitions [0, partitions),
  // counted up to `limit`: how far the robots are behind the clock.
  absl::StatusOr<int64_t> DueTimers(int32_t partitions, absl::Time now, int64_t limit) const;

  static std::string ItemKey(absl::string_view type, absl::string_view id);
  static std::string DuePrefix(int32_t partition);

 private:
  class Teams;

  const store::StateStore* db_;
  const ItemReadModel* items_;
  const ActivityCounters* counters_;
  const Clock* clock_;
  // Timers the unit being committed fires (the polling thread's).
  size_t fired_in_unit_ = 0;
  metrics::Counter* fired_;
};

}  // namespace leadflow::processors
