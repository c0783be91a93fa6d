#pragma once

#include <atomic>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "leadflow/processors/activity_counters.h"
#include "leadflow/processors/item_read_model.h"
#include "leadflow/processors/lead_read_model.h"
#include "leadflow/processors/processor.h"
#include "leadflow/processors/report_read_model.h"
#include "leadflow/processors/timeline_read_model.h"

namespace leadflow::processors {

// Folds every event into the read models with the same domain::Evolve the
// command side uses, so a rebuilt read model equals the live one byte for
// byte: leads into LeadReadModel, the other aggregates into ItemReadModel,
// activities and the open/closed state of leads and deals into
// ActivityCounters, report figures into ReportReadModel, and every event
// into its aggregate's timeline. Its
// offsets live in `views` beside the read models. An event whose version
// the model already has is skipped (idempotent).
class CrmProjection final : public Processor {
 public:
  struct Models {
    const LeadReadModel* leads = nullptr;
    const ItemReadModel* items = nullptr;
    const TimelineReadModel* timeline = nullptr;
    const ActivityCounters* counters = nullptr;
    ReportReadModel* reports = nullptr;
  };
  explicit CrmProjection(Models models);

  std::string Name() const override { return "projection"; }
  std::string InputTopic() const override { return std::string(log::kEventsTopic); }
  store::Keyspace StateKeyspace() const override { return store::Keyspace::kViews; }
  // Every instance keeps a whole read model.
  bool Replicated() const override { return true; }
  absl::Status Process(const std::vector<log::Record>& batch, ProcessorTransaction& txn) override;
  void AfterCommit(int32_t partition, int64_t next_offset,
                   const std::vector<log::Position>& outputs) override;

  // Sets the applied offsets after the runner read them at start.
  void ResumeFrom(std::vector<int64_t> applied);
  // Waits until the record at `offset` of `partition` is applied, or
  // `deadline`. Returns whether it was.
  bool WaitForApplied(int32_t partition, int64_t offset, absl::Time deadline) const;

  int64_t skipped() const { return skipped_.load(); }

 private:
  enum class Applied { kApplied, kAlreadyApplied, kVersionGap };
  Applied Check(int64_t have, const v1::EventEnvelope& event) const;
  absl::StatusOr<Applied> ApplyLead(const v1::EventEnvelope& event, ProcessorTransaction& txn);
  absl::StatusOr<Applied> ApplyItem(const v1::EventEnvelope& event, ProcessorTransaction& txn);

  const Models models_;
  mutable absl::Mutex mu_;
  std::vector<int64_t> applied_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> skipped_{0};
  bool configuration_changed_ =
      false;  // pipelines or access, by the batch in flight (the runner's thread)
};

}  // namespace leadflow::processors
