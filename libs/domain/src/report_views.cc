// Reports: reading a report off the cells of its range.

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/reports.h"

namespace leadflow::domain {
namespace {

using storage::v1::ReportBucketCount;
using storage::v1::ReportCell;

constexpr size_t kMaxPeriods = 1000;

bool OnQuarterHour(const google::protobuf::Timestamp& t) {
  return t.nanos() == 0 && t.seconds() % kReportBucketSeconds == 0;
}

absl::Time PeriodStart(absl::Time t, v1::ReportPeriod by, const absl::TimeZone& zone) {
  const absl::CivilDay day = absl::ToCivilDay(t, zone);
  switch (by) {
    case v1::REPORT_PERIOD_WEEK:
      return absl::FromCivil(absl::PrevWeekday(day + 1, absl::Weekday::monday), zone);
    case v1::REPORT_PERIOD_MONTH:
      return absl::FromCivil(absl::CivilMonth(day), zone);
    default:
      return absl::FromCivil(day, zone);
  }
}

absl::Time NextPeriodStart(absl::Time start, v1::ReportPeriod by, const absl::TimeZone& zone) {
  const absl::CivilDay day = absl::ToCivilDay(start, zone);
  switch (by) {
    case v1::REPORT_PERIOD_WEEK:
      return absl::FromCivil(day + 7, zone);
    case v1::REPORT_PERIOD_MONTH:
      return absl::FromCivil(absl::CivilMonth(day) + 1, zone);
    default:
      return absl::FromCivil(day + 1, zone);
  }
}

// The period a bucket's cells fall in; -1 outside the range.
int PeriodIndex(const std::vector<std::pair<absl::Time, absl::Time>>& periods, int64_t bucket) {
  const absl::Time t = ReportBucketStart(bucket);
  auto it = std::upper_bound(periods.begin(), periods.end(), t,
                             [](absl::Time v, const auto& p) { return v < p.first; });
  if (it == periods.begin()) return -1;
  --it;
  return t < it->second ? static_cast<int>(it - periods.begin()) : -1;
}

v1::ReportRange RangeOf(const std::pair<absl::Time, absl::Time>& period) {
  v1::ReportRange range;
  *range.mutable_start_time() = ToTimestamp(period.first);
  *range.mutable_end_time() = ToTimestamp(period.second);
  return range;
}

// The smallest duration at or above which `q` of the counted ones lie.
int64_t Quantile(const google::protobuf::RepeatedPtrField<ReportBucketCount>& histogram,
                 int64_t count, double q) {
  if (count <= 0) return 0;
  const int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(q * count)));
  int64_t seen = 0;
  for (const auto& b : histogram) {
    seen += b.count();
    if (seen >= rank) return DurationBucketSeconds(b.bucket());
  }
  return histogram.empty() ? 0 : DurationBucketSeconds(histogram.rbegin()->bucket());
}

v1::DurationSummary Summary(
    const google::protobuf::RepeatedPtrField<ReportBucketCount>& histogram) {
  v1::DurationSummary summary;
  int64_t count = 0;
  for (const auto& b : histogram) count += b.count();
  summary.set_count(count);
  if (count > 0) {
    summary.mutable_median()->set_seconds(Quantile(histogram, count, 0.5));
    summary.mutable_p90()->set_seconds(Quantile(histogram, count, 0.9));
  }
  return summary;
}

void AddMoney(const ReportCell& cell, google::protobuf::RepeatedPtrField<v1::Money>* out) {
  for (const auto& amount : cell.won_amount()) {
    v1::Money* money = out->Add();
    money->set_currency_code(amount.key());
    money->set_amount_minor(amount.count());
  }
}

double Ratio(int64_t part, int64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

std::string DetailOf(const storage::v1::ReportDims& dims, v1::SourceDetail detail) {
  switch (detail) {
    case v1::SOURCE_DETAIL_FORM_ID:
      return dims.form_id();
    case v1::SOURCE_DETAIL_CALL_LINE:
      return dims.line();
    case v1::SOURCE_DETAIL_UTM_SOURCE:
      return dims.utm_source();
    case v1::SOURCE_DETAIL_UTM_CAMPAIGN:
      return dims.utm_campaign();
    default:
      return "";
  }
}

// Sums the matching cells of `family` per period and per row key.
template <typename RowKey>
std::vector<std::map<RowKey, ReportCell>> SumRows(
    const ReportQuery& query, const std::vector<std::pair<absl::Time, absl::Time>>& periods,
    const std::vector<ReportCellView>& cells, char family,
    const std::function<RowKey(const storage::v1::ReportDims&)>& row_of) {
  std::vector<std::map<RowKey, ReportCell>> sums(periods.size());
  for (const auto& view : cells) {
    if (view.key.family != family || !ReportCellMatches(query, view.key)) continue;
    const int period = PeriodIndex(periods, view.key.bucket);
    if (period < 0) continue;
    AddReportCell(view.cell, sums[period][row_of(view.key.dims)]);
  }
  return sums;
}

}  // namespace

absl::StatusOr<ReportQuery> ReadReportQuery(const v1::ReportRequest& request,
                                            absl::string_view default_zone,
                                            const absl::TimeZone& default_tz, absl::Time now) {
  ReportQuery query;
  if (request.time_zone().empty()) {
    query.zone = default_tz;
    query.zone_name = std::string(default_zone);
  } else {
    if (!absl::LoadTimeZone(request.time_zone(), &query.zone)) {
      return InvalidField("time_zone", absl::StrCat("unknown time zone '", request.time_zone(),
                                                    "' (an IANA name such as Europe/Moscow)"));
    }
    query.zone_name = request.time_zone();
  }
  if (!request.has_from_time() && !request.has_to_time()) {
    // This month, in the report's zone.
    const absl::CivilMonth month(absl::ToCivilDay(now, query.zone));
    query.from = absl::FromCivil(month, query.zone);
    query.to = absl::FromCivil(month + 1, query.zone);
  } else {
    if (!request.has_from_time()) return InvalidField("from_time", "required with to_time");
    if (!request.has_to_time()) return InvalidField("to_time", "required with from_time");
    if (!OnQuarterHour(request.from_time())) {
      return InvalidField("from_time",
                          "must be on a quarter hour (figures are kept per 15 minutes)");
    }
    if (!OnQuarterHour(request.to_time())) {
      return InvalidField("to_time", "must be on a quarter hour (figures are kept per 15 minutes)");
    }
    query.from = FromTimestamp(request.from_time());
    query.to = FromTimestamp(request.to_time());
  }
  if (query.to <= query.from) return InvalidField("to_time", "must be after from_time");
  if (!v1::ReportPeriod_IsValid(request.group_by())) {
    return InvalidField("group_by", absl::StrCat("unknown period ", request.group_by()));
  }
  query.group_by = request.group_by();
  if (!v1::LeadSource_IsValid(request.source())) {
    return InvalidField("source", absl::StrCat("unknown source ", request.source()));
  }
  if (!v1::SourceDetail_IsValid(request.detail())) {
    return InvalidField("detail", absl::StrCat("unknown detail ", request.detail()));
  }
  query.pipeline_id = request.pipeline_id();
  query.source = request.source();
  query.responsible_id = request.responsible_id();
  query.detail = request.detail();
  if (request.has_first_contact_target()) {
    const auto& target = request.first_contact_target();
    if (target.seconds() < 0 || target.nanos() < 0) {
      return InvalidField("first_contact_target", "must not be negative");
    }
    query.first_contact_target =
        absl::Seconds(target.seconds()) + absl::Nanoseconds(target.nanos());
  }
  if (ReportPeriods(query).size() > kMaxPeriods) {
    return InvalidField("group_by", absl::StrCat("the range has more than ", kMaxPeriods,
                                                 " periods: group by a longer period"));
  }
  return query;
}

std::vector<std::pair<absl::Time, absl::Time>> ReportPeriods(const ReportQuery& query) {
  std::vector<std::pair<absl::Time, absl::Time>> periods;
  if (query.group_by == v1::REPORT_PERIOD_UNSPECIFIED) {
    periods.emplace_back(query.from, query.to);
    return periods;
  }
  absl::Time start = PeriodStart(query.from, query.group_by, query.zone);
  while (start < query.to && periods.size() <= kMaxPeriods) {
    const absl::Time next = NextPeriodStart(start, query.group_by, query.zone);
    periods.emplace_back(std::max(start, query.from), std::min(next, query.to));
    start = next;
  }
  return periods;
}

bool ReportCellMatches(const ReportQuery& query, const ReportCellKeyParts& key) {
  const auto& dims = key.dims;
  if (!query.responsible_id.empty() && dims.responsible_id() != query.responsible_id) return false;
  if (query.team_filter && std::find(query.members.begin(), query.members.end(),
                                     dims.responsible_id()) == query.members.end()) {
    return false;
  }
  if (key.family == 'a') return true;  // activities have no source or pipeline
  if (query.source != v1::LEAD_SOURCE_UNSPECIFIED && dims.source() != query.source) return false;
  if ((key.family == 'd' || key.family == 'w') && !query.pipeline_id.empty() &&
      query.pipeline_id != kLeadPipelineId && dims.pipeline_id() != query.pipeline_id) {
    return false;
  }
  return true;
}

v1::FunnelReport BuildFunnelReport(const ReportQuery& query, const v1::Pipeline& pipeline,
                                   const std::vector<ReportCellView>& cells) {
  const bool leads = pipeline.kind() == v1::PIPELINE_KIND_LEAD;
  const auto periods = ReportPeriods(query);
  const auto sums = SumRows<int>(query, periods, cells, leads ? 'l' : 'd',
                                 [](const storage::v1::ReportDims&) { return 0; });
  // In-progress and success stages in pipeline order; failure stages apart.
  std::map<std::string, int> order;
  int ordered = 0;
  for (const auto& stage : pipeline.stages()) {
    if (stage.semantic() != v1::STATUS_SEMANTIC_FAILURE) order[stage.stage_id()] = ordered++;
  }
  v1::FunnelReport report;
  report.set_pipeline_id(pipeline.pipeline_id());
  report.set_time_zone(query.zone_name);
  for (size_t p = 0; p < periods.size(); ++p) {
    const ReportCell empty;
    auto found = sums[p].find(0);
    const ReportCell& cell = found == sums[p].end() ? empty : found->second;
    std::vector<int64_t> reached_upto(ordered, 0);
    std::map<std::string, int64_t> entered;
    for (const auto& path : cell.paths()) {
      int furthest = -1;
      for (absl::string_view stage : absl::StrSplit(path.key(), ',')) {
        entered[std::string(stage)] += path.count();
        auto it = order.find(std::string(stage));
        if (it != order.end()) furthest = std::max(furthest, it->second);
      }
      for (int i = 0; i <= furthest; ++i) reached_upto[i] += path.count();
    }
    std::map<std::string, int64_t> now;
    for (const auto& e : cell.now_in()) now[e.key()] = e.count();
    auto* out = report.add_periods();
    *out->mutable_range() = RangeOf(periods[p]);
    out->set_items(cell.items());
    int64_t previous = cell.items();
    for (const auto& stage : pipeline.stages()) {
      auto* figures = out->add_stages();
      figures->set_stage_id(stage.stage_id());
      figures->set_title(stage.title());
      figures->set_semantic(stage.semantic());
      figures->set_now(now[stage.stage_id()]);
      if (stage.semantic() == v1::STATUS_SEMANTIC_FAILURE) {
        figures->set_reached(entered[stage.stage_id()]);
        figures->set_conversion(Ratio(figures->reached(), cell.items()));
      } else {
        figures->set_reached(reached_upto[order[stage.stage_id()]]);
        figures->set_conversion(Ratio(figures->reached(), previous));
        previous = figures->reached();
      }
    }
    for (const auto& e : cell.junk_reasons()) {
      int reason = 0;
      if (!absl::SimpleAtoi(e.key(), &reason)) continue;
      auto* count = out->add_junk_reasons();
      count->set_reason(static_cast<v1::JunkReason>(reason));
      count->set_count(e.count());
    }
  }
  return report;
}

v1::SourceReport BuildSourceReport(const ReportQuery& query,
                                   const std::vector<ReportCellView>& cells) {
  using Row = std::pair<int, std::string>;
  const auto periods = ReportPeriods(query);
  auto row_of = [&query](const storage::v1::ReportDims& dims) {
    return Row(dims.source(), DetailOf(dims, query.detail));
  };
  const auto leads = SumRows<Row>(query, periods, cells, 'l', row_of);
  const auto won = SumRows<Row>(query, periods, cells, 'w', row_of);
  v1::SourceReport report;
  report.set_time_zone(query.zone_name);
  report.set_detail(query.detail);
  for (size_t p = 0; p < periods.size(); ++p) {
    auto* out = report.add_periods();
    *out->mutable_range() = RangeOf(periods[p]);
    std::map<Row, std::pair<ReportCell, ReportCell>> rows;
    for (const auto& [row, cell] : leads[p]) rows[row].first = cell;
    for (const auto& [row, cell] : won[p]) rows[row].second = cell;
    for (const auto& [row, both] : rows) {
      const auto& [lead, deal] = both;
      auto* r = out->add_rows();
      r->set_source(static_cast<v1::LeadSource>(row.first));
      r->set_detail(row.second);
      r->set_leads(lead.items());
      r->set_repeat_leads(lead.repeat());
      r->set_converted(lead.converted());
      r->set_junk(lead.junk());
      r->set_conversion_rate(Ratio(lead.converted(), lead.items()));
      r->set_deals_won(deal.won());
      AddMoney(deal, r->mutable_amount_won());
      *r->mutable_time_to_conversion() = Summary(lead.to_conversion());
    }
  }
  return report;
}

v1::ManagerReport BuildManagerReport(
    const ReportQuery& query, const std::vector<ReportCellView>& cells,
    const std::function<int64_t(const std::string&)>& overdue_now) {
  const auto periods = ReportPeriods(query);
  auto row_of = [](const storage::v1::ReportDims& dims) { return dims.responsible_id(); };
  const auto leads = SumRows<std::string>(query, periods, cells, 'l', row_of);
  const auto won = SumRows<std::string>(query, periods, cells, 'w', row_of);
  const auto done = SumRows<std::string>(query, periods, cells, 'a', row_of);
  v1::ManagerReport report;
  report.set_time_zone(query.zone_name);
  std::map<std::string, int64_t> overdue;
  for (size_t p = 0; p < periods.size(); ++p) {
    auto* out = report.add_periods();
    *out->mutable_range() = RangeOf(periods[p]);
    std::map<std::string, ReportCell> rows;
    for (const auto* sums : {&leads[p], &won[p], &done[p]}) {
      for (const auto& [row, cell] : *sums) AddReportCell(cell, rows[row]);
    }
    for (const auto& [responsible, cell] : rows) {
      auto* r = out->add_rows();
      r->set_responsible_id(responsible);
      r->set_leads_assigned(cell.items());
      r->set_processed(cell.processed());
      r->set_converted(cell.converted());
      r->set_junk(cell.junk());
      r->set_deals_won(cell.won());
      AddMoney(cell, r->mutable_amount_won());
      r->set_activities_done(cell.done());
      r->set_activities_done_late(cell.done_late());
      if (!responsible.empty()) {
        auto [it, added] = overdue.try_emplace(responsible, 0);
        if (added) it->second = overdue_now(responsible);
        r->set_activities_overdue_now(it->second);
      }
    }
  }
  return report;
}

v1::FirstContactReport BuildFirstContactReport(const ReportQuery& query,
                                               const std::vector<ReportCellView>& cells) {
  const auto periods = ReportPeriods(query);
  const auto by_source = SumRows<int>(query, periods, cells, 'l',
                                      [](const storage::v1::ReportDims& d) { return d.source(); });
  const auto by_manager =
      SumRows<std::string>(query, periods, cells, 'l',
                           [](const storage::v1::ReportDims& d) { return d.responsible_id(); });
  const int64_t target = absl::ToInt64Seconds(query.first_contact_target);
  auto fill = [target](const ReportCell& cell, v1::FirstContactRow* row) {
    row->set_leads(cell.items());
    *row->mutable_time_to_contact() = Summary(cell.first_contact());
    int64_t within = 0;
    for (const auto& b : cell.first_contact()) {
      // A bucket counts when all of it is within the target.
      if (DurationBucketSeconds(b.bucket() + 1) - 1 <= target) within += b.count();
    }
    row->set_within_target(Ratio(within, cell.contacted()));
    row->set_waiting(cell.waiting());
  };
  v1::FirstContactReport report;
  report.set_time_zone(query.zone_name);
  report.mutable_target()->set_seconds(target);
  for (size_t p = 0; p < periods.size(); ++p) {
    auto* out = report.add_periods();
    *out->mutable_range() = RangeOf(periods[p]);
    ReportCell total;
    for (const auto& [source, cell] : by_source[p]) {
      AddReportCell(cell, total);
      auto* row = out->add_by_source();
      row->set_source(static_cast<v1::LeadSource>(source));
      fill(cell, row);
    }
    for (const auto& [responsible, cell] : by_manager[p]) {
      auto* row = out->add_by_manager();
      row->set_responsible_id(responsible);
      fill(cell, row);
    }
    fill(total, out->mutable_total());
  }
  return report;
}

}  // namespace leadflow::domain
