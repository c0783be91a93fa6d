// The dry run of robots over recorded events (robots.h).

#include <google/protobuf/util/time_util.h>

#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/follow_ups.h"
#include "leadflow/domain/pipelines.h"
#include "leadflow/domain/robots.h"

namespace leadflow::domain {

using google::protobuf::util::TimeUtil;

// The simulated items, timers and team turns. The team queues answer as the
// live processors would: turns per partition and queue, loads from the
// simulated leads and deals.
class RobotDryRun::Simulation final : public TeamQueues {
 public:
  Simulation(DomainConfig config, std::function<int32_t(absl::string_view)> partition_of)
      : config_(std::move(config)), partition_of_(std::move(partition_of)) {}

  std::string NextInTurn(absl::string_view queue,
                         const google::protobuf::RepeatedPtrField<std::string>& members) override {
    int64_t& turn = turns_[absl::StrCat(partition_, "/", queue)];
    return members.Get(static_cast<int>(turn++ % members.size()));
  }

  std::string LeastLoaded(absl::string_view /*queue*/,
                          const google::protobuf::RepeatedPtrField<std::string>& members) override {
    std::map<std::string, int64_t> load;
    for (const auto& [key, item] : items_) {
      const auto& state = item.state();
      if (state.has_lead() && !IsTerminal(state.lead().status_semantic())) {
        ++load[state.lead().responsible_id()];
      } else if (state.has_deal() && !IsTerminal(state.deal().stage_semantic())) {
        ++load[state.deal().responsible_id()];
      }
    }
    const std::string* best = &members.Get(0);
    for (const auto& member : members) {
      if (load[member] < load[*best]) best = &member;
    }
    return *best;
  }

  // Folds an event into its item and runs what it sets off. `recorded`: an
  // event from the log (its version is renumbered onto the simulated item,
  // which may hold simulated events too).
  void Apply(v1::EventEnvelope event, bool recorded, std::vector<RobotRunRecord>& runs) {
    const std::string key = absl::StrCat(event.aggregate_type(), "/", event.aggregate_id());
    auto found = items_.find(key);
    if (recorded && found == items_.end() && event.aggregate_version() != 1) return;
    v1::RobotItem& item = items_[key];
    event.set_aggregate_version(VersionOf(item.state()) + 1);
    std::vector<v1::Command> commands;
    if (RobotsWatch(event.aggregate_type())) {
      Untrack(key, item);
      partition_ = partition_of_(event.aggregate_id());
      commands = RobotsOnEvent(item, event, config_.pipelines, *this);
      Track(key, item);
    } else {
      *item.mutable_state() = Evolve(std::move(*item.mutable_state()), event);
    }
    for (auto& command : commands) Execute(std::move(command), /*run=*/true, runs);
    if (!recorded) {
      // The recorded log holds the steps of recorded conversions already.
      for (auto& command : FollowUpCommands(event)) Execute(std::move(command), false, runs);
    }
  }

  void RunTimersUpTo(absl::Time until, std::vector<RobotRunRecord>& runs) {
    while (!due_.empty()) {
      auto [due_ms, timer_id, key] = *due_.begin();
      if (absl::FromUnixMillis(due_ms) > until) return;
      v1::RobotItem& item = items_[key];
      Untrack(key, item);
      const auto slash = key.find('/');
      partition_ = partition_of_(absl::string_view(key).substr(slash + 1));
      auto commands = RobotsOnTimer(item, timer_id, config_.pipelines, *this);
      Track(key, item);
      for (auto& command : commands) Execute(std::move(command), true, runs);
    }
  }

 private:
  void Execute(v1::Command command, bool run, std::vector<RobotRunRecord>& runs) {
    // Robots set off by robots: validation refuses circles, and this bounds
    // what it cannot see (a chain through conversions and deal robots).
    if (depth_ >= kMaxChain) {
      RobotRunRecord& record = runs.emplace_back();
      record.run_time = FromTimestamp(command.issue_time());
      record.summary = DescribeRobotCommand(command);
      record.refused =
          absl::StrCat("stopped: a chain of more than ", kMaxChain, " steps set off by one event");
      record.changes = false;
      record.command = std::move(command);
      return;
    }
    ++depth_;
    ExecuteStep(std::move(command), run, runs);
    --depth_;
  }

  void ExecuteStep(v1::Command command, bool run, std::vector<RobotRunRecord>& runs) {
    const std::string key = absl::StrCat(AggregateTypeOf(command), "/", command.aggregate_id());
    auto found = items_.find(key);
    const v1::AggregateState* current =
        found == items_.end() || VersionOf(found->second.state()) == 0 ? nullptr
                                                                       : &found->second.state();
    auto events = Decide(current, command, config_);
    if (run) {
      RobotRunRecord& record = runs.emplace_back();
      record.run_time = FromTimestamp(command.issue_time());
      record.summary = DescribeRobotCommand(command);
      if (!events.ok()) record.refused = std::string(events.status().message());
      record.changes = events.ok() && !events->empty();
      record.command = command;
    }
    if (!events.ok()) return;
    for (auto& event : *events) Apply(std::move(event), false, runs);
  }

  void Untrack(const std::string& key, const v1::RobotItem& item) {
    for (const auto& timer : item.timers()) {
      due_.erase({TimeUtil::TimestampToMilliseconds(timer.due_time()), timer.timer_id(), key});
    }
  }
  void Track(const std::string& key, const v1::RobotItem& item) {
    for (const auto& timer : item.timers()) {
      due_.insert({TimeUtil::TimestampToMilliseconds(timer.due_time()), timer.timer_id(), key});
    }
  }

  DomainConfig config_;
  std::function<int32_t(absl::string_view)> partition_of_;
  std::map<std::string, v1::RobotItem> items_;
  std::map<std::string, int64_t> turns_;
  std::set<std::tuple<int64_t, std::string, std::string>> due_;
  int32_t partition_ = 0;
  static constexpr int kMaxChain = 32;
  int depth_ = 0;
};

RobotDryRun::RobotDryRun(DomainConfig config,
                         std::function<int32_t(absl::string_view)> partition_of)
    : sim_(std::make_unique<Simulation>(std::move(config), std::move(partition_of))) {}

RobotDryRun::~RobotDryRun() = default;

void RobotDryRun::Replay(const v1::EventEnvelope& event) {
  // What the live automation did is decided anew by the proposed rules.
  if (event.has_robot()) return;
  RunTimersUpTo(FromTimestamp(event.occur_time()));
  sim_->Apply(event, true, runs_);
}

void RobotDryRun::Finish(absl::Time until) { RunTimersUpTo(until); }

void RobotDryRun::RunTimersUpTo(absl::Time until) { sim_->RunTimersUpTo(until, runs_); }

}  // namespace leadflow::domain
