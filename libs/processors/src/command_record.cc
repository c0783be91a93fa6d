#include "leadflow/processors/command_record.h"

#include "leadflow/base/proto_util.h"

namespace leadflow::processors {

log::OutgoingRecord CommandRecord(const v1::Command& command, absl::string_view source) {
  return log::MakeRecord(std::string(log::kCommandsTopic), command.aggregate_id(),
                         SerializeDeterministic(command),
                         log::CloudEventHeaders(command.command_id(), "leadflow.v1.Command", source,
                                                FromTimestamp(command.issue_time())));
}

}  // namespace leadflow::processors
