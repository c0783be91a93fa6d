#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "leadflow/v1/commands.pb.h"

namespace leadflow::domain {

// Picking from a team (round robin or least loaded) is one state per team
// queue, kept by the queue's own aggregate ("team", id TeamId(queue)) and
// decided by its single writer, so picks from every partition and instance
// take turns in the order they reach it and a burst sees its own earlier
// picks: round robin keeps the turn; least loaded adds the team's recent
// picks to the loads the asker read (ties go round from the turn). A robot
// that picks from a team does not choose: its commands name the member by
// a placeholder, and go out wrapped in a PickTeamMember of the queue
// (AwaitingTeamPicks); the team's TeamMemberPicked carries them with the
// member in place, and the follow-up step issues them (FollowUpCommands).

// How long a team remembers its picks: least loaded adds them to the loads
// the asker read, which may not count them yet.
inline constexpr absl::Duration kTeamPickMemory = absl::Seconds(10);
// And at most this many of them (the newest).
inline constexpr int kTeamPickMemoryCap = 1000;

// The id of the team aggregate of `queue`.
std::string TeamId(absl::string_view queue);

// The text that stands for the `index`th member picked in one robot step.
std::string TeamPickPlaceholder(int index);

// `commands` as they go out: unchanged when they wait for no pick;
// otherwise one PickTeamMember of picks[0]'s queue carrying them and the
// other picks (command id, time, actor and cause taken from the first
// command, so a replayed step sends the same pick).
std::vector<v1::Command> AwaitingTeamPicks(std::vector<v1::Command> commands,
                                           std::vector<v1::PendingTeamPick> picks);

}  // namespace leadflow::domain
