#include "report_tables.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "output.h"

namespace leadflow::cli {
namespace {

constexpr int kBarWidth = 30;

std::string Time(const google::protobuf::Timestamp& t, const absl::TimeZone& zone) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", absl::FromUnixSeconds(t.seconds()), zone);
}

absl::TimeZone ZoneOf(const std::string& name) {
  absl::TimeZone zone = absl::UTCTimeZone();
  if (!name.empty()) absl::LoadTimeZone(name, &zone);
  return zone;
}

ReportTable Table(const v1::ReportRange& range, const absl::TimeZone& zone,
                  std::vector<std::string> headers) {
  ReportTable table;
  table.start = Time(range.start_time(), zone);
  table.end = Time(range.end_time(), zone);
  table.headers = std::move(headers);
  return table;
}

// "web_form" for LEAD_SOURCE_WEB_FORM; "" for the zero value.
template <typename Enum>
std::string Name(Enum value) {
  const auto* type = google::protobuf::GetEnumDescriptor<Enum>();
  const auto* found = type->FindValueByNumber(value);
  if (found == nullptr) return absl::StrCat(static_cast<int>(value));
  const std::string prefix(absl::StripSuffix(type->FindValueByNumber(0)->name(), "UNSPECIFIED"));
  if (value == 0) return "";
  return absl::AsciiStrToLower(absl::StripPrefix(found->name(), prefix));
}

std::string Percent(double ratio) { return absl::StrFormat("%.1f%%", ratio * 100); }

std::string Duration(const google::protobuf::Duration& d, bool present) {
  if (!present) return "-";
  int64_t s = d.seconds();
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  if (s < 86400) return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  return absl::StrFormat("%dd%02dh", s / 86400, (s % 86400) / 3600);
}

std::string Money(const google::protobuf::RepeatedPtrField<v1::Money>& amounts) {
  std::vector<std::string> parts;
  for (const auto& m : amounts) {
    const int64_t minor = m.amount_minor();
    parts.push_back(absl::StrFormat("%s%d.%02d %s", minor < 0 ? "-" : "", std::abs(minor) / 100,
                                    std::abs(minor) % 100, m.currency_code()));
  }
  return parts.empty() ? "-" : absl::StrJoin(parts, " + ");
}

bool IsNumeric(const std::string& cell) {
  return !cell.empty() &&
         (absl::ascii_isdigit(cell[0]) || cell == "-" || (cell[0] == '-' && cell.size() > 1));
}

std::string Csv(const std::string& cell) {
  if (cell.find_first_of(",\"\n\r") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (char c : cell) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace

std::vector<ReportTable> FunnelTables(const v1::FunnelReport& report) {
  const absl::TimeZone zone = ZoneOf(report.time_zone());
  std::vector<ReportTable> tables;
  for (const auto& period : report.periods()) {
    ReportTable table =
        Table(period.range(), zone, {"stage", "title", "reached", "conversion", "now"});
    for (const auto& stage : period.stages()) {
      table.rows.push_back({stage.stage_id(), stage.title(), absl::StrCat(stage.reached()),
                            Percent(stage.conversion()), absl::StrCat(stage.now())});
      table.bars.push_back(static_cast<double>(stage.reached()));
    }
    for (const auto& reason : period.junk_reasons()) {
      table.rows.push_back(
          {absl::StrCat("junk:", Name(reason.reason())), "", absl::StrCat(reason.count()), "", ""});
      table.bars.push_back(static_cast<double>(reason.count()));
    }
    tables.push_back(std::move(table));
  }
  return tables;
}

std::vector<ReportTable> SourceTables(const v1::SourceReport& report) {
  const absl::TimeZone zone = ZoneOf(report.time_zone());
  std::vector<ReportTable> tables;
  for (const auto& period : report.periods()) {
    ReportTable table = Table(period.range(), zone,
                              {"source", "detail", "leads", "repeat", "converted", "junk",
                               "conversion", "deals won", "amount won", "median to conversion"});
    for (const auto& row : period.rows()) {
      table.rows.push_back(
          {Name(row.source()), row.detail(), absl::StrCat(row.leads()),
           absl::StrCat(row.repeat_leads()), absl::StrCat(row.converted()),
           absl::StrCat(row.junk()), Percent(row.conversion_rate()), absl::StrCat(row.deals_won()),
           Money(row.amount_won()),
           Duration(row.time_to_conversion().median(), row.time_to_conversion().count() > 0)});
      table.bars.push_back(static_cast<double>(row.leads()));
    }
    tables.push_back(std::move(table));
  }
  return tables;
}

std::vector<ReportTable> ManagerTables(const v1::ManagerReport& report) {
  const absl::TimeZone zone = ZoneOf(report.time_zone());
  std::vector<ReportTable> tables;
  for (const auto& period : report.periods()) {
    ReportTable table =
        Table(period.range(), zone,
              {"responsible", "leads", "processed", "converted", "junk", "deals won", "amount won",
               "activities done", "done late", "overdue now"});
    for (const auto& row : period.rows()) {
      table.rows.push_back(
          {row.responsible_id().empty() ? "(nobody)" : row.responsible_id(),
           absl::StrCat(row.leads_assigned()), absl::StrCat(row.processed()),
           absl::StrCat(row.converted()), absl::StrCat(row.junk()), absl::StrCat(row.deals_won()),
           Money(row.amount_won()), absl::StrCat(row.activities_done()),
           absl::StrCat(row.activities_done_late()), absl::StrCat(row.activities_overdue_now())});
      table.bars.push_back(static_cast<double>(row.leads_assigned()));
    }
    tables.push_back(std::move(table));
  }
  return tables;
}

std::vector<ReportTable> FirstContactTables(const v1::FirstContactReport& report) {
  const absl::TimeZone zone = ZoneOf(report.time_zone());
  std::vector<ReportTable> tables;
  const std::string within = absl::StrCat("within ", Duration(report.target(), true));
  for (const auto& period : report.periods()) {
    ReportTable table =
        Table(period.range(), zone,
              {"by", "name", "leads", "contacted", "median", "p90", within, "waiting"});
    auto add = [&table](const std::string& by, const std::string& name,
                        const v1::FirstContactRow& row) {
      const auto& t = row.time_to_contact();
      table.rows.push_back({by, name, absl::StrCat(row.leads()), absl::StrCat(t.count()),
                            Duration(t.median(), t.count() > 0), Duration(t.p90(), t.count() > 0),
                            Percent(row.within_target()), absl::StrCat(row.waiting())});
      table.bars.push_back(row.within_target() * 100);
    };
    add("all", "", period.total());
    for (const auto& row : period.by_source()) {
      const std::string source = Name(row.source());
      add("source", source.empty() ? "(none)" : source, row);
    }
    for (const auto& row : period.by_manager()) {
      add("manager", row.responsible_id().empty() ? "(nobody)" : row.responsible_id(), row);
    }
    tables.push_back(std::move(table));
  }
  return tables;
}

std::string RenderText(const std::vector<ReportTable>& tables, const std::string& title) {
  std::string out;
  for (const auto& table : tables) {
    absl::StrAppend(&out, title, "  ", table.start, " .. ", table.end, "\n");
    std::vector<size_t> widths(table.headers.size(), 0);
    for (size_t c = 0; c < table.headers.size(); ++c) widths[c] = DisplayWidth(table.headers[c]);
    for (const auto& row : table.rows) {
      for (size_t c = 0; c < row.size() && c < widths.size(); ++c) {
        widths[c] = std::max(widths[c], DisplayWidth(row[c]));
      }
    }
    double top = 0;
    for (double b : table.bars) top = std::max(top, b);
    auto line = [&](const std::vector<std::string>& cells, bool header, size_t r) {
      std::string text;
      for (size_t c = 0; c < widths.size(); ++c) {
        const std::string cell = c < cells.size() ? cells[c] : "";
        const std::string pad(widths[c] - DisplayWidth(cell), ' ');
        const bool right = !header && c >= 2 && IsNumeric(cell);
        absl::StrAppend(&text, c == 0 ? "" : "  ", right ? pad : "", cell, right ? "" : pad);
      }
      if (!header && r < table.bars.size() && top > 0) {
        const int n = static_cast<int>(table.bars[r] / top * kBarWidth + 0.5);
        absl::StrAppend(&text, "  ");
        for (int i = 0; i < n; ++i) absl::StrAppend(&text, "\u2588");
      }
      absl::StrAppend(&out, absl::StripTrailingAsciiWhitespace(text), "\n");
    };
    line(table.headers, true, 0);
    for (size_t r = 0; r < table.rows.size(); ++r) line(table.rows[r], false, r);
    if (table.rows.empty()) absl::StrAppend(&out, "(nothing in this period)\n");
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::string RenderCsv(const std::vector<ReportTable>& tables) {
  std::string out;
  if (tables.empty()) return out;
  std::vector<std::string> header = {"period_start", "period_end"};
  for (const auto& h : tables.front().headers) header.push_back(Csv(h));
  absl::StrAppend(&out, absl::StrJoin(header, ","), "\r\n");
  for (const auto& table : tables) {
    for (const auto& row : table.rows) {
      std::vector<std::string> cells = {table.start, table.end};
      for (const auto& cell : row) cells.push_back(Csv(cell));
      absl::StrAppend(&out, absl::StrJoin(cells, ","), "\r\n");
    }
  }
  return out;
}

}  // namespace leadflow::cli
