#include "leadflow/processors/activity_counters.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"

namespace leadflow::processors {
namespace {

std::string ResponsiblePrefix(absl::string_view kind, absl::string_view responsible) {
  std::string key = absl::StrCat(kind, "/", responsible);
  key.push_back('\0');
  return key;
}

std::string DueKey(const v1::Activity& activity) {
  return absl::StrCat(
      ResponsiblePrefix("due", activity.responsible_id()),
      absl::StrFormat("%020d", absl::ToUnixMicros(FromTimestamp(activity.deadline()))), "/",
      activity.activity_id());
}

std::string PlannedKey(absl::string_view owner) { return absl::StrCat("planned/", owner); }
std::string OwnerKey(absl::string_view owner) { return absl::StrCat("owner/", owner); }
std::string IdleOfKey(absl::string_view owner) { return absl::StrCat("idle_of/", owner); }
std::string IdleKey(absl::string_view responsible, absl::string_view owner) {
  return absl::StrCat(ResponsiblePrefix("idle", responsible), owner);
}

bool Planned(const v1::Activity& activity) {
  return activity.state() == v1::ACTIVITY_STATE_PLANNED;
}

}  // namespace

absl::Status ActivityCounters::AdjustPlanned(ProcessorTransaction& txn, absl::string_view owner,
                                             int delta) const {
  const store::Keyspace views = store::Keyspace::kViews;
  LEADFLOW_ASSIGN_OR_RETURN(auto stored, txn.Get(views, PlannedKey(owner)));
  int64_t count = 0;
  if (stored.has_value() && !absl::SimpleAtoi(*stored, &count)) count = 0;
  count = std::max<int64_t>(0, count + delta);
  if (count == 0) {
    txn.Delete(views, PlannedKey(owner));
  } else {
    txn.Put(views, PlannedKey(owner), absl::StrCat(count));
  }
  return absl::OkStatus();
}

absl::Status ActivityCounters::RefreshIdle(ProcessorTransaction& txn,
                                           absl::string_view owner) const {
  const store::Keyspace views = store::Keyspace::kViews;
  LEADFLOW_ASSIGN_OR_RETURN(auto info, txn.Get(views, OwnerKey(owner)));
  LEADFLOW_ASSIGN_OR_RETURN(auto planned, txn.Get(views, PlannedKey(owner)));
  std::string responsible;
  bool open = false;
  if (info.has_value() && info->size() >= 2) {
    open = (*info)[0] == '1';
    responsible = info->substr(2);
  }
  const bool idle = open && !responsible.empty() && !planned.has_value();
  LEADFLOW_ASSIGN_OR_RETURN(auto listed_under, txn.Get(views, IdleOfKey(owner)));
  if (listed_under.has_value() && (!idle || *listed_under != responsible)) {
    txn.Delete(views, IdleKey(*listed_under, owner));
    txn.Delete(views, IdleOfKey(owner));
  }
  if (idle) {
    txn.Put(views, IdleKey(responsible, owner), "");
    txn.Put(views, IdleOfKey(owner), responsible);
  }
  return absl::OkStatus();
}

absl::Status ActivityCounters::StageActivity(ProcessorTransaction& txn, const v1::Activity* before,
                                             const v1::Activity& after) const {
  const store::Keyspace views = store::Keyspace::kViews;
  if (before != nullptr && Planned(*before)) {
    txn.Delete(views, DueKey(*before));
    LEADFLOW_RETURN_IF_ERROR(AdjustPlanned(txn, before->owner(), -1));
  }
  if (Planned(after)) {
    txn.Put(views, DueKey(after), "");
    LEADFLOW_RETURN_IF_ERROR(AdjustPlanned(txn, after.owner(), +1));
  }
  if (before != nullptr && before->owner() != after.owner()) {
    LEADFLOW_RETURN_IF_ERROR(RefreshIdle(txn, before->owner()));
  }
  return RefreshIdle(txn, after.owner());
}

absl::Status ActivityCounters::StageOwner(ProcessorTransaction& txn, absl::string_view owner,
                                          absl::string_view responsible, bool open) const {
  LEADFLOW_ASSIGN_OR_RETURN(auto before, txn.Get(store::Keyspace::kViews, OwnerKey(owner)));
  const std::string was = before.value_or("");
  const std::string now = absl::StrCat(open ? "1" : "0", "|", responsible);
  // Most events of an item (a call recorded, a field edited) change neither
  // its responsible nor whether it is open: the indexes and the idle mark
  // (which only StageActivity changes otherwise) are as they were.
  if (before.has_value() && was == now) return absl::OkStatus();
  if (absl::StartsWith(was, "1|")) {
    txn.Delete(store::Keyspace::kViews,
               absl::StrCat(ResponsiblePrefix("open", was.substr(2)), owner));
  }
  if (open) {
    txn.Put(store::Keyspace::kViews, absl::StrCat(ResponsiblePrefix("open", responsible), owner),
            "");
  }
  txn.Put(store::Keyspace::kViews, OwnerKey(owner), now);
  return RefreshIdle(txn, owner);
}

absl::StatusOr<int64_t> ActivityCounters::OpenItems(absl::string_view responsible) const {
  const std::string prefix = ResponsiblePrefix("open", responsible);
  int64_t count = 0;
  LEADFLOW_RETURN_IF_ERROR(
      db_->Scan(store::Keyspace::kViews, prefix, prefix, [&](absl::string_view, absl::string_view) {
        ++count;
        return true;
      }));
  return count;
}

absl::Status ActivityCounters::CountDue(absl::string_view responsible, absl::Time now,
                                        absl::Time end_of_day, v1::Counters* counters) const {
  const int64_t now_us = absl::ToUnixMicros(now);
  const int64_t end_us = absl::ToUnixMicros(end_of_day);
  const std::string due = ResponsiblePrefix("due", responsible);
  return db_->Scan(store::Keyspace::kViews, due, due,
                   [&](absl::string_view key, absl::string_view) {
                     int64_t deadline = 0;
                     if (!absl::SimpleAtoi(key.substr(due.size(), 20), &deadline)) return true;
                     if (deadline < now_us) {
                       counters->set_activities_overdue(counters->activities_overdue() + 1);
                     } else if (deadline < end_us) {
                       counters->set_activities_due_today(counters->activities_due_today() + 1);
                     } else {
                       return false;  // later days
                     }
                     return true;
                   });
}

absl::StatusOr<int64_t> ActivityCounters::Overdue(absl::string_view responsible,
                                                  absl::Time now) const {
  v1::Counters counters;
  LEADFLOW_RETURN_IF_ERROR(CountDue(responsible, now, now, &counters));
  return counters.activities_overdue();
}

absl::StatusOr<v1::Counters> ActivityCounters::Count(absl::string_view responsible, absl::Time now,
                                                     absl::Time end_of_day) const {
  v1::Counters counters;
  counters.set_responsible_id(std::string(responsible));
  *counters.mutable_as_of() = ToTimestamp(now);
  LEADFLOW_RETURN_IF_ERROR(CountDue(responsible, now, end_of_day, &counters));
  const std::string idle = ResponsiblePrefix("idle", responsible);
  LEADFLOW_RETURN_IF_ERROR(
      db_->Scan(store::Keyspace::kViews, idle, idle, [&](absl::string_view key, absl::string_view) {
        const absl::string_view owner = key.substr(idle.size());
        if (absl::StartsWith(owner, "leads/")) {
          counters.set_leads_without_activity(counters.leads_without_activity() + 1);
        } else {
          counters.set_deals_without_activity(counters.deals_without_activity() + 1);
        }
        return true;
      }));
  return counters;
}

}  // namespace leadflow::processors
