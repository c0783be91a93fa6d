#pragma once

#include "leadflow/processors/processor.h"

namespace leadflow::processors {

// The process manager of steps that span aggregates: reads the events topic
// and puts on the commands topic what domain::FollowUpCommands says each
// event causes (the records a conversion creates, the merged lead's
// absorption), in the same unit as its input offset. So a crash between the
// steps loses none (the event is read again) and repeats none that were
// applied (the commands' ids derive from the lead; the command processor
// answers a known id with its old outcome). Stateless beyond its offsets:
// its changelog holds only the runner's unit markers, so a new owner of a
// partition resumes where the last one stopped rather than at the start.
class FollowUpProcessor final : public Processor {
 public:
  FollowUpProcessor() = default;

  std::string Name() const override { return "follow-ups"; }
  std::string InputTopic() const override { return std::string(log::kEventsTopic); }
  store::Keyspace StateKeyspace() const override { return store::Keyspace::kState; }
  absl::Status Process(const std::vector<log::Record>& batch, ProcessorTransaction& txn) override;
  std::vector<std::string> ChangelogTopics() const override {
    return {std::string(log::kFollowUpStateTopic)};
  }
};

}  // namespace leadflow::processors
