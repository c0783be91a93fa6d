#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace leadflow::import {

// One record of a CSV file: its cells and the line it starts on (1-based,
// the header being line 1), for reports people can find in a spreadsheet.
struct CsvRow {
  int64_t line = 0;
  std::vector<std::string> cells;
};

struct CsvTable {
  char delimiter = ',';
  std::vector<std::string> header;
  std::vector<CsvRow> rows;
};

// Reads CSV as spreadsheets write it (RFC 4180): the first record is the
// header; cells may be quoted ("a, b", "say ""hi"""), quoted cells may span
// lines; CRLF or LF; a UTF-8 byte order mark is skipped. The delimiter is
// the one of ',', ';' and tab the header uses most (Excel and Bitrix24 in
// Russian locales write ';'). Empty lines are skipped. A row may have fewer
// or more cells than the header (the caller decides what that means).
// INVALID_ARGUMENT naming the line when a quote is left open at the end of
// the text, a quoted cell is followed by something other than a delimiter,
// or there is no header.
absl::StatusOr<CsvTable> ParseCsv(absl::string_view text);

// One record as CSV with `delimiter`, cells quoted where they must be
// (a delimiter, a quote, a line break, or leading/trailing spaces), ending
// with "\n".
std::string FormatCsvRow(const std::vector<std::string>& cells, char delimiter = ',');

}  // namespace leadflow::import
