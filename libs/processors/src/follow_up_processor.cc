#include "leadflow/processors/follow_up_processor.h"

#include "leadflow/base/proto_util.h"
#include "leadflow/domain/follow_ups.h"
#include "leadflow/v1/events.pb.h"

namespace leadflow::processors {

absl::Status FollowUpProcessor::Process(const std::vector<log::Record>& batch,
                                        ProcessorTransaction& txn) {
  for (const auto& record : batch) {
    v1::EventEnvelope event;
    // The projection dead-letters undecodable events; nothing follows them.
    if (!ParseProto(record.value, &event, "event record").ok()) continue;
    for (auto& command : domain::FollowUpCommands(event)) {
      log::OutgoingRecord out;
      out.topic = std::string(log::kCommandsTopic);
      out.key = command.aggregate_id();
      out.headers =
          log::CloudEventHeaders(command.command_id(), "leadflow.v1.Command", "leadflow/follow-ups",
                                 FromTimestamp(command.issue_time()));
      out.value = SerializeDeterministic(command);
      txn.Emit(std::move(out));
    }
  }
  return absl::OkStatus();
}

}  // namespace leadflow::processors
