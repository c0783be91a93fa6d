#include "leadflow/api/caller_access.h"

#include "absl/strings/str_cat.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/field_error.h"

namespace leadflow::api {

CallerAccess::CallerAccess(std::shared_ptr<const v1::AccessPolicy> policy,
                           domain::Principal principal, const processors::ItemReadModel* items,
                           const processors::LeadReadModel* leads)
    : policy_(std::move(policy)),
      principal_(std::move(principal)),
      items_(items),
      leads_(leads),
      unrestricted_(domain::IsOpen(*policy_) || principal_.HasRole(domain::kAdministratorRole)) {}

absl::StatusOr<CallerAccess> CallerAccess::For(const domain::Principal& principal,
                                               const processors::ItemReadModel& items,
                                               const processors::LeadReadModel& leads) {
  LEADFLOW_ASSIGN_OR_RETURN(std::shared_ptr<const v1::AccessPolicy> policy, items.AccessPolicy());
  return CallerAccess(std::move(policy), principal, &items, &leads);
}

bool CallerAccess::Visible(const v1::Lead& lead) const {
  return unrestricted_ ||
         domain::Permits(*policy_, principal_, v1::ACCESS_ACTION_READ, domain::TargetOf(lead));
}

bool CallerAccess::VisibleFigures(v1::AccessItem item, absl::string_view deal_pipeline_id,
                                  absl::string_view responsible_id) const {
  if (unrestricted_) return true;
  domain::AccessTarget target;
  target.item = item;
  target.deal_pipeline_id = std::string(deal_pipeline_id);
  target.responsible_id = std::string(responsible_id);
  return domain::Permits(*policy_, principal_, v1::ACCESS_ACTION_READ, target);
}

bool CallerAccess::MayReadAny(v1::AccessItem item, absl::string_view deal_pipeline_id) const {
  return unrestricted_ || domain::ScopeFor(*policy_, principal_, v1::ACCESS_ACTION_READ, item,
                                           deal_pipeline_id) != v1::ACCESS_SCOPE_NONE;
}

absl::StatusOr<std::vector<std::string>> CallerAccess::TeamMembers(absl::string_view team,
                                                                   absl::string_view field) const {
  for (const auto& t : policy_->teams()) {
    if (t.team_id() == team)
      return std::vector<std::string>(t.members().begin(), t.members().end());
  }
  return domain::FieldError(absl::StatusCode::kNotFound, field,
                            absl::StrCat("no team '", team, "' in the access policy"));
}

bool CallerAccess::Visible(const v1::AggregateState& item) const {
  if (unrestricted_) return true;
  const domain::AccessTarget target = domain::TargetOf(item);
  if (target.item == v1::ACCESS_ITEM_UNSPECIFIED) return false;
  return domain::Permits(*policy_, principal_, v1::ACCESS_ACTION_READ, target);
}

absl::Status CallerAccess::Check(const v1::Lead& lead) const {
  if (unrestricted_) return absl::OkStatus();
  return domain::Permit(*policy_, principal_, v1::ACCESS_ACTION_READ, domain::TargetOf(lead));
}

absl::Status CallerAccess::Check(const v1::AggregateState& item) const {
  if (unrestricted_) return absl::OkStatus();
  return domain::Permit(*policy_, principal_, v1::ACCESS_ACTION_READ, domain::TargetOf(item));
}

absl::StatusOr<std::optional<v1::AggregateState>> CurrentState(
    const processors::ItemReadModel& items, const processors::LeadReadModel& leads,
    absl::string_view type, absl::string_view id) {
  if (id.empty()) return std::nullopt;
  if (type != "lead") return items.Get(type, id);
  LEADFLOW_ASSIGN_OR_RETURN(std::optional<v1::Lead> lead, leads.Get(id));
  std::optional<v1::AggregateState> state;
  if (lead.has_value()) *state.emplace().mutable_lead() = *std::move(lead);
  return state;
}

absl::StatusOr<bool> CallerAccess::VisibleAggregate(absl::string_view type,
                                                    absl::string_view id) const {
  if (unrestricted_) return true;
  LEADFLOW_ASSIGN_OR_RETURN(std::optional<v1::AggregateState> item,
                            CurrentState(*items_, *leads_, type, id));
  return item.has_value() && Visible(*item);
}

absl::Status CallerAccess::CheckCountersOf(absl::string_view responsible_id) const {
  if (unrestricted_) return absl::OkStatus();
  return domain::PermitCounters(*policy_, principal_, responsible_id);
}

absl::Status CallerAccess::MayPublish() const {
  if (unrestricted_) return absl::OkStatus();
  domain::AccessTarget target;
  target.item = v1::ACCESS_ITEM_LEAD;
  target.creating = true;
  return domain::Permit(*policy_, principal_, v1::ACCESS_ACTION_CREATE, target);
}

}  // namespace leadflow::api
