#pragma once

#include "absl/strings/string_view.h"
#include "leadflow/log/log.h"
#include "leadflow/v1/commands.pb.h"

namespace leadflow::processors {

// A command a processor issues, as a record for the commands topic: keyed by
// its aggregate, CloudEvents headers naming `source` ("leadflow/robots").
log::OutgoingRecord CommandRecord(const v1::Command& command, absl::string_view source);

}  // namespace leadflow::processors
