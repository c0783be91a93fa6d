#include "leadflow/processors/outcome_relay.h"

#include <cstdio>
#include <string>
#include <vector>

#include "leadflow/base/logger.h"
#include "leadflow/base/proto_util.h"

namespace leadflow::processors {

absl::Status OutcomeRelay::Start() {
  const std::string topic(log::kOutcomesTopic);
  std::vector<int64_t> ends(log_->PartitionCount(topic));
  for (int32_t p = 0; p < static_cast<int32_t>(ends.size()); ++p) {
    auto end = log_->EndOffset(topic, p);
    if (!end.ok()) return end.status();
    ends[p] = *end;
  }
  auto reader = log_->OpenReader(topic, ends);
  if (!reader.ok()) return reader.status();
  reader_ = *std::move(reader);
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void OutcomeRelay::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void OutcomeRelay::Loop() {
  while (!stop_) {
    auto records = reader_->Poll(1000, absl::Milliseconds(200));
    if (!records.ok()) {
      logging::Warning("outcome-relay", "poll failed; retrying",
                       {{"error", records.status().ToString()}});
      absl::SleepFor(absl::Milliseconds(200));
      continue;
    }
    for (const auto& record : *records) {
      v1::CommandOutcome outcome;
      // Progress-only records (and anything else undecodable) carry no outcome.
      if (!ParseProto(record.value, &outcome, "outcome").ok() || outcome.command_id().empty()) {
        continue;
      }
      outcomes_->Publish(outcome);
    }
  }
}

}  // namespace leadflow::processors
