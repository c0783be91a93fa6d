#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "leadflow/log/log.h"

namespace leadflow::processors {

// The dead-letter record for an input record that cannot be processed: the
// original key, bytes and headers, plus headers saying why and where it came
// from (leadflow_reason, leadflow_source_topic/_partition/_offset, and
// leadflow_processor).
log::OutgoingRecord DeadLetter(const log::Record& input, absl::string_view processor,
                               absl::string_view reason);

// The reason as a metric label from a bounded set: the field path it names
// without list indexes ("events[3].call.customer_phone: …" →
// "events.call.customer_phone"), or its first words.
std::string DeadLetterReasonLabel(absl::string_view reason);

// Counts the dead letters among records a unit committed
// (leadflow_dead_letters_total{processor, reason}).
void CountDeadLetters(const std::vector<log::OutgoingRecord>& committed);

}  // namespace leadflow::processors
