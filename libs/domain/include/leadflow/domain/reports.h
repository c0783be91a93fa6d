#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "leadflow/domain/pipelines.h"
#include "leadflow/storage/v1/storage.pb.h"
#include "leadflow/v1/crm.pb.h"
#include "leadflow/v1/events.pb.h"
#include "leadflow/v1/reports.pb.h"

namespace leadflow::domain {

// Reports, the pure part: what an event changes in an item's report facts,
// which figures ("cells") an item contributes, and how a report is read off
// the cells. The projection keeps the cells as the sum of every item's
// contribution: when an item changes it takes the item's old contribution
// away and adds its new one, so the cells depend only on the items' final
// facts, never on the order partitions were applied in (a rebuild gives
// the same bytes).
//
// A cell is keyed by a family, a 15-minute bucket and dimensions:
//   'l' leads by creation time  (source, details, responsible)
//   'd' deals by creation time  (pipeline, source, details, responsible)
//   'w' deals won by close time (the same)
//   'a' activities by completion time (responsible)

inline constexpr int64_t kReportBucketSeconds = 15 * 60;

using ReportCells = std::map<std::string, storage::v1::ReportCell>;

// The 15-minute bucket of a time (floor).
int64_t ReportBucketOf(absl::Time time);
absl::Time ReportBucketStart(int64_t bucket);
// The key of a cell; cells of a family sort by bucket.
std::string ReportCellKey(char family, int64_t bucket, const storage::v1::ReportDims& dims);
// The first key of a family's bucket (for scans).
std::string ReportCellPrefix(char family);
std::string ReportCellStart(char family, int64_t bucket);
struct ReportCellKeyParts {
  char family = 0;
  int64_t bucket = 0;
  storage::v1::ReportDims dims;
};
absl::StatusOr<ReportCellKeyParts> ParseReportCellKey(absl::string_view key);

// Durations are counted in buckets: one per second up to 10 minutes, then
// 2% wide. The smallest duration of a bucket stands for it.
int32_t DurationBucketOf(int64_t seconds);
int64_t DurationBucketSeconds(int32_t bucket);

// A lead's facts after `event`, whose result is `after` (the lead as the
// read model now has it).
void FoldLeadFact(const v1::EventEnvelope& event, const v1::Lead& after,
                  storage::v1::LeadReportFact& fact);
// A deal's facts after `event`, whose result is `after`.
void FoldDealFact(const v1::Deal& after, storage::v1::DealReportFact& fact);
// When a completed activity counts as a first contact of its lead (a call
// or an email done on a lead): the lead's id and the time; nullopt
// otherwise.
std::optional<std::pair<std::string, int64_t>> LeadContactOf(const v1::Activity& activity);

// Adds `sign` (+1 or -1) times what an item contributes to `cells`.
void AddReportContribution(const storage::v1::LeadReportFact& fact, int sign, ReportCells& cells);
void AddReportContribution(const storage::v1::DealReportFact& fact, int sign, ReportCells& cells);
void AddReportContribution(const v1::Activity& activity, int sign, ReportCells& cells);

// into += delta; lists stay sorted, entries that reach zero go.
void AddReportCell(const storage::v1::ReportCell& delta, storage::v1::ReportCell& into);
// Whether every figure is zero (such a cell is not kept).
bool IsZeroReportCell(const storage::v1::ReportCell& cell);

// Reading reports. The request is checked first: INVALID_ARGUMENT naming
// the field.
struct ReportQuery {
  absl::Time from;
  absl::Time to;
  v1::ReportPeriod group_by = v1::REPORT_PERIOD_UNSPECIFIED;
  absl::TimeZone zone;
  std::string zone_name;
  // Filters.
  std::string pipeline_id;
  v1::LeadSource source = v1::LEAD_SOURCE_UNSPECIFIED;
  std::string responsible_id;
  // Non-empty: only these responsibles (a team's members).
  std::vector<std::string> members;
  bool team_filter = false;
  v1::SourceDetail detail = v1::SOURCE_DETAIL_UNSPECIFIED;
  absl::Duration first_contact_target = absl::Seconds(60);
};
// `default_zone` names the server's zone; without a range the report
// covers the month of `now` in the report's zone.
absl::StatusOr<ReportQuery> ReadReportQuery(const v1::ReportRequest& request,
                                            absl::string_view default_zone,
                                            const absl::TimeZone& default_tz, absl::Time now);

// The periods of a query: [from, to) cut at local days, weeks or months.
std::vector<std::pair<absl::Time, absl::Time>> ReportPeriods(const ReportQuery& query);

// A cell the report sums (its key's parts and its figures).
struct ReportCellView {
  ReportCellKeyParts key;
  storage::v1::ReportCell cell;
};
// Whether a cell passes the query's filters (not its time range).
bool ReportCellMatches(const ReportQuery& query, const ReportCellKeyParts& key);

// The reports, from the cells in range of the families each needs
// ('l' or 'd' for the funnel; 'l' and 'w' for sources; 'l', 'w', 'a' for
// managers; 'l' for first contact). `overdue_now` gives a responsible's
// overdue activities now.
v1::FunnelReport BuildFunnelReport(const ReportQuery& query, const v1::Pipeline& pipeline,
                                   const std::vector<ReportCellView>& cells);
v1::SourceReport BuildSourceReport(const ReportQuery& query,
                                   const std::vector<ReportCellView>& cells);
v1::ManagerReport BuildManagerReport(const ReportQuery& query,
                                     const std::vector<ReportCellView>& cells,
                                     const std::function<int64_t(const std::string&)>& overdue_now);
v1::FirstContactReport BuildFirstContactReport(const ReportQuery& query,
                                               const std::vector<ReportCellView>& cells);

}  // namespace leadflow::domain
