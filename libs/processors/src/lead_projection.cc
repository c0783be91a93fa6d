#include "leadflow/processors/lead_projection.h"

#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/lead_aggregate.h"
#include "leadflow/processors/dead_letter.h"
#include "leadflow/v1/events.pb.h"

namespace leadflow::processors {

LeadProjection::LeadProjection(const store::Database* db, const LeadReadModel* model,
                               const TimelineReadModel* timeline)
    : db_(db), model_(model), timeline_(timeline) {}

absl::Status LeadProjection::Process(const std::vector<log::Record>& batch,
                                     ProcessorTransaction& txn) {
  for (const auto& record : batch) {
    v1::EventEnvelope event;
    absl::Status parsed = ParseProto(record.value, &event, "event record");
    if (!parsed.ok()) {
      // Our own topic: a record here that does not decode is a bug or
      // corruption. Keep it visible; do not stop the read model.
      txn.Emit(DeadLetter(record, Name(), parsed.message()));
      ++skipped_;
      continue;
    }
    if (event.aggregate_type() != "lead") continue;
    LEADFLOW_ASSIGN_OR_RETURN(
        auto stored, txn.Get(db_->views_family(), LeadReadModel::LeadKey(event.aggregate_id())));
    std::optional<v1::Lead> before;
    if (stored.has_value()) {
      LEADFLOW_RETURN_IF_ERROR(ParseProto(*stored, &before.emplace(), "read model lead"));
    }
    const int64_t have = before.has_value() ? before->version() : 0;
    if (event.aggregate_version() != have + 1) {
      // Already applied (replay) or out of order: applying it would corrupt.
      if (event.aggregate_version() > have + 1) {
        txn.Emit(DeadLetter(record, Name(), "lead event version gap"));
      }
      ++skipped_;
      continue;
    }
    v1::Lead after = domain::EvolveLead(before.value_or(v1::Lead()), event);
    model_->Stage(txn, before.has_value() ? &*before : nullptr, after);
    timeline_->Stage(txn, event, record.value);
  }
  return absl::OkStatus();
}

void LeadProjection::AfterCommit(int32_t partition, int64_t next_offset,
                                 const std::vector<log::Position>& outputs) {
  absl::MutexLock lock(&mu_);
  if (partition >= static_cast<int32_t>(applied_.size())) applied_.resize(partition + 1, 0);
  applied_[partition] = next_offset;
}

void LeadProjection::ResumeFrom(std::vector<int64_t> applied) {
  absl::MutexLock lock(&mu_);
  applied_ = std::move(applied);
}

bool LeadProjection::WaitForApplied(int32_t partition, int64_t offset, absl::Time deadline) const {
  auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return partition >= 0 && partition < static_cast<int32_t>(applied_.size()) &&
           applied_[partition] > offset;
  };
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithDeadline(absl::Condition(&done), deadline);
}

}  // namespace leadflow::processors
