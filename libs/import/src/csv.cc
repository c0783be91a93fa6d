#include "leadflow/import/csv.h"

#include <array>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace leadflow::import {
namespace {

constexpr absl::string_view kByteOrderMark = "\xEF\xBB\xBF";

// The delimiter the first line uses most, quotes respected.
char DetectDelimiter(absl::string_view text) {
  std::array<int, 3> counts = {0, 0, 0};
  constexpr std::array<char, 3> kCandidates = {',', ';', '\t'};
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '\n' || c == '\r') break;
    for (size_t i = 0; i < kCandidates.size(); ++i) counts[i] += c == kCandidates[i] ? 1 : 0;
  }
  size_t best = 0;
  for (size_t i = 1; i < kCandidates.size(); ++i) {
    if (counts[i] > counts[best]) best = i;
  }
  return kCandidates[best];
}

bool Blank(const CsvRow& row) { return row.cells.size() == 1 && row.cells[0].empty(); }

}  // namespace

absl::StatusOr<CsvTable> ParseCsv(absl::string_view text) {
  if (absl::StartsWith(text, kByteOrderMark)) text.remove_prefix(kByteOrderMark.size());
  CsvTable table;
  table.delimiter = DetectDelimiter(text);
  const char delimiter = table.delimiter;
  std::vector<CsvRow> records;
  CsvRow row;
  std::string cell;
  int64_t line = 1;
  row.line = 1;
  size_t i = 0;
  auto end_row = [&] {
    row.cells.push_back(std::move(cell));
    cell.clear();
    if (!Blank(row)) records.push_back(std::move(row));
    row = CsvRow();
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"' && cell.empty()) {
      // A quoted cell: up to the quote not doubled.
      const int64_t opened = line;
      ++i;
      for (;;) {
        if (i >= text.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat("line ", opened, ": a quoted cell is never closed"));
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            cell.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        cell.push_back(text[i++]);
      }
      if (i < text.size() && text[i] != delimiter && text[i] != '\n' && text[i] != '\r') {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", line, ": text after the closing quote of a cell"));
      }
      continue;
    }
    if (c == delimiter) {
      row.cells.push_back(std::move(cell));
      cell.clear();
      ++i;
    } else if (c == '\r' || c == '\n') {
      end_row();
      i += (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1;
      row.line = ++line;
    } else {
      cell.push_back(c);
      ++i;
    }
  }
  if (!cell.empty() || !row.cells.empty()) end_row();
  if (records.empty()) return absl::InvalidArgumentError("no header line: the file is empty");
  table.header = std::move(records.front().cells);
  records.erase(records.begin());
  table.rows = std::move(records);
  return table;
}

std::string FormatCsvRow(const std::vector<std::string>& cells, char delimiter) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out.push_back(delimiter);
    const std::string& cell = cells[i];
    const bool quote =
        cell.find_first_of(std::string{delimiter, '"', '\n', '\r'}) != std::string::npos ||
        (!cell.empty() && (cell.front() == ' ' || cell.back() == ' '));
    if (!quote) {
      out += cell;
      continue;
    }
    out.push_back('"');
    for (char c : cell) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('\n');
  return out;
}

}  // namespace leadflow::import
