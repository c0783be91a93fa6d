#include "leadflow/processors/dead_letter.h"

#include "absl/strings/str_cat.h"

namespace leadflow::processors {

log::OutgoingRecord DeadLetter(const log::Record& input, absl::string_view processor,
                               absl::string_view reason) {
  log::OutgoingRecord out;
  out.topic = std::string(log::kDeadLetterTopic);
  out.key = input.key;
  out.value = input.value;
  out.headers = input.headers;
  out.headers.push_back({"leadflow_reason", std::string(reason)});
  out.headers.push_back({"leadflow_processor", std::string(processor)});
  out.headers.push_back({"leadflow_source_topic", input.topic});
  out.headers.push_back({"leadflow_source_partition", absl::StrCat(input.partition)});
  out.headers.push_back({"leadflow_source_offset", absl::StrCat(input.offset)});
  return out;
}

}  // namespace leadflow::processors
