// Reports: the facts of an item and the cells it contributes to.

#include <algorithm>
#include <cmath>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/reports.h"

namespace leadflow::domain {
namespace {

using storage::v1::DealReportFact;
using storage::v1::LeadReportFact;
using storage::v1::ReportBucketCount;
using storage::v1::ReportCell;
using storage::v1::ReportCount;
using storage::v1::ReportDims;

constexpr int32_t kExactSeconds = 600;
constexpr double kBucketGrowth = 1.02;

int64_t Seconds(const google::protobuf::Timestamp& t) { return t.seconds(); }

std::string Detail(const google::protobuf::Map<std::string, std::string>& details,
                   const std::string& key) {
  auto it = details.find(key);
  return it == details.end() ? std::string() : it->second;
}

void SetSourceDims(v1::LeadSource source,
                   const google::protobuf::Map<std::string, std::string>& details,
                   ReportDims& dims) {
  dims.set_source(source);
  dims.set_form_id(Detail(details, "form_id"));
  dims.set_line(Detail(details, "line"));
  dims.set_utm_source(Detail(details, "utm_source"));
  dims.set_utm_campaign(Detail(details, "utm_campaign"));
}

void Enter(google::protobuf::RepeatedPtrField<std::string>& entered, const std::string& stage) {
  if (stage.empty() || std::find(entered.begin(), entered.end(), stage) != entered.end()) return;
  entered.Add(std::string(stage));
  std::sort(entered.begin(), entered.end());
}

// Adds `count` under `key` to a list kept sorted by key (`key_of` reads an
// entry's key, `set_key` writes it); an entry that reaches zero goes.
template <typename Entry, typename Key, typename KeyOf, typename SetKey>
void AddSorted(google::protobuf::RepeatedPtrField<Entry>& list, const Key& key, int64_t count,
               KeyOf key_of, SetKey set_key) {
  auto it = std::lower_bound(list.begin(), list.end(), key,
                             [&](const Entry& e, const Key& k) { return key_of(e) < k; });
  if (it != list.end() && key_of(*it) == key) {
    it->set_count(it->count() + count);
    if (it->count() == 0) list.erase(it);
    return;
  }
  if (count == 0) return;
  const int index = static_cast<int>(it - list.begin());
  Entry* added = list.Add();
  set_key(*added, key);
  added->set_count(count);
  for (int i = list.size() - 1; i > index; --i) list.SwapElements(i, i - 1);
}

void AddCount(google::protobuf::RepeatedPtrField<ReportCount>& list, const std::string& key,
              int64_t count) {
  AddSorted(
      list, key, count, [](const ReportCount& e) -> const std::string& { return e.key(); },
      [](ReportCount& e, const std::string& k) { e.set_key(k); });
}

void AddBucket(google::protobuf::RepeatedPtrField<ReportBucketCount>& list, int32_t bucket,
               int64_t count) {
  AddSorted(
      list, bucket, count, [](const ReportBucketCount& e) { return e.bucket(); },
      [](ReportBucketCount& e, int32_t b) { e.set_bucket(b); });
}

ReportCell& CellOf(ReportCells& cells, char family, int64_t unix_seconds, const ReportDims& dims) {
  return cells[ReportCellKey(family, ReportBucketOf(absl::FromUnixSeconds(unix_seconds)), dims)];
}

}  // namespace

int64_t ReportBucketOf(absl::Time time) {
  const int64_t s = absl::ToUnixSeconds(time);
  return s >= 0 ? s / kReportBucketSeconds
                : -((-s + kReportBucketSeconds - 1) / kReportBucketSeconds);
}

absl::Time ReportBucketStart(int64_t bucket) {
  return absl::FromUnixSeconds(bucket * kReportBucketSeconds);
}

std::string ReportCellPrefix(char family) {
  return absl::StrCat("report/", std::string(1, family), "/");
}

std::string ReportCellStart(char family, int64_t bucket) {
  // Buckets before 1970 are not kept (creation times are the server's).
  return absl::StrCat(ReportCellPrefix(family),
                      absl::StrFormat("%012d", std::max<int64_t>(bucket, 0)), "/");
}

std::string ReportCellKey(char family, int64_t bucket, const ReportDims& dims) {
  return absl::StrCat(ReportCellStart(family, bucket), SerializeDeterministic(dims));
}

absl::StatusOr<ReportCellKeyParts> ParseReportCellKey(absl::string_view key) {
  ReportCellKeyParts parts;
  constexpr size_t kPrefix = 9;  // "report/x/"
  if (key.size() < kPrefix + 13 || !absl::StartsWith(key, "report/") || key[8] != '/' ||
      key[kPrefix + 12] != '/') {
    return absl::DataLossError(absl::StrCat("report cell key '", absl::CHexEscape(key), "'"));
  }
  parts.family = key[7];
  if (!absl::SimpleAtoi(key.substr(kPrefix, 12), &parts.bucket) ||
      !parts.dims.ParseFromArray(key.data() + kPrefix + 13,
                                 static_cast<int>(key.size() - kPrefix - 13))) {
    return absl::DataLossError(absl::StrCat("report cell key '", absl::CHexEscape(key), "'"));
  }
  return parts;
}

int32_t DurationBucketOf(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < kExactSeconds) return static_cast<int32_t>(seconds);
  const double steps =
      std::floor(std::log(static_cast<double>(seconds) / kExactSeconds) / std::log(kBucketGrowth));
  int32_t bucket = kExactSeconds + static_cast<int32_t>(steps);
  // Rounding of the logarithm may put a boundary value one bucket off.
  while (DurationBucketSeconds(bucket + 1) <= seconds) ++bucket;
  while (bucket > kExactSeconds && DurationBucketSeconds(bucket) > seconds) --bucket;
  return bucket;
}

int64_t DurationBucketSeconds(int32_t bucket) {
  if (bucket < kExactSeconds) return bucket;
  return static_cast<int64_t>(
      std::ceil(kExactSeconds * std::pow(kBucketGrowth, bucket - kExactSeconds)));
}

void FoldLeadFact(const v1::EventEnvelope& event, const v1::Lead& after, LeadReportFact& fact) {
  fact.set_has_lead(true);
  fact.set_create_time(Seconds(after.create_time()));
  ReportDims& dims = *fact.mutable_dims();
  SetSourceDims(after.source(), after.source_details(), dims);
  dims.set_responsible_id(after.responsible_id());
  fact.set_status_id(after.status_id());
  fact.set_semantic(after.status_semantic());
  fact.set_junk_reason(after.status_semantic() == v1::STATUS_SEMANTIC_FAILURE ? after.junk_reason()
                                                                              : 0);
  fact.set_repeat(after.repeat());
  fact.set_merged(!after.merged_into_lead_id().empty());
  Enter(*fact.mutable_entered(), after.status_id());
  if (after.status_semantic() == v1::STATUS_SEMANTIC_SUCCESS && !fact.has_convert_time()) {
    fact.set_convert_time(Seconds(event.occur_time()));
  }
  if (event.has_communication_recorded() &&
      event.communication_recorded().channel_event().has_call()) {
    const auto& call = event.communication_recorded().channel_event().call();
    // Someone spoke to the person: an outgoing call, or an incoming one
    // that was answered.
    const bool spoke = call.kind() == v1::CALL_KIND_OUTGOING ||
                       (call.kind() == v1::CALL_KIND_INCOMING && call.duration_seconds() > 0);
    // The time it was recorded, on the same clock as the lead's creation
    // (a channel event's own time is the sender's).
    const int64_t when = Seconds(event.occur_time());
    if (spoke && (!fact.has_contact_time() || when < fact.contact_time())) {
      fact.set_contact_time(when);
    }
  }
}

void FoldDealFact(const v1::Deal& after, DealReportFact& fact) {
  fact.set_create_time(Seconds(after.create_time()));
  ReportDims& dims = *fact.mutable_dims();
  SetSourceDims(after.source(), after.source_details(), dims);
  dims.set_pipeline_id(after.pipeline_id());
  dims.set_responsible_id(after.responsible_id());
  fact.set_stage_id(after.stage_id());
  fact.set_semantic(after.stage_semantic());
  Enter(*fact.mutable_entered(), after.stage_id());
  if (after.stage_semantic() == v1::STATUS_SEMANTIC_SUCCESS) {
    fact.set_won_time(Seconds(after.close_time()));
  } else {
    fact.clear_won_time();
  }
  fact.set_currency_code(after.opportunity().currency_code());
  fact.set_amount_minor(after.opportunity().amount_minor());
}

std::optional<std::pair<std::string, int64_t>> LeadContactOf(const v1::Activity& activity) {
  if (activity.state() != v1::ACTIVITY_STATE_COMPLETED) return std::nullopt;
  if (activity.type() != v1::ACTIVITY_TYPE_CALL && activity.type() != v1::ACTIVITY_TYPE_EMAIL) {
    return std::nullopt;
  }
  auto owner = ParseResourceName(activity.owner(), "owner");
  if (!owner.ok() || owner->first != "lead") return std::nullopt;
  return std::make_pair(owner->second, Seconds(activity.complete_time()));
}

void AddReportContribution(const LeadReportFact& fact, int sign, ReportCells& cells) {
  // A lead merged into another is that lead's duplicate: not a lead of its own.
  if (!fact.has_lead() || fact.merged()) return;
  ReportCell& cell = CellOf(cells, 'l', fact.create_time(), fact.dims());
  const bool converted = fact.semantic() == v1::STATUS_SEMANTIC_SUCCESS;
  const bool junk = fact.semantic() == v1::STATUS_SEMANTIC_FAILURE;
  cell.set_items(cell.items() + sign);
  if (fact.repeat()) cell.set_repeat(cell.repeat() + sign);
  if (fact.entered_size() >= 2) cell.set_processed(cell.processed() + sign);
  if (converted) cell.set_converted(cell.converted() + sign);
  if (junk) {
    cell.set_junk(cell.junk() + sign);
    AddCount(*cell.mutable_junk_reasons(), absl::StrCat(fact.junk_reason()), sign);
  }
  AddCount(*cell.mutable_now_in(), fact.status_id(), sign);
  AddCount(*cell.mutable_paths(), absl::StrJoin(fact.entered(), ","), sign);
  std::optional<int64_t> contact;
  if (fact.has_contact_time()) contact = fact.contact_time();
  if (fact.has_activity_contact_time() &&
      (!contact.has_value() || fact.activity_contact_time() < *contact)) {
    contact = fact.activity_contact_time();
  }
  if (contact.has_value()) {
    cell.set_contacted(cell.contacted() + sign);
    AddBucket(*cell.mutable_first_contact(), DurationBucketOf(*contact - fact.create_time()), sign);
  } else if (!converted && !junk) {
    cell.set_waiting(cell.waiting() + sign);
  }
  if (converted && fact.has_convert_time()) {
    AddBucket(*cell.mutable_to_conversion(),
              DurationBucketOf(fact.convert_time() - fact.create_time()), sign);
  }
}

void AddReportContribution(const DealReportFact& fact, int sign, ReportCells& cells) {
  if (fact.stage_id().empty()) return;
  ReportCell& cell = CellOf(cells, 'd', fact.create_time(), fact.dims());
  cell.set_items(cell.items() + sign);
  AddCount(*cell.mutable_now_in(), fact.stage_id(), sign);
  AddCount(*cell.mutable_paths(), absl::StrJoin(fact.entered(), ","), sign);
  if (fact.has_won_time()) {
    ReportCell& won = CellOf(cells, 'w', fact.won_time(), fact.dims());
    won.set_won(won.won() + sign);
    if (fact.amount_minor() != 0) {
      AddCount(*won.mutable_won_amount(), fact.currency_code(), sign * fact.amount_minor());
    }
  }
}

void AddReportContribution(const v1::Activity& activity, int sign, ReportCells& cells) {
  if (activity.state() != v1::ACTIVITY_STATE_COMPLETED) return;
  ReportDims dims;
  dims.set_responsible_id(activity.responsible_id());
  ReportCell& cell = CellOf(cells, 'a', Seconds(activity.complete_time()), dims);
  cell.set_done(cell.done() + sign);
  if (activity.has_deadline() && Seconds(activity.complete_time()) > Seconds(activity.deadline())) {
    cell.set_done_late(cell.done_late() + sign);
  }
}

void AddReportCell(const ReportCell& delta, ReportCell& into) {
  into.set_items(into.items() + delta.items());
  into.set_repeat(into.repeat() + delta.repeat());
  into.set_processed(into.processed() + delta.processed());
  into.set_converted(into.converted() + delta.converted());
  into.set_junk(into.junk() + delta.junk());
  into.set_contacted(into.contacted() + delta.contacted());
  into.set_waiting(into.waiting() + delta.waiting());
  into.set_won(into.won() + delta.won());
  into.set_done(into.done() + delta.done());
  into.set_done_late(into.done_late() + delta.done_late());
  for (const auto& e : delta.now_in()) AddCount(*into.mutable_now_in(), e.key(), e.count());
  for (const auto& e : delta.paths()) AddCount(*into.mutable_paths(), e.key(), e.count());
  for (const auto& e : delta.junk_reasons()) {
    AddCount(*into.mutable_junk_reasons(), e.key(), e.count());
  }
  for (const auto& e : delta.won_amount()) {
    AddCount(*into.mutable_won_amount(), e.key(), e.count());
  }
  for (const auto& e : delta.first_contact()) {
    AddBucket(*into.mutable_first_contact(), e.bucket(), e.count());
  }
  for (const auto& e : delta.to_conversion()) {
    AddBucket(*into.mutable_to_conversion(), e.bucket(), e.count());
  }
}

bool IsZeroReportCell(const ReportCell& cell) {
  return cell.items() == 0 && cell.repeat() == 0 && cell.processed() == 0 &&
         cell.converted() == 0 && cell.junk() == 0 && cell.contacted() == 0 &&
         cell.waiting() == 0 && cell.won() == 0 && cell.done() == 0 && cell.done_late() == 0 &&
         cell.now_in().empty() && cell.paths().empty() && cell.junk_reasons().empty() &&
         cell.won_amount().empty() && cell.first_contact().empty() && cell.to_conversion().empty();
}

}  // namespace leadflow::domain
