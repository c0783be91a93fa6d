#include "leadflow/domain/follow_ups.h"

#include "absl/strings/str_cat.h"
#include "leadflow/domain/team_turns.h"

namespace leadflow::domain {
namespace {

v1::Command Step(const v1::EventEnvelope& cause, std::string command_id, std::string aggregate_id) {
  v1::Command command;
  command.set_command_id(std::move(command_id));
  command.set_aggregate_id(std::move(aggregate_id));
  *command.mutable_issue_time() = cause.occur_time();
  command.set_actor(cause.actor());
  command.set_causation_id(cause.event_id());
  command.set_correlation_id(cause.correlation_id());
  // What a robot started stays marked as the robot's, step by step.
  if (cause.has_robot()) *command.mutable_robot() = cause.robot();
  return command;
}

void Conversion(const v1::EventEnvelope& event, std::vector<v1::Command>& out) {
  const auto& converted = event.lead_converted();
  const v1::Lead& lead = converted.lead();
  const std::string& lead_id = event.aggregate_id();
  if (converted.creates_contact()) {
    v1::Command command =
        Step(event, absl::StrCat("convert:", lead_id, ":contact"), converted.contact_id());
    v1::Contact* contact = command.mutable_create_contact()->mutable_contact();
    contact->set_first_name(lead.first_name());
    contact->set_last_name(lead.last_name());
    contact->set_second_name(lead.second_name());
    *contact->mutable_phones() = lead.phones();
    *contact->mutable_emails() = lead.emails();
    *contact->mutable_messengers() = lead.messengers();
    if (!converted.company_id().empty()) contact->add_company_ids(converted.company_id());
    contact->set_responsible_id(converted.responsible_id());
    contact->set_source_lead_id(lead_id);
    out.push_back(std::move(command));
  }
  if (converted.creates_company()) {
    v1::Command command =
        Step(event, absl::StrCat("convert:", lead_id, ":company"), converted.company_id());
    v1::Company* company = command.mutable_create_company()->mutable_company();
    company->set_title(lead.company_title());
    // Which number is the office line and which the person's, the manager
    // decides later: both records get them all.
    *company->mutable_phones() = lead.phones();
    company->set_responsible_id(converted.responsible_id());
    company->set_source_lead_id(lead_id);
    out.push_back(std::move(command));
  }
  v1::Command command =
      Step(event, absl::StrCat("convert:", lead_id, ":deal"), converted.deal_id());
  auto* create = command.mutable_create_deal();
  create->set_stage_id(converted.deal_stage_id());
  create->set_decided_by_conversion(true);
  v1::Deal* deal = create->mutable_deal();
  deal->set_title(converted.deal_title());
  deal->set_pipeline_id(converted.deal_pipeline_id());
  if (lead.has_opportunity()) *deal->mutable_opportunity() = lead.opportunity();
  deal->set_responsible_id(converted.responsible_id());
  deal->set_contact_id(converted.contact_id());
  deal->set_company_id(converted.company_id());
  deal->set_source_lead_id(lead_id);
  deal->set_source(lead.source());
  *deal->mutable_source_details() = lead.source_details();
  deal->set_comments(lead.comments());
  *deal->mutable_custom_fields() = lead.custom_fields();
  out.push_back(std::move(command));
}

}  // namespace

std::vector<v1::Command> FollowUpCommands(const v1::EventEnvelope& event) {
  std::vector<v1::Command> out;
  if (event.has_lead_converted()) {
    Conversion(event, out);
  } else if (event.has_lead_merged_into()) {
    const std::string& target = event.lead_merged_into().target_lead_id();
    v1::Command command =
        Step(event, absl::StrCat("merge:", event.aggregate_id(), ":absorb"), target);
    v1::Lead* source = command.mutable_absorb_lead()->mutable_source();
    *source = event.lead_merged_into().lead();
    out.push_back(std::move(command));
  } else if (event.has_lead_absorbed() && !event.lead_absorbed().forward_to_lead_id().empty()) {
    const auto& absorbed = event.lead_absorbed();
    v1::Command command = Step(event,
                               absl::StrCat("merge:", absorbed.source_lead_id(),
                                            ":absorb:", absorbed.forward_to_lead_id()),
                               absorbed.forward_to_lead_id());
    *command.mutable_absorb_lead()->mutable_source() = absorbed.source();
    out.push_back(std::move(command));
  } else if (event.has_team_member_picked()) {
    // What the robot step does with the member, or the step's next pick.
    const auto& picked = event.team_member_picked();
    return AwaitingTeamPicks({picked.then().begin(), picked.then().end()},
                             {picked.later().begin(), picked.later().end()});
  }
  return out;
}

}  // namespace leadflow::domain
