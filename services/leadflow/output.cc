#include "output.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <google/protobuf/timestamp.pb.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/import/csv.h"

namespace leadflow::cli {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Columns per kind of item, as field paths; kinds not listed show their
// first plain fields.
const std::map<std::string, std::vector<std::string>>& Columns() {
  static const auto* columns = new std::map<std::string, std::vector<std::string>>{
      {"leadflow.v1.Lead",
       {"lead_id", "title", "first_name", "last_name", "phones", "emails", "status_id",
        "responsible_id", "source", "create_time"}},
      {"leadflow.v1.Contact",
       {"contact_id", "first_name", "last_name", "phones", "emails", "company_ids",
        "responsible_id", "create_time"}},
      {"leadflow.v1.Company",
       {"company_id", "title", "phones", "emails", "responsible_id", "create_time"}},
      {"leadflow.v1.Deal",
       {"deal_id", "title", "pipeline_id", "stage_id", "opportunity", "contact_id", "company_id",
        "responsible_id"}},
      {"leadflow.v1.Activity",
       {"activity_id", "type", "subject", "owner", "responsible_id", "deadline", "state"}},
      {"leadflow.v1.ApiKey",
       {"api_key_id", "principal", "roles", "act_for_others", "create_time", "revoke_time"}},
      {"leadflow.v1.SubscribedEvent",
       {"position.partition", "position.offset", "event.occur_time", "event.type",
        "event.aggregate_type", "event.aggregate_id", "event.actor", "event.event_id",
        "event.payload"}},
      {"leadflow.v1.ProcessorStatus",
       {"processor", "topic", "partition", "committed_offset", "end_offset", "lag", "owned",
        "standby_restored_records", "takeover_restored_records"}},
      {"leadflow.v1.Backup", {"id", "create_time", "size_bytes", "files", "backup_dir"}},
  };
  return *columns;
}

// LEAD_SOURCE_WEB_FORM → WEB_FORM: the enum's own prefix adds nothing.
std::string EnumText(const EnumValueDescriptor* value) {
  std::string prefix;
  for (char c : value->type()->name()) {
    if (absl::ascii_isupper(c) && !prefix.empty()) prefix.push_back('_');
    prefix.push_back(absl::ascii_toupper(c));
  }
  prefix.push_back('_');
  return absl::StartsWith(value->name(), prefix) ? value->name().substr(prefix.size())
                                                 : value->name();
}

std::string ScalarText(const Message& message, const FieldDescriptor* field, int index);

// A message in one cell: a time as RFC 3339 (UTC, seconds), a contact
// point by its first text (a phone's number, an email's address), others
// as compact JSON.
std::string MessageText(const Message& message) {
  if (message.GetDescriptor()->full_name() == "google.protobuf.Timestamp") {
    const auto& time = static_cast<const google::protobuf::Timestamp&>(message);
    if (time.seconds() == 0 && time.nanos() == 0) return "";
    return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", FromTimestamp(time), absl::UTCTimeZone());
  }
  const Descriptor* descriptor = message.GetDescriptor();
  if (descriptor->field_count() > 0 &&
      descriptor->field(0)->type() == FieldDescriptor::TYPE_STRING &&
      !descriptor->field(0)->is_repeated() && descriptor->field(0)->containing_oneof() == nullptr &&
      (absl::StrContains(descriptor->name(), "Phone") ||
       absl::StrContains(descriptor->name(), "Email") ||
       absl::StrContains(descriptor->name(), "Messenger"))) {
    return message.GetReflection()->GetString(message, descriptor->field(0));
  }
  return ToJson(message);
}

std::string ScalarText(const Message& message, const FieldDescriptor* field, int index) {
  const Reflection* r = message.GetReflection();
  const bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return repeated ? r->GetRepeatedString(message, field, index) : r->GetString(message, field);
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(repeated ? r->GetRepeatedInt32(message, field, index)
                                   : r->GetInt32(message, field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(repeated ? r->GetRepeatedInt64(message, field, index)
                                   : r->GetInt64(message, field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(repeated ? r->GetRepeatedUInt32(message, field, index)
                                   : r->GetUInt32(message, field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(repeated ? r->GetRepeatedUInt64(message, field, index)
                                   : r->GetUInt64(message, field));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return absl::StrCat(repeated ? r->GetRepeatedDouble(message, field, index)
                                   : r->GetDouble(message, field));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return absl::StrCat(repeated ? r->GetRepeatedFloat(message, field, index)
                                   : r->GetFloat(message, field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (repeated ? r->GetRepeatedBool(message, field, index) : r->GetBool(message, field))
                 ? "true"
                 : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return EnumText(repeated ? r->GetRepeatedEnum(message, field, index)
                               : r->GetEnum(message, field));
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return MessageText(repeated ? r->GetRepeatedMessage(message, field, index)
                                  : r->GetMessage(message, field));
  }
  return "";
}

// A field's value as one cell; repeated values joined with ", ".
std::string FieldText(const Message& message, const FieldDescriptor* field) {
  if (!field->is_repeated()) {
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
        !message.GetReflection()->HasField(message, field)) {
      return "";
    }
    return ScalarText(message, field, 0);
  }
  std::vector<std::string> parts;
  const int size = message.GetReflection()->FieldSize(message, field);
  for (int i = 0; i < size; ++i) parts.push_back(ScalarText(message, field, i));
  return absl::StrJoin(parts, ", ");
}

// The value at "a.b.c"; "" when a step is missing.
std::string PathText(const Message& message, absl::string_view path) {
  const Message* at = &message;
  const std::vector<std::string> steps = absl::StrSplit(path, '.');
  for (size_t i = 0; i < steps.size(); ++i) {
    const FieldDescriptor* field = at->GetDescriptor()->FindFieldByName(steps[i]);
    if (field == nullptr && i + 1 == steps.size()) {
      // A oneof (an event's payload): the field set, as JSON.
      const auto* oneof = at->GetDescriptor()->FindOneofByName(steps[i]);
      const FieldDescriptor* set =
          oneof == nullptr ? nullptr : at->GetReflection()->GetOneofFieldDescriptor(*at, oneof);
      if (set == nullptr) return "";
      return set->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE
                 ? ToJson(at->GetReflection()->GetMessage(*at, set))
                 : FieldText(*at, set);
    }
    if (field == nullptr) return "";
    if (i + 1 == steps.size()) return FieldText(*at, field);
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || field->is_repeated()) return "";
    at = &at->GetReflection()->GetMessage(*at, field);
  }
  return "";
}

std::string HeaderOf(absl::string_view path) {
  std::string header(path.substr(path.rfind('.') + 1));
  return absl::AsciiStrToUpper(header);
}

// Kept for the table: rows by kind, in the order kinds first came.
struct Kept {
  std::vector<std::string> kinds;
  std::map<std::string, std::vector<Row>> rows;
};
Kept& KeptRows() {
  static auto* kept = new Kept();
  return *kept;
}
std::set<std::string>& CsvHeadersPrinted() {
  static auto* printed = new std::set<std::string>();
  return *printed;
}

std::string Truncated(const std::string& cell, size_t width) {
  // One line per row; long values cut (JSON has them whole).
  std::string line = cell;
  for (char& c : line) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (DisplayWidth(line) <= width) return line;
  std::string out;
  size_t columns = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if ((c & 0xC0) != 0x80 && ++columns > width - 1) break;
    out.push_back(line[i]);
  }
  return out + "…";
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view name, bool stdout_is_terminal) {
  if (name == "json") return OutputFormat::kJson;
  if (name == "table") return OutputFormat::kTable;
  if (name == "csv") return OutputFormat::kCsv;
  if (name == "auto") return stdout_is_terminal ? OutputFormat::kTable : OutputFormat::kJson;
  return absl::InvalidArgumentError(absl::StrCat("'", name, "' is not json, table, csv or auto"));
}

std::string& OutputFlag() {
  static auto* flag = new std::string("auto");
  return *flag;
}

std::optional<OutputFormat>& Forced() {
  static auto* forced = new std::optional<OutputFormat>();
  return *forced;
}

void ForceOutputFormat(OutputFormat format) { Forced() = format; }

OutputFormat CurrentOutputFormat() {
  if (Forced().has_value()) return *Forced();
  // The flag is checked by the command line's parser; "auto" otherwise.
  static const OutputFormat format =
      ParseOutputFormat(OutputFlag(), isatty(STDOUT_FILENO) != 0).value_or(OutputFormat::kJson);
  return format;
}

Row RowOf(const Message& message) {
  Row row;
  const Descriptor* descriptor = message.GetDescriptor();
  row.kind = descriptor->full_name();
  auto listed = Columns().find(row.kind);
  if (listed != Columns().end()) {
    for (const auto& path : listed->second) {
      row.headers.push_back(HeaderOf(path));
      row.cells.push_back(PathText(message, path));
    }
    return row;
  }
  // Not listed: its plain fields (text, numbers, enums, times, lists of
  // them), up to eight.
  for (int i = 0; i < descriptor->field_count() && row.headers.size() < 8; ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field->is_map()) continue;
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
        field->message_type()->full_name() != "google.protobuf.Timestamp") {
      continue;
    }
    row.headers.push_back(HeaderOf(field->name()));
    row.cells.push_back(FieldText(message, field));
  }
  return row;
}

void Emit(const Message& message) {
  switch (CurrentOutputFormat()) {
    case OutputFormat::kJson:
      std::printf("%s\n", ToJson(message).c_str());
      return;
    case OutputFormat::kCsv: {
      Row row = RowOf(message);
      if (CsvHeadersPrinted().insert(row.kind).second) {
        std::fputs(import::FormatCsvRow(row.headers).c_str(), stdout);
      }
      std::fputs(import::FormatCsvRow(row.cells).c_str(), stdout);
      return;
    }
    case OutputFormat::kTable: {
      Row row = RowOf(message);
      Kept& kept = KeptRows();
      auto& rows = kept.rows[row.kind];
      if (rows.empty()) kept.kinds.push_back(row.kind);
      rows.push_back(std::move(row));
      return;
    }
  }
}

void FlushOutput() {
  std::fflush(stdout);
  if (CurrentOutputFormat() != OutputFormat::kTable) return;
  Kept& kept = KeptRows();
  constexpr size_t kMaxWidth = 40;
  for (const auto& kind : kept.kinds) {
    const std::vector<Row>& rows = kept.rows[kind];
    if (rows.empty()) continue;
    const std::vector<std::string>& headers = rows.front().headers;
    // Columns empty in every row are left out.
    std::vector<size_t> shown;
    std::vector<size_t> widths;
    for (size_t c = 0; c < headers.size(); ++c) {
      size_t width = 0;
      for (const auto& row : rows) {
        width = std::max(width, DisplayWidth(Truncated(row.cells[c], kMaxWidth)));
      }
      if (width == 0) continue;
      shown.push_back(c);
      widths.push_back(std::max(width, DisplayWidth(headers[c])));
    }
    auto line = [&](const std::vector<std::string>& cells) {
      std::string out;
      for (size_t i = 0; i < shown.size(); ++i) {
        const std::string cell = Truncated(cells[shown[i]], kMaxWidth);
        absl::StrAppend(&out, i == 0 ? "" : "  ", cell);
        if (i + 1 < shown.size()) out.append(widths[i] - DisplayWidth(cell), ' ');
      }
      std::printf("%s\n", out.c_str());
    };
    line(headers);
    for (const auto& row : rows) line(row.cells);
  }
  kept.kinds.clear();
  kept.rows.clear();
  std::fflush(stdout);
}

ProgressBar::ProgressBar(int64_t total, std::string unit)
    : total_(total),
      unit_(std::move(unit)),
      start_(absl::Now()),
      shown_(isatty(STDERR_FILENO) != 0) {}

void ProgressBar::Update(int64_t done) {
  done_ = done;
  if (!shown_ || absl::Now() - drawn_ < absl::Milliseconds(100)) return;
  Draw(done);
}

void ProgressBar::Finish() {
  if (!shown_) return;
  Draw(done_);
  std::fprintf(stderr, "\n");
}

void ProgressBar::Draw(int64_t done) {
  drawn_ = absl::Now();
  const double seconds = absl::ToDoubleSeconds(drawn_ - start_);
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  const double eta = rate > 0 ? static_cast<double>(std::max<int64_t>(total_ - done, 0)) / rate : 0;
  constexpr int64_t kWidth = 30;
  const int64_t filled = total_ <= 0 ? kWidth : std::min(kWidth, kWidth * done / total_);
  const int64_t percent = total_ <= 0 ? 100 : std::min<int64_t>(100, 100 * done / total_);
  std::fprintf(stderr, "\r[%s%s] %lld/%lld %s %3lld%%  %.0f %s/s  ETA %.0fs   ",
               std::string(static_cast<size_t>(filled), '#').c_str(),
               std::string(static_cast<size_t>(kWidth - filled), '.').c_str(),
               static_cast<long long>(done), static_cast<long long>(total_), unit_.c_str(),
               static_cast<long long>(percent), rate, unit_.c_str(), eta);
  std::fflush(stderr);
}

size_t DisplayWidth(absl::string_view text) {
  size_t width = 0;
  for (unsigned char c : text) width += (c & 0xC0) != 0x80 ? 1 : 0;
  return width;
}

}  // namespace leadflow::cli
