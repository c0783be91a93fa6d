#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "leadflow/domain/access_policy.h"
#include "leadflow/domain/principal.h"
#include "leadflow/processors/item_read_model.h"
#include "leadflow/processors/lead_read_model.h"

namespace leadflow::api {

// An aggregate as the read models have it now: a lead from the lead read
// model, the rest from the item read model; nullopt when not there (or
// `id` is empty).
absl::StatusOr<std::optional<v1::AggregateState>> CurrentState(
    const processors::ItemReadModel& items, const processors::LeadReadModel& leads,
    absl::string_view type, absl::string_view id);

// What one caller may read (and whether it may publish channel events),
// under the access policy in force when the call began: Get answers
// PERMISSION_DENIED for what it may not read; lists, duplicates and streams
// leave it out. Cheap to copy; the rules are domain::Permits.
class CallerAccess {
 public:
  static absl::StatusOr<CallerAccess> For(const domain::Principal& principal,
                                          const processors::ItemReadModel& items,
                                          const processors::LeadReadModel& leads);

  // Nothing is hidden (an administrator, or no policy applied yet): lists
  // then skip the per-item check.
  bool Unrestricted() const { return unrestricted_; }

  bool Visible(const v1::Lead& lead) const;
  bool Visible(const v1::AggregateState& item) const;
  // PERMISSION_DENIED saying why, when not visible.
  absl::Status Check(const v1::Lead& lead) const;
  absl::Status Check(const v1::AggregateState& item) const;
  // An aggregate as it is now: items by their read rights; the other
  // aggregates (pipelines, teams, credentials, access) only when
  // unrestricted. A missing item is not visible.
  absl::StatusOr<bool> VisibleAggregate(absl::string_view type, absl::string_view id) const;
  // Whether the caller may read a responsible's counters
  // (domain::PermitCounters).
  absl::Status CheckCountersOf(absl::string_view responsible_id) const;
  // Whether the caller may read items of `item` type (deals: in
  // `deal_pipeline_id`) whose responsible is `responsible_id`: the figures
  // of reports about them.
  bool VisibleFigures(v1::AccessItem item, absl::string_view deal_pipeline_id,
                      absl::string_view responsible_id) const;
  // Whether the caller may read any item of `item` type (deals: in
  // `deal_pipeline_id`).
  bool MayReadAny(v1::AccessItem item, absl::string_view deal_pipeline_id) const;
  // The members of a team of the access policy; NOT_FOUND naming `field`.
  absl::StatusOr<std::vector<std::string>> TeamMembers(absl::string_view team,
                                                       absl::string_view field) const;
  // Whether the caller may publish channel events (create leads).
  absl::Status MayPublish() const;

 private:
  CallerAccess(std::shared_ptr<const v1::AccessPolicy> policy, domain::Principal principal,
               const processors::ItemReadModel* items, const processors::LeadReadModel* leads);

  std::shared_ptr<const v1::AccessPolicy> policy_;
  domain::Principal principal_;
  const processors::ItemReadModel* items_;
  const processors::LeadReadModel* leads_;
  bool unrestricted_;
};

}  // namespace leadflow::api
