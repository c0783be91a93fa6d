#pragma once

#include "absl/strings/string_view.h"
#include "leadflow/log/log.h"
#include "leadflow/v1/commands.pb.h"

namespace leadflow::processors {

// A command a processor issues, as a record for the commands topic: keyed by
// its aggregate, CloudEvents headers naming `source` ("leadflow/robots").
log::OutgoingRecord CommandRecord(const v1::Command& command, absl::string_view source);

}  // namespace leadflow::processors

namespace leadflow::processors {

// `record` as it came (the same bytes and headers) on its own topic, keyed
// `key`: a record published on another partition than the one its key
// says (by a producer with another partitioner, or by hand) goes to where
// its single writer reads.
log::OutgoingRecord ForwardedRecord(const log::Record& record, std::string key);

}  // namespace leadflow::processors
