#pragma once

#include <vector>

#include "absl/strings/string_view.h"
#include "leadflow/v1/commands.pb.h"
#include "leadflow/v1/events.pb.h"

namespace leadflow::domain {

// Builds the envelopes of the events one command causes: ids derived from
// the command id, versions following `base_version`, time, actor and
// causation from the command.
class EventSink {
 public:
  EventSink(absl::string_view aggregate_type, int64_t base_version, const v1::Command& command);

  v1::EventEnvelope& Add();
  std::vector<v1::EventEnvelope> Finish();

 private:
  const std::string aggregate_type_;
  const v1::Command& command_;
  const int64_t base_version_;
  std::vector<v1::EventEnvelope> events_;
};

}  // namespace leadflow::domain
