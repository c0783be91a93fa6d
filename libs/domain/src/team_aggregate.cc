#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/reflection.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "aggregates.h"
#include "leadflow/base/derived_id.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/team_turns.h"

namespace leadflow::domain {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Replaces `from` by `to` in every string of `message`, nested ones
// included: wherever a robot step put the member (a responsible, a user to
// notify, a rendered text).
void ReplaceInStrings(Message* message, absl::string_view from, absl::string_view to) {
  const auto* reflection = message->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(*message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
          reflection->SetRepeatedString(
              message, field, i,
              absl::StrReplaceAll(reflection->GetRepeatedString(*message, field, i), {{from, to}}));
        }
      } else {
        reflection->SetString(
            message, field,
            absl::StrReplaceAll(reflection->GetString(*message, field), {{from, to}}));
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
          ReplaceInStrings(reflection->MutableRepeatedMessage(message, field, i), from, to);
        }
      } else {
        ReplaceInStrings(reflection->MutableMessage(message, field), from, to);
      }
    }
  }
}

}  // namespace

std::string TeamId(absl::string_view queue) { return DeriveId("team", queue); }

std::string TeamPickPlaceholder(int index) { return absl::StrCat("{{team-pick:", index, "}}"); }

std::vector<v1::Command> AwaitingTeamPicks(std::vector<v1::Command> commands,
                                           std::vector<v1::PendingTeamPick> picks) {
  if (picks.empty() || commands.empty()) return commands;
  const v1::Command& first = commands.front();
  v1::Command pick;
  pick.set_command_id(DeriveId("pick", first.command_id(), picks.front().queue()));
  pick.set_aggregate_id(TeamId(picks.front().queue()));
  *pick.mutable_issue_time() = first.issue_time();
  pick.set_actor(first.actor());
  pick.set_causation_id(first.causation_id());
  pick.set_correlation_id(first.correlation_id());
  if (first.has_robot()) *pick.mutable_robot() = first.robot();
  auto* ask = pick.mutable_pick_team_member();
  ask->set_queue(picks.front().queue());
  *ask->mutable_members() = picks.front().members();
  ask->set_placeholder(picks.front().placeholder());
  ask->set_rule(picks.front().rule());
  *ask->mutable_loads() = picks.front().loads();
  for (auto& command : commands) *ask->add_then() = std::move(command);
  for (size_t i = 1; i < picks.size(); ++i) *ask->add_later() = std::move(picks[i]);
  std::vector<v1::Command> out;
  out.push_back(std::move(pick));
  return out;
}

absl::Status DecideTeamCommand(const v1::Team* current, const v1::Command& command,
                               EventSink& sink) {
  if (!command.has_pick_team_member()) return InvalidField("command", "not a team command");
  const auto& ask = command.pick_team_member();
  if (ask.queue().empty()) return InvalidField("pick_team_member.queue", "required");
  if (ask.members().empty()) return InvalidField("pick_team_member.members", "required");
  if (ask.placeholder().empty()) return InvalidField("pick_team_member.placeholder", "required");
  const int64_t turn = current == nullptr ? 0 : current->picks();
  const int size = ask.members_size();
  int chosen = static_cast<int>(turn % size);
  if (ask.rule() == v1::TEAM_PICK_RULE_LEAST_LOADED) {
    // The loads the asker read, plus this team's own recent picks, which
    // its read model may not count yet (a burst sees its own picks). Ties
    // go round from the turn, so equal loads share the work in turn.
    const absl::Time since = FromTimestamp(command.issue_time()) - kTeamPickMemory;
    std::map<std::string, int64_t> load(ask.loads().begin(), ask.loads().end());
    if (current != nullptr) {
      for (const auto& pick : current->recent()) {
        if (FromTimestamp(pick.time()) >= since) ++load[pick.member_id()];
      }
    }
    for (int i = 1; i < size; ++i) {
      const int candidate = static_cast<int>((turn + i) % size);
      if (load[ask.members(candidate)] < load[ask.members(chosen)]) chosen = candidate;
    }
  }
  const std::string& member = ask.members(chosen);
  auto* picked = sink.Add().mutable_team_member_picked();
  picked->set_queue(ask.queue());
  picked->set_member_id(member);
  picked->set_turn(turn);
  picked->set_rule(ask.rule());
  for (const auto& then : ask.then()) {
    v1::Command* command_after = picked->add_then();
    *command_after = then;
    ReplaceInStrings(command_after, ask.placeholder(), member);
  }
  *picked->mutable_later() = ask.later();
  return absl::OkStatus();
}

void EvolveTeamState(v1::Team& team, const v1::EventEnvelope& event) {
  team.set_version(event.aggregate_version());
  if (!event.has_team_member_picked()) return;
  team.set_team_id(event.aggregate_id());
  team.set_queue(event.team_member_picked().queue());
  team.set_picks(event.team_member_picked().turn() + 1);
  team.set_last_member_id(event.team_member_picked().member_id());
  // Kept for kTeamPickMemory: what least loaded adds to the loads it is
  // given. Round robin needs only the turn, so its state stays small.
  if (event.team_member_picked().rule() != v1::TEAM_PICK_RULE_LEAST_LOADED) return;
  const absl::Time now = FromTimestamp(event.occur_time());
  auto* recent = team.mutable_recent();
  recent->erase(std::remove_if(recent->begin(), recent->end(),
                               [now](const v1::TeamRecentPick& pick) {
                                 return FromTimestamp(pick.time()) < now - kTeamPickMemory;
                               }),
                recent->end());
  // Bounded, so a team's state stays small however fast leads come: the
  // newest picks are the ones a lagging read model misses.
  if (recent->size() >= kTeamPickMemoryCap) {
    recent->DeleteSubrange(0, recent->size() - kTeamPickMemoryCap + 1);
  }
  v1::TeamRecentPick* pick = recent->Add();
  pick->set_member_id(event.team_member_picked().member_id());
  *pick->mutable_time() = event.occur_time();
}

}  // namespace leadflow::domain
