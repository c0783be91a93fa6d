#include "leadflow/processors/crm_projection.h"

#include "absl/strings/str_cat.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/lead_aggregate.h"
#include "leadflow/domain/pipelines.h"
#include "leadflow/processors/dead_letter.h"
#include "leadflow/v1/events.pb.h"

namespace leadflow::processors {

CrmProjection::CrmProjection(Models models) : models_(models) {}

CrmProjection::Applied CrmProjection::Check(int64_t have, const v1::EventEnvelope& event) const {
  if (event.aggregate_version() <= have) return Applied::kAlreadyApplied;
  if (event.aggregate_version() > have + 1) return Applied::kVersionGap;
  return Applied::kApplied;
}

absl::StatusOr<CrmProjection::Applied> CrmProjection::ApplyLead(const v1::EventEnvelope& event,
                                                                ProcessorTransaction& txn) {
  LEADFLOW_ASSIGN_OR_RETURN(
      auto stored, txn.Get(store::Keyspace::kViews, LeadReadModel::LeadKey(event.aggregate_id())));
  std::optional<v1::Lead> before;
  if (stored.has_value()) {
    LEADFLOW_RETURN_IF_ERROR(ParseProto(*stored, &before.emplace(), "read model lead"));
  }
  const Applied check = Check(before.has_value() ? before->version() : 0, event);
  if (check != Applied::kApplied) return check;
  v1::Lead after = domain::EvolveLead(before.value_or(v1::Lead()), event);
  models_.leads->Stage(txn, before.has_value() ? &*before : nullptr, after);
  if (event.has_communication_recorded()) {
    models_.leads->StageChannelEvent(txn, event.communication_recorded().channel_event().id(),
                                     after.lead_id());
  }
  LEADFLOW_RETURN_IF_ERROR(models_.counters->StageOwner(
      txn, domain::LeadResourceName(after.lead_id()), after.responsible_id(),
      !domain::IsTerminal(after.status_semantic())));
  LEADFLOW_RETURN_IF_ERROR(models_.reports->StageLead(txn, event, after));
  return Applied::kApplied;
}

absl::StatusOr<CrmProjection::Applied> CrmProjection::ApplyItem(const v1::EventEnvelope& event,
                                                                ProcessorTransaction& txn) {
  LEADFLOW_ASSIGN_OR_RETURN(auto before,
                            models_.items->Get(txn, event.aggregate_type(), event.aggregate_id()));
  const Applied check = Check(before.has_value() ? domain::VersionOf(*before) : 0, event);
  if (check != Applied::kApplied) return check;
  v1::AggregateState after = domain::Evolve(before.value_or(v1::AggregateState()), event);
  models_.items->Stage(txn, before.has_value() ? &*before : nullptr, after);
  if (after.has_pipeline() || after.has_access_policy()) configuration_changed_ = true;
  if (after.has_activity()) {
    LEADFLOW_RETURN_IF_ERROR(models_.counters->StageActivity(
        txn, before.has_value() ? &before->activity() : nullptr, after.activity()));
    LEADFLOW_RETURN_IF_ERROR(models_.reports->StageActivity(
        txn, before.has_value() ? &before->activity() : nullptr, after.activity()));
  } else if (after.has_deal()) {
    LEADFLOW_RETURN_IF_ERROR(models_.reports->StageDeal(txn, after.deal()));
    LEADFLOW_RETURN_IF_ERROR(
        models_.counters->StageOwner(txn, after.deal().name(), after.deal().responsible_id(),
                                     !domain::IsTerminal(after.deal().stage_semantic())));
  }
  return Applied::kApplied;
}

absl::Status CrmProjection::Process(const std::vector<log::Record>& batch,
                                    ProcessorTransaction& txn) {
  configuration_changed_ = false;
  models_.reports->Begin();
  for (const auto& record : batch) {
    v1::EventEnvelope event;
    absl::Status parsed = ParseProto(record.value, &event, "event record");
    if (parsed.ok() && !domain::ParseResourceName(
                            domain::ResourceName(event.aggregate_type(), event.aggregate_id()), "")
                            .ok()) {
      parsed = absl::InvalidArgumentError(absl::StrCat(
          "unknown aggregate '", event.aggregate_type(), "' '", event.aggregate_id(), "'"));
    }
    if (!parsed.ok()) {
      // Our own topic: a record here that does not decode is a bug or
      // corruption. Keep it visible; do not stop the read model.
      txn.Emit(DeadLetter(record, Name(), parsed.message()));
      ++skipped_;
      continue;
    }
    LEADFLOW_ASSIGN_OR_RETURN(Applied applied, event.aggregate_type() == "lead"
                                                   ? ApplyLead(event, txn)
                                                   : ApplyItem(event, txn));
    if (applied != Applied::kApplied) {
      // Already applied (replay) or out of order: applying it would corrupt.
      if (applied == Applied::kVersionGap) {
        txn.Emit(DeadLetter(record, Name(), "event version gap"));
      }
      ++skipped_;
      continue;
    }
    models_.timeline->Stage(txn, event, record.value);
  }
  return models_.reports->Flush(txn);
}

void CrmProjection::AfterCommit(int32_t partition, int64_t next_offset,
                                const std::vector<log::Position>& outputs) {
  if (configuration_changed_) models_.items->ConfigurationChanged();
  absl::MutexLock lock(&mu_);
  if (partition >= static_cast<int32_t>(applied_.size())) applied_.resize(partition + 1, 0);
  applied_[partition] = next_offset;
}

void CrmProjection::ResumeFrom(std::vector<int64_t> applied) {
  absl::MutexLock lock(&mu_);
  applied_ = std::move(applied);
}

bool CrmProjection::WaitForApplied(int32_t partition, int64_t offset, absl::Time deadline) const {
  auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return partition >= 0 && partition < static_cast<int32_t>(applied_.size()) &&
           applied_[partition] > offset;
  };
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithDeadline(absl::Condition(&done), deadline);
}

}  // namespace leadflow::processors
