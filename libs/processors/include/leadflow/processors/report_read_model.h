#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "leadflow/domain/reports.h"
#include "leadflow/processors/processor.h"
#include "leadflow/store/state_store.h"

namespace leadflow::processors {

// The figures reports are read off, kept by CrmProjection in `views`:
//   report-fact/lead/<id>, report-fact/deal/<id>   what reports need of an item
//   report/<family>/<bucket>/<dims>                 summed figures (domain/reports.h)
// The projection stages each item's change; Flush writes the batch's cell
// changes, summed, so a batch of 250 events touching one cell writes it
// once. Staging is for the projection's thread only; reads are thread-safe.
class ReportReadModel {
 public:
  explicit ReportReadModel(const store::StateStore* db) : db_(db) {}

  // A batch begins: forget what a failed attempt staged.
  void Begin();
  // A lead event was applied, giving `after`.
  absl::Status StageLead(ProcessorTransaction& txn, const v1::EventEnvelope& event,
                         const v1::Lead& after);
  // A deal event was applied, giving `after`.
  absl::Status StageDeal(ProcessorTransaction& txn, const v1::Deal& after);
  // An activity changed from `before` (nullptr if new) to `after`.
  absl::Status StageActivity(ProcessorTransaction& txn, const v1::Activity* before,
                             const v1::Activity& after);
  // Writes the cells the staged changes touch.
  absl::Status Flush(ProcessorTransaction& txn);

  // The cells of `family` whose bucket is in [from, to).
  absl::StatusOr<std::vector<domain::ReportCellView>> Cells(char family, absl::Time from,
                                                            absl::Time to) const;

 private:
  const store::StateStore* db_;
  domain::ReportCells pending_;
};

}  // namespace leadflow::processors
