#include "leadflow/domain/list_filter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/identity.h"

namespace leadflow::domain {
namespace {

bool Has(const google::protobuf::Timestamp& t) { return t.seconds() != 0 || t.nanos() != 0; }

bool Before(const google::protobuf::Timestamp& a, const google::protobuf::Timestamp& b) {
  return a.seconds() < b.seconds() || (a.seconds() == b.seconds() && a.nanos() < b.nanos());
}

// [from, to) with either end open when unset.
bool InRange(const google::protobuf::Timestamp& t, const google::protobuf::Timestamp& from,
             const google::protobuf::Timestamp& to) {
  if (Has(from) && Before(t, from)) return false;
  if (Has(to) && !Before(t, to)) return false;
  return true;
}

bool Searched(const v1::ListFilter& filter, const std::vector<absl::string_view>& texts) {
  if (filter.query().empty()) return true;
  std::vector<std::string> all;
  for (absl::string_view text : texts) {
    for (auto& word : SearchWords(text)) all.push_back(std::move(word));
  }
  const std::string haystack = absl::StrJoin(all, " ");
  for (const auto& word : SearchWords(filter.query())) {
    if (haystack.find(word) == std::string::npos) return false;
  }
  return true;
}

bool Common(const v1::ListFilter& filter, const google::protobuf::Timestamp& create,
            const google::protobuf::Timestamp& update,
            const std::vector<absl::string_view>& texts) {
  return InRange(create, filter.create_time_from(), filter.create_time_to()) &&
         InRange(update, filter.update_time_from(), filter.update_time_to()) &&
         Searched(filter, texts);
}

bool Overdue(const v1::ListFilter& filter, const std::function<bool()>& has_overdue_activity) {
  return !filter.has_has_overdue_activity() ||
         has_overdue_activity() == filter.has_overdue_activity();
}

}  // namespace

absl::Status CheckListFilter(const v1::ListFilter& filter, absl::string_view type) {
  const bool lead = type == "lead";
  const bool deal = type == "deal";
  FieldViolations violations;
  auto only = [&](bool set, bool allowed, absl::string_view field, absl::string_view who) {
    if (set && !allowed) {
      violations.Add(InvalidField(absl::StrCat("filter.", field),
                                  absl::StrCat("only ", who, " have it, not ", type, "s")));
    }
  };
  only(filter.has_repeat(), lead, "repeat", "leads");
  only(filter.junk_reason() != v1::JUNK_REASON_UNSPECIFIED, lead, "junk_reason", "leads");
  only(filter.has_has_overdue_activity(), lead || deal, "has_overdue_activity", "leads and deals");
  const bool dated = Has(filter.create_time_from()) || Has(filter.create_time_to()) ||
                     Has(filter.update_time_from()) || Has(filter.update_time_to());
  only(dated || !filter.query().empty(), type != "activity", dated ? "create_time_from" : "query",
       "leads, contacts, companies and deals");
  if (!v1::JunkReason_IsValid(filter.junk_reason())) {
    violations.Add(InvalidField("filter.junk_reason", "unknown reason"));
  }
  if (Has(filter.create_time_from()) && Has(filter.create_time_to()) &&
      !Before(filter.create_time_from(), filter.create_time_to())) {
    violations.Add(InvalidField("filter.create_time_to", "must be after create_time_from"));
  }
  if (Has(filter.update_time_from()) && Has(filter.update_time_to()) &&
      !Before(filter.update_time_from(), filter.update_time_to())) {
    violations.Add(InvalidField("filter.update_time_to", "must be after update_time_from"));
  }
  if (filter.query().size() > 200) {
    violations.Add(InvalidField("filter.query", "longer than 200 characters"));
  }
  return violations.ToStatus();
}

bool IsEmptyListFilter(const v1::ListFilter& filter) { return filter.ByteSizeLong() == 0; }

bool MatchesListFilter(const v1::ListFilter& filter, const v1::Lead& lead,
                       const std::function<bool()>& has_overdue_activity) {
  if (filter.has_repeat() && lead.repeat() != filter.repeat()) return false;
  if (filter.junk_reason() != v1::JUNK_REASON_UNSPECIFIED &&
      (lead.status_semantic() != v1::STATUS_SEMANTIC_FAILURE ||
       lead.junk_reason() != filter.junk_reason())) {
    return false;
  }
  const std::string name = LeadFullName(lead);
  return Common(filter, lead.create_time(), lead.update_time(),
                {name, lead.company_title(), lead.title()}) &&
         Overdue(filter, has_overdue_activity);
}

bool MatchesListFilter(const v1::ListFilter& filter, const v1::AggregateState& item,
                       const std::function<bool()>& has_overdue_activity) {
  if (item.has_contact()) {
    const auto& c = item.contact();
    const std::string name = absl::StrJoin({c.first_name(), c.second_name(), c.last_name()}, " ");
    return Common(filter, c.create_time(), c.update_time(), {name});
  }
  if (item.has_company()) {
    const auto& c = item.company();
    return Common(filter, c.create_time(), c.update_time(), {c.title()});
  }
  if (item.has_deal()) {
    const auto& d = item.deal();
    return Common(filter, d.create_time(), d.update_time(), {d.title()}) &&
           Overdue(filter, has_overdue_activity);
  }
  return true;  // activities: nothing of the filter applies (CheckListFilter refuses)
}

bool IsOverdue(const v1::Activity& activity, int64_t now_seconds) {
  return activity.state() == v1::ACTIVITY_STATE_PLANNED && Has(activity.deadline()) &&
         activity.deadline().seconds() < now_seconds;
}

}  // namespace leadflow::domain
