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

namespace leadflow::processors {

log::OutgoingRecord ForwardedRecord(const log::Record& record, std::string key) {
  log::OutgoingRecord forward;
  forward.topic = record.topic;
  forward.key = std::move(key);
  forward.value = record.value;
  for (const auto& header : record.headers) forward.headers.push_back(header);
  return forward;
}

}  // namespace leadflow::processors
