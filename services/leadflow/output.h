#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace leadflow::cli {

// How results are printed (`--output`, as kubectl's -o): one JSON object
// per line (protobuf's JSON mapping, for scripts), aligned columns for
// people, or CSV for spreadsheets. Table and CSV show the columns that
// matter of each kind of item (a lead's id, title, name, phones, status…);
// JSON shows everything.
enum class OutputFormat { kJson, kTable, kCsv };

// "json", "table", "csv", or "auto": a table when stdout is a terminal,
// else JSON (so pipes and scripts get JSON). INVALID_ARGUMENT otherwise.
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view name, bool stdout_is_terminal);

// The --output flag's value ("auto" unless given), read at the first
// result printed.
std::string& OutputFlag();
OutputFormat CurrentOutputFormat();
// For commands whose own flag decides (events export --format): wins over
// --output. Before the first result.
void ForceOutputFormat(OutputFormat format);

// "[#####.....] 6500/10000 rows  65%  3120 rows/s  ETA 1s" on stderr, when
// it is a terminal (nothing otherwise), redrawn at most ten times a second.
class ProgressBar {
 public:
  ProgressBar(int64_t total, std::string unit);
  void Update(int64_t done);
  // The last figures, and a line break.
  void Finish();

 private:
  void Draw(int64_t done);
  const int64_t total_;
  const std::string unit_;
  const absl::Time start_;
  const bool shown_;
  absl::Time drawn_ = absl::InfinitePast();
  int64_t done_ = 0;
};

// Prints one result. JSON: at once. Table: kept until FlushOutput, which
// aligns the columns of everything kept. CSV: at once (a header before the
// first row of each kind).
void Emit(const google::protobuf::Message& message);
// Prints what Emit kept (a table per kind of item). Call before exiting,
// and after each item of a stream that must show at once.
void FlushOutput();

// The columns a table or CSV row of `message` shows, and their values.
struct Row {
  std::string kind;  // the message's full name
  std::vector<std::string> headers;
  std::vector<std::string> cells;
};
Row RowOf(const google::protobuf::Message& message);

// Display width of UTF-8 text: one column per code point.
size_t DisplayWidth(absl::string_view text);

}  // namespace leadflow::cli
