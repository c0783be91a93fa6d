// Reports in the pure domain: an item's facts, the cells it contributes,
// and the reports read off the cells.

#include "leadflow/domain/reports.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "leadflow/base/proto_util.h"
#include "leadflow/domain/pipelines.h"
#include "support/proto_time.h"

namespace leadflow::domain {
namespace {

using storage::v1::DealReportFact;
using storage::v1::LeadReportFact;
using testing::At;

// 2026-11-02 00:00 Moscow (UTC+3) is 2026-11-01 21:00 UTC, a Monday.
constexpr int64_t kMonday = 1793566800;
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 24 * kHour;

v1::Lead Lead(const std::string& id, int64_t created, const std::string& status,
              const std::string& responsible = "alice",
              v1::LeadSource source = v1::LEAD_SOURCE_CALL) {
  v1::Lead lead;
  lead.set_lead_id(id);
  *lead.mutable_create_time() = At(created);
  lead.set_status_id(status);
  lead.set_status_semantic(status == "CONVERTED" ? v1::STATUS_SEMANTIC_SUCCESS
                           : status == "JUNK"    ? v1::STATUS_SEMANTIC_FAILURE
                                                 : v1::STATUS_SEMANTIC_IN_PROGRESS);
  lead.set_responsible_id(responsible);
  lead.set_source(source);
  return lead;
}

v1::EventEnvelope At_(int64_t when) {
  v1::EventEnvelope event;
  *event.mutable_occur_time() = At(when);
  return event;
}

v1::EventEnvelope Call(int64_t when, v1::CallKind kind, int duration) {
  v1::EventEnvelope event = At_(when);
  auto* call = event.mutable_communication_recorded()->mutable_channel_event()->mutable_call();
  call->set_kind(kind);
  call->set_duration_seconds(duration);
  *event.mutable_communication_recorded()->mutable_channel_event()->mutable_occur_time() = At(when);
  return event;
}

// The lead's history, folded: each step is an event and the lead after it.
LeadReportFact Fold(const std::vector<std::pair<v1::EventEnvelope, v1::Lead>>& steps) {
  LeadReportFact fact;
  for (const auto& [event, lead] : steps) FoldLeadFact(event, lead, fact);
  return fact;
}

// Cells as the projection keeps them: every change takes the old
// contribution away and adds the new one.
void Apply(ReportCells& cells, const LeadReportFact& before, const LeadReportFact& after) {
  ReportCells delta;
  AddReportContribution(before, -1, delta);
  AddReportContribution(after, +1, delta);
  for (const auto& [key, cell] : delta) {
    AddReportCell(cell, cells[key]);
    if (IsZeroReportCell(cells[key])) cells.erase(key);
  }
}

std::vector<ReportCellView> Views(const ReportCells& cells) {
  std::vector<ReportCellView> views;
  for (const auto& [key, cell] : cells) {
    auto parts = ParseReportCellKey(key);
    REQUIRE(parts.ok());
    views.push_back({*parts, cell});
  }
  return views;
}

ReportQuery Query(int64_t from, int64_t to, v1::ReportPeriod by = v1::REPORT_PERIOD_UNSPECIFIED) {
  v1::ReportRequest request;
  *request.mutable_from_time() = At(from);
  *request.mutable_to_time() = At(to);
  request.set_group_by(by);
  request.set_time_zone("Europe/Moscow");
  auto query = ReadReportQuery(request, "UTC", absl::UTCTimeZone(), absl::FromUnixSeconds(kMonday));
  REQUIRE(query.ok());
  return *query;
}

const v1::FunnelPeriod& OnlyPeriod(const v1::FunnelReport& report) {
  REQUIRE(report.periods_size() == 1);
  return report.periods(0);
}

int64_t Reached(const v1::FunnelPeriod& period, const std::string& stage) {
  for (const auto& s : period.stages()) {
    if (s.stage_id() == stage) return s.reached();
  }
  FAIL("no stage " << stage);
  return -1;
}

int64_t Now(const v1::FunnelPeriod& period, const std::string& stage) {
  for (const auto& s : period.stages()) {
    if (s.stage_id() == stage) return s.now();
  }
  FAIL("no stage " << stage);
  return -1;
}

TEST_CASE("a cell key carries its family, bucket and dimensions") {
  storage::v1::ReportDims dims;
  dims.set_source(v1::LEAD_SOURCE_WEB_FORM);
  dims.set_responsible_id("al/ice\0x");
  dims.set_form_id("contact");
  const std::string key = ReportCellKey('l', 1962036, dims);
  auto parts = ParseReportCellKey(key);
  REQUIRE(parts.ok());
  CHECK(parts->family == 'l');
  CHECK(parts->bucket == 1962036);
  CHECK(parts->dims.SerializeAsString() == dims.SerializeAsString());
  // Keys of a family sort by bucket.
  CHECK(ReportCellKey('l', 9, dims) < ReportCellKey('l', 10, storage::v1::ReportDims()));
  CHECK(ReportCellStart('l', 10) <= ReportCellKey('l', 10, dims));
  CHECK_FALSE(ParseReportCellKey("report/l/12/").ok());
}

TEST_CASE("durations are exact to ten minutes, then within 2%") {
  for (int64_t s = 0; s < 600; ++s) CHECK(DurationBucketSeconds(DurationBucketOf(s)) == s);
  int32_t previous = DurationBucketOf(599);
  for (int64_t s = 600; s < 40 * kDay; s = s + 1 + s / 50) {
    const int32_t bucket = DurationBucketOf(s);
    CHECK(bucket >= previous);
    CHECK(DurationBucketSeconds(bucket) <= s);
    CHECK(DurationBucketSeconds(bucket + 1) > s);
    CHECK(static_cast<double>(s - DurationBucketSeconds(bucket)) <= 0.021 * s);
    previous = bucket;
  }
}

TEST_CASE("a lead's facts follow its statuses, contacts and conversion") {
  const int64_t t = kMonday + 10 * kHour;
  auto lead = Lead("ld-1", t, "NEW");
  LeadReportFact fact = Fold({{At_(t), lead},
                              {Call(t + 30, v1::CALL_KIND_MISSED, 0), lead},
                              {Call(t + 45, v1::CALL_KIND_OUTGOING, 20), lead}});
  CHECK(fact.contact_time() == t + 45);
  CHECK_FALSE(fact.has_convert_time());
  auto converted = Lead("ld-1", t, "CONVERTED");
  FoldLeadFact(At_(t + 3600), converted, fact);
  CHECK(fact.convert_time() == t + 3600);
  CHECK(std::vector<std::string>(fact.entered().begin(), fact.entered().end()) ==
        std::vector<std::string>{"CONVERTED", "NEW"});

  SECTION("an answered incoming call is a contact; an unanswered one is not") {
    LeadReportFact answered = Fold({{Call(t, v1::CALL_KIND_INCOMING, 40), lead}});
    CHECK(answered.contact_time() == t);
    LeadReportFact missed = Fold({{Call(t, v1::CALL_KIND_INCOMING, 0), lead}});
    CHECK_FALSE(missed.has_contact_time());
  }
  SECTION("a completed call or email activity on a lead is a contact") {
    v1::Activity activity;
    activity.set_owner("leads/ld-1");
    activity.set_type(v1::ACTIVITY_TYPE_CALL);
    activity.set_state(v1::ACTIVITY_STATE_PLANNED);
    CHECK_FALSE(LeadContactOf(activity).has_value());
    activity.set_state(v1::ACTIVITY_STATE_COMPLETED);
    *activity.mutable_complete_time() = At(t + 50);
    auto contact = LeadContactOf(activity);
    REQUIRE(contact.has_value());
    CHECK(contact->first == "ld-1");
    CHECK(contact->second == t + 50);
    activity.set_type(v1::ACTIVITY_TYPE_MEETING);
    CHECK_FALSE(LeadContactOf(activity).has_value());
    activity.set_type(v1::ACTIVITY_TYPE_EMAIL);
    activity.set_owner("deals/dl-1");
    CHECK_FALSE(LeadContactOf(activity).has_value());
  }
}

TEST_CASE("cells are the sum of the items' last facts, in whatever order they come") {
  const int64_t t = kMonday + 9 * kHour;
  // Five leads with their histories; each change is applied as the
  // projection does (old contribution out, new in).
  std::vector<std::vector<std::pair<v1::EventEnvelope, v1::Lead>>> histories = {
      {{At_(t), Lead("a", t, "NEW")},
       {At_(t + 60), Lead("a", t, "IN_PROCESS")},
       {At_(t + 120), Lead("a", t, "CONVERTED")}},
      // reassigned, then junk, then reopened
      {{At_(t), Lead("b", t, "NEW")},
       {At_(t + 5), Lead("b", t, "NEW", "bob")},
       {At_(t + 10), Lead("b", t, "JUNK", "bob")},
       {At_(t + 20), Lead("b", t, "IN_PROCESS", "bob")}},
      // a stage move backwards
      {{At_(t), Lead("c", t, "NEW")},
       {At_(t + 1), Lead("c", t, "PROCESSED")},
       {At_(t + 2), Lead("c", t, "NEW")}},
      {{At_(t + kDay), Lead("d", t + kDay, "NEW", "bob", v1::LEAD_SOURCE_WEB_FORM)},
       {At_(t + kDay + 9), Lead("d", t + kDay, "JUNK", "bob", v1::LEAD_SOURCE_WEB_FORM)}},
      {{At_(t), Lead("e", t, "NEW")}}};
  histories[3][1].second.set_junk_reason(v1::JUNK_REASON_SPAM);
  // e is merged into a: a duplicate is not a lead of its own.
  histories[4].push_back({At_(t + 3), Lead("e", t, "JUNK")});
  histories[4].back().second.set_merged_into_lead_id("a");

  auto run = [&](unsigned seed) {
    std::vector<size_t> next(histories.size(), 0);
    std::vector<LeadReportFact> facts(histories.size());
    ReportCells cells;
    std::mt19937 random(seed);
    for (bool left = true; left;) {
      left = false;
      std::vector<size_t> open;
      for (size_t i = 0; i < histories.size(); ++i) {
        if (next[i] < histories[i].size()) open.push_back(i);
      }
      if (open.empty()) break;
      left = true;
      const size_t i = open[random() % open.size()];
      LeadReportFact after = facts[i];
      FoldLeadFact(histories[i][next[i]].first, histories[i][next[i]].second, after);
      Apply(cells, facts[i], after);
      facts[i] = after;
      ++next[i];
    }
    return cells;
  };
  const ReportCells first = run(1);
  for (unsigned seed = 2; seed < 20; ++seed) {
    const ReportCells other = run(seed);
    REQUIRE(other.size() == first.size());
    for (const auto& [key, cell] : first) {
      REQUIRE(other.count(key) == 1);
      CHECK(SerializeDeterministic(other.at(key)) == SerializeDeterministic(cell));
    }
  }

  const auto views = Views(first);
  const auto funnel =
      BuildFunnelReport(Query(kMonday, kMonday + 7 * kDay), DefaultLeadPipeline(), views);
  const auto& period = OnlyPeriod(funnel);
  CHECK(period.items() == 4);  // e was merged away
  CHECK(Reached(period, "NEW") == 4);
  // a converted (passed IN_PROCESS); b reopened into it; c went to
  // PROCESSED and back, so it reached IN_PROCESS's successor too.
  CHECK(Reached(period, "IN_PROCESS") == 3);
  CHECK(Reached(period, "PROCESSED") == 2);
  CHECK(Reached(period, "CONVERTED") == 1);
  CHECK(Reached(period, "JUNK") == 2);  // b (then reopened) and d entered it
  CHECK(Now(period, "JUNK") == 1);
  CHECK(Now(period, "NEW") == 1);
  CHECK(Now(period, "IN_PROCESS") == 1);
  REQUIRE(period.junk_reasons_size() == 1);
  CHECK(period.junk_reasons(0).reason() == v1::JUNK_REASON_SPAM);
  CHECK(period.stages(1).conversion() == Approx(0.75));

  SECTION("by day in the query's zone") {
    const auto by_day = BuildFunnelReport(Query(kMonday, kMonday + 3 * kDay, v1::REPORT_PERIOD_DAY),
                                          DefaultLeadPipeline(), views);
    REQUIRE(by_day.periods_size() == 3);
    CHECK(by_day.periods(0).items() == 3);
    CHECK(by_day.periods(1).items() == 1);
    CHECK(by_day.periods(2).items() == 0);
    CHECK(by_day.periods(0).range().start_time().seconds() == kMonday);
  }
  SECTION("managers and sources") {
    const auto managers = BuildManagerReport(Query(kMonday, kMonday + 7 * kDay), views,
                                             [](const std::string&) { return 7; });
    REQUIRE(managers.periods(0).rows_size() == 2);
    const auto& alice = managers.periods(0).rows(0);
    const auto& bob = managers.periods(0).rows(1);
    CHECK(alice.responsible_id() == "alice");
    CHECK(alice.leads_assigned() == 2);
    CHECK(alice.converted() == 1);
    CHECK(alice.processed() == 2);
    CHECK(alice.activities_overdue_now() == 7);
    CHECK(bob.leads_assigned() == 2);
    CHECK(bob.junk() == 1);
    const auto sources = BuildSourceReport(Query(kMonday, kMonday + 7 * kDay), views);
    REQUIRE(sources.periods(0).rows_size() == 2);
    CHECK(sources.periods(0).rows(0).source() == v1::LEAD_SOURCE_CALL);
    CHECK(sources.periods(0).rows(0).leads() == 3);
    CHECK(sources.periods(0).rows(0).conversion_rate() == Approx(1.0 / 3));
    CHECK(sources.periods(0).rows(0).time_to_conversion().median().seconds() == 120);
  }
}

TEST_CASE("periods cut at local midnight, weeks on Monday, months on the first") {
  // Moscow: 2026-11-02 is a Monday.
  auto periods =
      ReportPeriods(Query(kMonday - 3 * kDay, kMonday + 9 * kDay, v1::REPORT_PERIOD_WEEK));
  REQUIRE(periods.size() == 3);
  CHECK(absl::ToUnixSeconds(periods[0].first) == kMonday - 3 * kDay);
  CHECK(absl::ToUnixSeconds(periods[0].second) == kMonday);
  CHECK(absl::ToUnixSeconds(periods[1].second) == kMonday + 7 * kDay);
  CHECK(absl::ToUnixSeconds(periods[2].second) == kMonday + 9 * kDay);
  auto months =
      ReportPeriods(Query(kMonday - 3 * kDay, kMonday + 40 * kDay, v1::REPORT_PERIOD_MONTH));
  REQUIRE(months.size() == 3);
  // 2026-11-01 00:00 Moscow.
  CHECK(absl::ToUnixSeconds(months[0].second) == kMonday - kDay);
  // A lead at 23:50 Moscow time on Sunday is in Sunday's day, 00:10 in Monday's.
  ReportCells cells;
  for (int64_t at : {kMonday - 600, kMonday + 600}) {
    Apply(cells, LeadReportFact(), Fold({{At_(at), Lead(absl::StrCat("l", at), at, "NEW")}}));
  }
  const auto by_day =
      BuildFunnelReport(Query(kMonday - kDay, kMonday + kDay, v1::REPORT_PERIOD_DAY),
                        DefaultLeadPipeline(), Views(cells));
  REQUIRE(by_day.periods_size() == 2);
  CHECK(by_day.periods(0).items() == 1);
  CHECK(by_day.periods(1).items() == 1);
}

TEST_CASE("deals won count by close time and currency") {
  const int64_t t = kMonday + 12 * kHour;
  ReportCells cells;
  auto deal = [&](const std::string& id, const std::string& currency, int64_t amount) {
    v1::Deal d;
    d.set_deal_id(id);
    d.set_pipeline_id("default");
    d.set_responsible_id("alice");
    d.set_source(v1::LEAD_SOURCE_EMAIL);
    *d.mutable_create_time() = At(t);
    d.set_stage_id("NEW");
    d.set_stage_semantic(v1::STATUS_SEMANTIC_IN_PROGRESS);
    d.mutable_opportunity()->set_currency_code(currency);
    d.mutable_opportunity()->set_amount_minor(amount);
    DealReportFact created;
    FoldDealFact(d, created);
    DealReportFact won = created;
    d.set_stage_id("WON");
    d.set_stage_semantic(v1::STATUS_SEMANTIC_SUCCESS);
    *d.mutable_close_time() = At(t + 2 * kDay);
    FoldDealFact(d, won);
    ReportCells delta;
    AddReportContribution(created, +1, delta);
    AddReportContribution(created, -1, delta);
    AddReportContribution(won, +1, delta);
    for (const auto& [key, cell] : delta) AddReportCell(cell, cells[key]);
  };
  deal("d1", "RUB", 100000);
  deal("d2", "USD", 5000);
  deal("d3", "RUB", 25000);
  const auto views = Views(cells);
  // Won on Wednesday: not in Monday's range, in the week's.
  const auto monday = BuildManagerReport(Query(kMonday, kMonday + kDay), views,
                                         [](const std::string&) { return 0; });
  REQUIRE(monday.periods(0).rows_size() == 0);
  const auto week = BuildSourceReport(Query(kMonday, kMonday + 7 * kDay), views);
  REQUIRE(week.periods(0).rows_size() == 1);
  const auto& row = week.periods(0).rows(0);
  CHECK(row.source() == v1::LEAD_SOURCE_EMAIL);
  CHECK(row.deals_won() == 3);
  REQUIRE(row.amount_won_size() == 2);
  CHECK(row.amount_won(0).currency_code() == "RUB");
  CHECK(row.amount_won(0).amount_minor() == 125000);
  CHECK(row.amount_won(1).currency_code() == "USD");
  CHECK(row.amount_won(1).amount_minor() == 5000);
  const auto funnel =
      BuildFunnelReport(Query(kMonday, kMonday + 7 * kDay), DefaultDealPipeline(), views);
  CHECK(OnlyPeriod(funnel).items() == 3);
  CHECK(Now(OnlyPeriod(funnel), "WON") == 3);
  CHECK(Reached(OnlyPeriod(funnel), "INVOICE") == 3);
}

TEST_CASE("time to first contact: median, p90, the share within the target, who waits") {
  const int64_t t = kMonday + 8 * kHour;
  ReportCells cells;
  const std::vector<int64_t> waits = {10, 20, 30, 40, 50, 70, 90, 120, 200, 1000};
  for (size_t i = 0; i < waits.size(); ++i) {
    auto lead = Lead(absl::StrCat("c", i), t, "NEW", i % 2 == 0 ? "alice" : "bob");
    Apply(cells, LeadReportFact(),
          Fold({{At_(t), lead}, {Call(t + waits[i], v1::CALL_KIND_OUTGOING, 5), lead}}));
  }
  Apply(cells, LeadReportFact(), Fold({{At_(t), Lead("w", t, "NEW", "bob")}}));
  Apply(cells, LeadReportFact(), Fold({{At_(t), Lead("j", t, "JUNK", "bob")}}));
  const auto report = BuildFirstContactReport(Query(kMonday, kMonday + kDay), Views(cells));
  const auto& total = report.periods(0).total();
  CHECK(total.leads() == 12);
  CHECK(total.time_to_contact().count() == 10);
  CHECK(total.time_to_contact().median().seconds() == 50);
  CHECK(total.time_to_contact().p90().seconds() == 200);
  CHECK(total.within_target() == Approx(0.5));
  CHECK(total.waiting() == 1);
  REQUIRE(report.periods(0).by_manager_size() == 2);
  CHECK(report.periods(0).by_manager(1).responsible_id() == "bob");
  CHECK(report.periods(0).by_manager(1).waiting() == 1);
}

TEST_CASE("a report request names what is wrong") {
  v1::ReportRequest request;
  {
    // No range: this month in the zone.
    request.set_time_zone("Europe/Moscow");
    auto month =
        ReadReportQuery(request, "UTC", absl::UTCTimeZone(), absl::FromUnixSeconds(kMonday));
    REQUIRE(month.ok());
    CHECK(absl::ToUnixSeconds(month->from) == kMonday - kDay);
    CHECK(absl::FormatTime("%Y-%m-%d %H:%M", month->to, month->zone) == "2026-12-01 00:00");
    request.clear_time_zone();
  }
  auto check = [&](const std::string& field) {
    auto query =
        ReadReportQuery(request, "UTC", absl::UTCTimeZone(), absl::FromUnixSeconds(kMonday));
    REQUIRE_FALSE(query.ok());
    CHECK(query.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(query.status().message()).find(field) != std::string::npos);
  };
  *request.mutable_to_time() = At(kMonday);
  check("from_time");
  *request.mutable_from_time() = At(kMonday + 60);
  *request.mutable_to_time() = At(kMonday + kDay);
  check("from_time");
  *request.mutable_from_time() = At(kMonday);
  *request.mutable_to_time() = At(kMonday);
  check("to_time");
  *request.mutable_to_time() = At(kMonday + 4000 * kDay);
  request.set_group_by(v1::REPORT_PERIOD_DAY);
  check("group_by");
  *request.mutable_to_time() = At(kMonday + kDay);
  request.set_time_zone("Mars/Olympus");
  check("time_zone");
  request.set_time_zone("");
  request.set_source(static_cast<v1::LeadSource>(99));
  check("source");
}

}  // namespace
}  // namespace leadflow::domain
