#pragma once

#include <atomic>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "leadflow/processors/lead_read_model.h"
#include "leadflow/processors/processor.h"
#include "leadflow/processors/timeline_read_model.h"

namespace leadflow::processors {

// Folds lead events into the read model with the same domain::EvolveLead the
// command side uses, so a rebuilt read model equals the live one byte for
// byte. Each applied event also goes to the lead's timeline. Its offsets
// live in `views` beside the read model. An event whose version the model
// already has is skipped (idempotent).
class LeadProjection final : public Processor {
 public:
  LeadProjection(const store::Database* db, const LeadReadModel* model,
                 const TimelineReadModel* timeline);

  std::string Name() const override { return "lead-projection"; }
  std::string InputTopic() const override { return std::string(log::kEventsTopic); }
  rocksdb::ColumnFamilyHandle* StateFamily() const override { return db_->views_family(); }
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
  const store::Database* db_;
  const LeadReadModel* model_;
  const TimelineReadModel* timeline_;
  mutable absl::Mutex mu_;
  std::vector<int64_t> applied_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> skipped_{0};
};

}  // namespace leadflow::processors
