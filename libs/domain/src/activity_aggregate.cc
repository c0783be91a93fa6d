// Activities: calls, emails, meetings and tasks on a lead or deal.

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "aggregates.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/field_error.h"

namespace leadflow::domain {
namespace {

absl::Status CheckPlanned(const v1::Activity& activity, absl::string_view field) {
  if (activity.state() != v1::ACTIVITY_STATE_PLANNED) {
    return FieldError(absl::StatusCode::kFailedPrecondition, field,
                      absl::StrCat("activity ", activity.activity_id(), " is completed"));
  }
  return absl::OkStatus();
}

bool HasTime(const google::protobuf::Timestamp& t) { return t.seconds() != 0 || t.nanos() != 0; }

}  // namespace

absl::Status DecideActivityCommand(const v1::Activity* current, const v1::Command& command,
                                   EventSink& sink) {
  switch (command.command_case()) {
    case v1::Command::kPlanActivity: {
      v1::Activity activity = command.plan_activity().activity();
      if (activity.type() == v1::ACTIVITY_TYPE_UNSPECIFIED) {
        return InvalidField("activity.type", "required: call, email, meeting or task");
      }
      if (absl::StripAsciiWhitespace(activity.subject()).empty()) {
        return InvalidField("activity.subject", "required");
      }
      LEADFLOW_ASSIGN_OR_RETURN(auto owner, ParseResourceName(activity.owner(), "activity.owner"));
      if (owner.first != "lead" && owner.first != "deal") {
        return InvalidField("activity.owner", "an activity is on a lead or a deal");
      }
      if (activity.responsible_id().empty()) {
        return InvalidField("activity.responsible_id", "required");
      }
      LEADFLOW_RETURN_IF_ERROR(
          CheckResponsible(activity.responsible_id(), "activity.responsible_id"));
      if (!HasTime(activity.deadline())) return InvalidField("activity.deadline", "required");
      activity.set_activity_id(command.aggregate_id());
      activity.set_name(ResourceName("activity", command.aggregate_id()));
      activity.set_state(v1::ACTIVITY_STATE_PLANNED);
      activity.clear_version();
      activity.clear_result();
      activity.clear_complete_time();
      activity.clear_reschedule_count();
      activity.clear_create_time();
      activity.clear_update_time();
      activity.clear_robot_id();
      *sink.Add().mutable_activity_planned()->mutable_activity() = std::move(activity);
      return absl::OkStatus();
    }
    case v1::Command::kCompleteActivity:
      LEADFLOW_RETURN_IF_ERROR(CheckPlanned(*current, "name"));
      sink.Add().mutable_activity_completed()->set_result(command.complete_activity().result());
      return absl::OkStatus();
    case v1::Command::kRescheduleActivity: {
      const auto& reschedule = command.reschedule_activity();
      if (!HasTime(reschedule.deadline())) return InvalidField("deadline", "required");
      LEADFLOW_RETURN_IF_ERROR(CheckPlanned(*current, "name"));
      if (reschedule.deadline().SerializeAsString() == current->deadline().SerializeAsString()) {
        return absl::OkStatus();
      }
      auto* rescheduled = sink.Add().mutable_activity_rescheduled();
      *rescheduled->mutable_from_deadline() = current->deadline();
      *rescheduled->mutable_to_deadline() = reschedule.deadline();
      rescheduled->set_reason(reschedule.reason());
      return absl::OkStatus();
    }
    default:
      return InvalidField("command", "not an activity command");
  }
}

void EvolveActivityState(v1::Activity& activity, const v1::EventEnvelope& event) {
  if (event.has_activity_planned()) {
    activity = event.activity_planned().activity();
    *activity.mutable_create_time() = event.occur_time();
    if (event.has_robot() && event.robot().trigger_id().empty()) {
      activity.set_robot_id(event.robot().robot_id());
    }
  } else if (event.has_activity_completed()) {
    activity.set_state(v1::ACTIVITY_STATE_COMPLETED);
    activity.set_result(event.activity_completed().result());
    *activity.mutable_complete_time() = event.occur_time();
  } else if (event.has_activity_rescheduled()) {
    *activity.mutable_deadline() = event.activity_rescheduled().to_deadline();
    activity.set_reschedule_count(activity.reschedule_count() + 1);
  }
  activity.set_version(event.aggregate_version());
  *activity.mutable_update_time() = event.occur_time();
}

}  // namespace leadflow::domain
