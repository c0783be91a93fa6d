#include "leadflow/processors/dead_letter.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "leadflow/base/logger.h"
#include "leadflow/metrics/registry.h"

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

std::string DeadLetterReasonLabel(absl::string_view reason) {
  absl::string_view head = reason.substr(0, reason.find(':'));
  std::string label;
  bool in_index = false;
  for (char c : head) {
    if (c == '[') in_index = true;
    if (!in_index) label += c;
    if (c == ']') in_index = false;
  }
  // Free text rather than a path: keep it short so it stays one of few.
  constexpr size_t kMaxLabel = 48;
  if (label.size() > kMaxLabel)
    label = std::string(absl::StripAsciiWhitespace(label.substr(0, kMaxLabel)));
  return label.empty() ? "unknown" : label;
}

void CountDeadLetters(const std::vector<log::OutgoingRecord>& committed) {
  static metrics::Family<metrics::Counter>& dead_letters = metrics::DefaultRegistry().AddCounter(
      "leadflow_dead_letters_total",
      "Input records sent to the dead-letter topic, by processor and reason (the field named).",
      {"processor", "reason"});
  for (const auto& record : committed) {
    if (record.topic != log::kDeadLetterTopic) continue;
    auto header = [&](absl::string_view name) -> std::string {
      for (const auto& h : record.headers) {
        if (h.key == name) return h.value;
      }
      return "";
    };
    const std::string processor = header("leadflow_processor");
    const std::string reason = header("leadflow_reason");
    dead_letters.With({processor, DeadLetterReasonLabel(reason)}).Increment();
    logging::Warning("processor", "dead letter",
                     {{"processor", processor},
                      {"reason", reason},
                      {"key", record.key},
                      {"source_topic", header("leadflow_source_topic")},
                      {"source_partition", header("leadflow_source_partition")},
                      {"source_offset", header("leadflow_source_offset")}});
  }
}

}  // namespace leadflow::processors
