#pragma once

#include <functional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "leadflow/v1/crm.pb.h"
#include "leadflow/v1/service.pb.h"

namespace leadflow::domain {

// The list filters beyond the indexed ones (v1::ListFilter), as rules: what
// each item type accepts and whether an item passes.

// INVALID_ARGUMENT naming "filter.<field>" for a filter items of `type`
// ("lead", "contact", "company", "deal", "activity") have none of, or a
// range whose end is not after its start.
absl::Status CheckListFilter(const v1::ListFilter& filter, absl::string_view type);

// Whether the filter asks anything.
bool IsEmptyListFilter(const v1::ListFilter& filter);

// Whether the item passes every filter set. `has_overdue_activity` is asked
// only when that filter is set (it reads the item's activities).
bool MatchesListFilter(const v1::ListFilter& filter, const v1::Lead& lead,
                       const std::function<bool()>& has_overdue_activity);
bool MatchesListFilter(const v1::ListFilter& filter, const v1::AggregateState& item,
                       const std::function<bool()>& has_overdue_activity);

// Whether a planned activity is past its deadline at `now_seconds`.
bool IsOverdue(const v1::Activity& activity, int64_t now_seconds);

}  // namespace leadflow::domain
