#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "leadflow/domain/domain_config.h"
#include "leadflow/v1/access.pb.h"
#include "leadflow/v1/commands.pb.h"
#include "leadflow/v1/events.pb.h"
#include "leadflow/v1/robots.pb.h"

namespace leadflow::domain {

// Robots and triggers: the automation configured on pipelines (Pipeline.robots
// / Pipeline.triggers). Pure: the live robot processor and the dry run run
// the same functions, so a dry run says exactly what the live run does with
// the same events, times and team turns.
//
// The robot view of an item (v1::RobotItem) is kept per lead, deal and
// activity, folded from the item's own events: everything a robot needs is
// in the item's partition. Robots attached to a stage run when the item
// enters it (at once, or by a timer kept with the item); after_deadline
// robots wait with the activity another robot created. Every command a
// robot issues carries a RobotCause and an id derived from the cause event
// and the rule, so it is applied once however often it is issued.

// Who is picked from a team. Turns and loads live outside the pure core
// (the processor's state, the read models, the dry run's simulation).
class TeamQueues {
 public:
  virtual ~TeamQueues() = default;
  // The member whose turn it is in `queue`, advancing the turn.
  virtual std::string NextInTurn(
      absl::string_view queue, const google::protobuf::RepeatedPtrField<std::string>& members) = 0;
  // The member of `queue` with the fewest open leads and deals.
  virtual std::string LeastLoaded(
      absl::string_view queue, const google::protobuf::RepeatedPtrField<std::string>& members) = 0;
};

// Refusals name the field under `prefix` ("pipeline.robots[1].action").
// Called by ValidatePipeline.
absl::Status ValidateRobots(const v1::Pipeline& pipeline, absl::string_view prefix);

// The pipelines with every robot's team that names an access policy team
// (TeamPick.team) given that team's members as `policy` has them; a team
// the policy does not have picks nobody. Robots run with what this returns.
PipelineSet WithAccessTeams(PipelineSet pipelines, const v1::AccessPolicy& policy);

// Whether robots care about this aggregate type (lead, deal, activity).
bool RobotsWatch(absl::string_view aggregate_type);

// Folds `event` into `item` (the robot view of the event's aggregate; empty
// for one not seen before) and returns the commands robots and triggers
// issue at once. Arms timers in item.timers for delayed and after_deadline
// robots, and drops those whose reason is gone (the item left the stage,
// the activity was completed). An event the item already has (a replay) is
// ignored.
std::vector<v1::Command> RobotsOnEvent(v1::RobotItem& item, const v1::EventEnvelope& event,
                                       const PipelineSet& config, TeamQueues& teams);

// Runs (and removes) the timer `timer_id` of `item`: the commands it issues,
// none when the item left the stage, the activity was completed, the robot
// was removed or a condition no longer holds. The commands' time is the
// timer's due time, so a timer fired late (after a restart) issues the same
// commands as one fired on time.
std::vector<v1::Command> RobotsOnTimer(v1::RobotItem& item, absl::string_view timer_id,
                                       const PipelineSet& config, TeamQueues& teams);

// One line on what a robot command does: "assign leads/x to op-1".
std::string DescribeRobotCommand(const v1::Command& command);

// The dry run: replays recorded events with proposed pipelines and records
// what their robots and triggers would do. Events the live automation caused
// (those with a RobotCause) are skipped: the proposed rules decide anew.
// What the proposed robots do is decided (domain::Decide) on the simulated
// items and fed back, so robots set off by robots run too, and so do the
// steps of a conversion (FollowUpCommands).
struct RobotRunRecord {
  v1::Command command;
  absl::Time run_time;
  std::string summary;
  // Why it would be refused; empty when applied.
  std::string refused;
  // Whether it would change anything (a trigger's move backwards does not).
  bool changes = true;
};

class RobotDryRun {
 public:
  // `config`: what is in force with the proposed pipelines put over it.
  // `partition_of`: the partition of an aggregate id (team turns are kept
  // per partition, as the live processors keep them).
  RobotDryRun(DomainConfig config, std::function<int32_t(absl::string_view)> partition_of);
  ~RobotDryRun();

  // Feeds the recorded events in time order (ties in log order).
  void Replay(const v1::EventEnvelope& event);
  // Runs the timers due up to `until`.
  void Finish(absl::Time until);

  const std::vector<RobotRunRecord>& runs() const { return runs_; }
  // Hands over the runs so far (a long replay's caller keeps what it
  // needs, not every run in memory).
  std::vector<RobotRunRecord> TakeRuns() { return std::exchange(runs_, {}); }

 private:
  class Simulation;
  void RunTimersUpTo(absl::Time until);

  std::unique_ptr<Simulation> sim_;
  std::vector<RobotRunRecord> runs_;
};

}  // namespace leadflow::domain
