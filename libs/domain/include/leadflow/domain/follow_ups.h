#pragma once

#include <vector>

#include "leadflow/v1/commands.pb.h"
#include "leadflow/v1/events.pb.h"

namespace leadflow::domain {

// The next steps of processes that span aggregates: the commands an event
// causes in other aggregates.
//   LeadConverted  → CreateContact (new client), CreateCompany (new
//                    company), CreateDeal: made of the lead as converted,
//                    linked to each other and to the lead; the company
//                    gets the lead's phones too.
//   LeadMergedInto → AbsorbLead on the lead kept.
//   LeadAbsorbed by a lead merged away meanwhile → AbsorbLead on the lead
//                    it was merged into (chains of merges lose nothing).
//   TeamMemberPicked → the robot step's commands with the member in place,
//                    or the step's next PickTeamMember (team_turns.h).
// Command ids derive from the lead (e.g. "convert:<lead>:deal"), so
// replaying the event never applies a step twice. Pure.
std::vector<v1::Command> FollowUpCommands(const v1::EventEnvelope& event);

}  // namespace leadflow::domain
