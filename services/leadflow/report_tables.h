#pragma once

#include <string>
#include <vector>

#include "leadflow/v1/reports.pb.h"

namespace leadflow::cli {

// A report as tables for people and spreadsheets: one table per period,
// with a bar per row drawn from `bars` (empty: no bars).
struct ReportTable {
  std::string start;  // the period, RFC 3339 in the report's zone
  std::string end;
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
  std::vector<double> bars;
};

std::vector<ReportTable> FunnelTables(const v1::FunnelReport& report);
std::vector<ReportTable> SourceTables(const v1::SourceReport& report);
std::vector<ReportTable> ManagerTables(const v1::ManagerReport& report);
std::vector<ReportTable> FirstContactTables(const v1::FirstContactReport& report);

// Aligned columns, numbers to the right, a bar chart column at the end,
// each period under its own heading.
std::string RenderText(const std::vector<ReportTable>& tables, const std::string& title);
// RFC 4180: a header row, then one row per table row with the period first.
std::string RenderCsv(const std::vector<ReportTable>& tables);

}  // namespace leadflow::cli
