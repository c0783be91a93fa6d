#pragma once

#include "absl/strings/string_view.h"
#include "leadflow/log/log.h"

namespace leadflow::processors {

// The dead-letter record for an input record that cannot be processed: the
// original key, bytes and headers, plus headers saying why and where it came
// from (leadflow_reason, leadflow_source_topic/_partition/_offset, and
// leadflow_processor).
log::OutgoingRecord DeadLetter(const log::Record& input, absl::string_view processor,
                               absl::string_view reason);

}  // namespace leadflow::processors
