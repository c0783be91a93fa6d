#include "leadflow/processors/follow_up_processor.h"

#include "leadflow/base/proto_util.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/follow_ups.h"
#include "leadflow/processors/command_record.h"
#include "leadflow/v1/events.pb.h"
#include "leadflow/v1/robots.pb.h"

namespace leadflow::processors {
namespace {

// What the integrations are to deliver because of `event`, if anything:
// notifications and reminders, emails and SMS.
std::optional<log::OutgoingRecord> FollowUpRecord(const v1::EventEnvelope& event) {
  v1::FollowUp follow_up;
  std::string kind;
  if (event.has_responsible_notified()) {
    const auto& notified = event.responsible_notified();
    v1::Notification* notification = follow_up.mutable_notification();
    notification->set_user_id(notified.user_id());
    notification->set_text(notified.reason());
    notification->set_priority(notified.priority());
    notification->set_activity_id(notified.activity_id());
    kind = notified.activity_id().empty() ? "Notification" : "Reminder";
  } else if (event.has_message_requested()) {
    *follow_up.mutable_message() = event.message_requested().message();
    kind =
        event.message_requested().message().channel() == v1::MESSAGE_CHANNEL_SMS ? "Sms" : "Email";
  } else {
    return std::nullopt;
  }
  follow_up.set_followup_id(event.event_id());
  *follow_up.mutable_time() = event.occur_time();
  follow_up.set_item(domain::ResourceName(event.aggregate_type(), event.aggregate_id()));
  if (event.has_robot()) *follow_up.mutable_robot() = event.robot();
  return log::MakeRecord(
      std::string(log::kFollowupsTopic), follow_up.item(), SerializeDeterministic(follow_up),
      log::CloudEventHeaders(event.event_id(), absl::StrCat("leadflow.followup.v1.", kind),
                             absl::StrCat("leadflow/", event.aggregate_type()),
                             FromTimestamp(event.occur_time())));
}

}  // namespace

absl::Status FollowUpProcessor::Process(const std::vector<log::Record>& batch,
                                        ProcessorTransaction& txn) {
  for (const auto& record : batch) {
    v1::EventEnvelope event;
    // The projection dead-letters undecodable events; nothing follows them.
    if (!ParseProto(record.value, &event, "event record").ok()) continue;
    for (auto& command : domain::FollowUpCommands(event)) {
      txn.Emit(CommandRecord(command, "leadflow/follow-ups"));
    }
    if (auto follow_up = FollowUpRecord(event)) txn.Emit(std::move(*follow_up));
  }
  return absl::OkStatus();
}

}  // namespace leadflow::processors
