#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "leadflow/processors/processor.h"
#include "leadflow/store/state_store.h"
#include "leadflow/v1/crm.pb.h"
#include "leadflow/v1/service.pb.h"

namespace leadflow::processors {

// Per-responsible counters, kept by CrmProjection in `views`:
//   due/<responsible>\0<deadline µs, 20 digits>/<activity>   planned activities
//   planned/<owner>                 how many planned activities the lead/deal has
//   owner/<owner>                   "1|0" (open) + "\0" + responsible
//   idle/<responsible>\0<owner>     open leads/deals with nothing planned
//   idle_of/<owner>                 whose idle list holds the owner
//   open/<responsible>\0<owner>     open leads/deals (the load robots balance)
// Due-today and overdue depend on the time asked, so they are counted at
// query time from the deadline index; the rest is kept up to date as
// events are applied. Owners are resource names ("leads/x", "deals/y").
// Thread-safe for reads.
class ActivityCounters {
 public:
  explicit ActivityCounters(const store::StateStore* db) : db_(db) {}

  // An activity changed from `before` (nullptr if new) to `after`.
  absl::Status StageActivity(ProcessorTransaction& txn, const v1::Activity* before,
                             const v1::Activity& after) const;
  // A lead or deal is now open or closed, and whose.
  absl::Status StageOwner(ProcessorTransaction& txn, absl::string_view owner,
                          absl::string_view responsible, bool open) const;

  // How many open leads and deals `responsible` has.
  absl::StatusOr<int64_t> OpenItems(absl::string_view responsible) const;

  // How many planned activities of `responsible` are past their deadline
  // at `now` (reads only their deadline index, not their open items).
  absl::StatusOr<int64_t> Overdue(absl::string_view responsible, absl::Time now) const;

  // The counters of `responsible` at `now`; "today" ends at `end_of_day`.
  absl::StatusOr<v1::Counters> Count(absl::string_view responsible, absl::Time now,
                                     absl::Time end_of_day) const;

 private:
  // Overdue and due-today activities, from the deadline index.
  absl::Status CountDue(absl::string_view responsible, absl::Time now, absl::Time end_of_day,
                        v1::Counters* counters) const;
  absl::Status AdjustPlanned(ProcessorTransaction& txn, absl::string_view owner, int delta) const;
  absl::Status RefreshIdle(ProcessorTransaction& txn, absl::string_view owner) const;

  const store::StateStore* db_;
};

}  // namespace leadflow::processors
