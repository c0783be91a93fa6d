#include "import_command.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/import/csv.h"
#include "leadflow/import/lead_rows.h"
#include "leadflow/v1/service.grpc.pb.h"
#include "output.h"

namespace leadflow::cli {
namespace {

struct ImportArgs {
  std::string file;
  std::vector<std::string> maps;  // "Header=field"
  std::string mapping_file;
  int preview = -1;  // rows to show instead of importing; -1: import
  int batch = 500;
  std::string entered_by;
  std::string rejects_file;
  std::string kind = "leads";  // leads | contacts | companies
};

// What became of the rows sent.
struct Tally {
  size_t sent = 0;       // leads: handed to intake
  size_t created = 0;    // contacts, companies: new
  size_t matched = 0;    // an existing one has the phone or email: left as it is
  size_t unchanged = 0;  // made by an earlier run of this file
};

// A refused row and why.
struct Reject {
  const import::CsvRow* row;
  std::string reason;
};

// --map and --mapping as header → field name; a mistake named.
absl::StatusOr<std::map<std::string, std::string>> Overrides(const ImportArgs& args) {
  std::map<std::string, std::string> overrides;
  if (!args.mapping_file.empty()) {
    try {
      const YAML::Node root = YAML::LoadFile(args.mapping_file);
      if (!root.IsMap()) {
        return absl::InvalidArgumentError("expected a map of column header: field");
      }
      for (const auto& entry : root) {
        overrides[entry.first.as<std::string>()] = entry.second.as<std::string>();
      }
    } catch (const YAML::Exception& e) {
      return absl::InvalidArgumentError(e.what());
    }
  }
  for (const auto& map : args.maps) {
    const size_t eq = map.rfind('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--map '", map, "': expected HEADER=FIELD, e.g. 'Тел.=phone'"));
    }
    overrides[map.substr(0, eq)] = map.substr(eq + 1);
  }
  return overrides;
}

// The row index a batch refusal names ("events[12].manual_entry.phone: …"),
// or -1.
int RefusedIndex(const std::string& message) {
  const std::string prefix = "events[";
  const size_t at = message.find(prefix);
  if (at == std::string::npos) return -1;
  const size_t close = message.find(']', at);
  int index = -1;
  if (close == std::string::npos ||
      !absl::SimpleAtoi(message.substr(at + prefix.size(), close - at - prefix.size()), &index)) {
    return -1;
  }
  return index;
}

int Preview(const import::CsvTable& table, const std::vector<import::LeadField>& columns,
            const ImportArgs& args, const std::string& file_key) {
  std::printf("columns (%c-separated, %zu rows):\n", table.delimiter, table.rows.size());
  for (size_t i = 0; i < table.header.size(); ++i) {
    std::printf("  %-30s -> %s\n", table.header[i].c_str(),
                std::string(import::LeadFieldName(columns[i])).c_str());
  }
  const size_t shown = std::min(table.rows.size(), static_cast<size_t>(args.preview));
  std::printf("first %zu rows as they would be sent:\n", shown);
  for (size_t i = 0; i < shown; ++i) {
    Print(import::LeadRowEvent(table.rows[i], columns, file_key, absl::StrCat("import/", file_key),
                               args.entered_by));
  }
  return 0;
}

// Writes the refused rows beside the file (header + line + reason), or
// removes an earlier run's when nothing was refused. The path, or "".
absl::StatusOr<std::string> WriteRejects(const import::CsvTable& table,
                                         const std::vector<Reject>& rejects,
                                         const std::string& path) {
  std::error_code ec;
  if (rejects.empty()) {
    std::filesystem::remove(path, ec);
    return std::string();
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::UnavailableError(absl::StrCat(path, ": cannot write the rejected rows"));
  std::vector<std::string> header = {"line", "reason"};
  header.insert(header.end(), table.header.begin(), table.header.end());
  out << import::FormatCsvRow(header, table.delimiter);
  for (const Reject& reject : rejects) {
    std::vector<std::string> cells = {absl::StrCat(reject.row->line), reject.reason};
    cells.insert(cells.end(), reject.row->cells.begin(), reject.row->cells.end());
    out << import::FormatCsvRow(cells, table.delimiter);
  }
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat(path, ": cannot write the rejected rows"));
  return path;
}

// One call, retried while the server is away (the same request: ids and
// request ids make it apply once).
template <typename Call>
grpc::Status Retried(Call call) {
  for (int attempt = 1;; ++attempt) {
    const grpc::Status status = call();
    if ((status.error_code() != grpc::StatusCode::UNAVAILABLE &&
         status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) ||
        attempt == 8) {
      return status;
    }
    absl::SleepFor(absl::Milliseconds(250) * attempt);
  }
}

bool Refusal(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
         status.error_code() == grpc::StatusCode::FAILED_PRECONDITION;
}

// Leads: batches through intake; a row the server refuses is taken out of
// its batch and the rest sent again.
grpc::Status SendLeads(const Common& common, const ImportArgs& args,
                       const std::vector<const import::CsvRow*>& rows,
                       const std::vector<import::LeadField>& columns, const std::string& file_key,
                       ProgressBar& progress, std::vector<Reject>& rejects, Tally& tally,
                       int64_t* stopped_at) {
  const std::string source = absl::StrCat("import/", file_key);
  auto intake = StubOf<v1::IntakeService>(common);
  for (size_t start = 0; start < rows.size();) {
    const size_t end = std::min(rows.size(), start + static_cast<size_t>(args.batch));
    std::vector<const import::CsvRow*> batch(rows.begin() + static_cast<std::ptrdiff_t>(start),
                                             rows.begin() + static_cast<std::ptrdiff_t>(end));
    // All or nothing per call: a refused row is taken out and the rest sent
    // again, until the call is accepted.
    while (!batch.empty()) {
      v1::PublishChannelEventsRequest request;
      for (const auto* row : batch) {
        *request.add_events() =
            import::LeadRowEvent(*row, columns, file_key, source, args.entered_by);
      }
      v1::PublishChannelEventsResponse response;
      // The same ids again on a retry: intake takes each once.
      const grpc::Status status = Retried([&] {
        auto ctx = Context(common.timeout);
        return intake->PublishChannelEvents(ctx.get(), request, &response);
      });
      if (status.ok()) {
        tally.sent += batch.size();
        break;
      }
      const int refused = RefusedIndex(status.error_message());
      if (status.error_code() != grpc::StatusCode::INVALID_ARGUMENT || refused < 0 ||
          refused >= static_cast<int>(batch.size())) {
        *stopped_at = batch.front()->line;
        return status;
      }
      // "events[3].manual_entry.phone: …" → "manual_entry.phone: …".
      std::string reason = status.error_message();
      const size_t dot = reason.find("].");
      if (dot != std::string::npos) reason = reason.substr(dot + 2);
      rejects.push_back({batch[static_cast<size_t>(refused)], reason});
      batch.erase(batch.begin() + refused);
    }
    start = end;
    progress.Update(static_cast<int64_t>(tally.sent + rejects.size()));
  }
  return grpc::Status::OK;
}

// Contacts or companies, row by row: one that has the row's first phone
// (else email) already is left as it is (matched), as intake attaches a
// person's call to their lead; else it is created with the row's id, which
// a re-run finds (unchanged). Each lookup reads what the previous create
// wrote (its consistency token), so two rows of one person make one.
grpc::Status SendItems(const Common& common, const ImportArgs& args,
                       const std::vector<const import::CsvRow*>& rows,
                       const std::vector<import::LeadField>& columns, const std::string& file_key,
                       ProgressBar& progress, std::vector<Reject>& rejects, Tally& tally,
                       int64_t* stopped_at) {
  const bool contacts = args.kind == "contacts";
  auto crm = StubOf<v1::CrmService>(common);
  std::string token;
  size_t done = 0;
  for (const auto* row : rows) {
    progress.Update(static_cast<int64_t>(++done + rejects.size()));
    const import::RowValues values = import::CollectRow(*row, columns);
    const std::string id = import::RowId(file_key, *row);
    if (!values.phones.empty() || !values.emails.empty()) {
      v1::FindDuplicateLeadsRequest find;
      if (!values.phones.empty()) {
        find.set_phone(values.phones.front());
      } else {
        find.set_email(values.emails.front());
      }
      find.set_consistency_token(token);
      v1::FindDuplicatesResponse found;
      const grpc::Status status = Retried([&] {
        auto ctx = Context(common.timeout);
        return crm->FindDuplicates(ctx.get(), find, &found);
      });
      if (Refusal(status)) {
        rejects.push_back({row, status.error_message()});
        continue;
      }
      if (!status.ok()) {
        *stopped_at = row->line;
        return status;
      }
      bool ours = false, theirs = false;
      if (contacts) {
        for (const auto& match : found.contacts()) {
          (match.contact().contact_id() == id ? ours : theirs) = true;
        }
      } else {
        for (const auto& match : found.companies()) {
          (match.company().company_id() == id ? ours : theirs) = true;
        }
      }
      if (ours) {
        ++tally.unchanged;
        continue;
      }
      if (theirs) {
        ++tally.matched;
        continue;
      }
    }
    v1::ItemCommandResponse response;
    const grpc::Status status = Retried([&] {
      auto ctx = Context(common.timeout);
      if (contacts) {
        v1::CreateContactRequest create;
        *create.mutable_contact() = import::ContactOf(values);
        create.set_contact_id(id);
        create.set_request_id(id);
        return crm->CreateContact(ctx.get(), create, &response);
      }
      v1::CreateCompanyRequest create;
      *create.mutable_company() = import::CompanyOf(values);
      create.set_company_id(id);
      create.set_request_id(id);
      return crm->CreateCompany(ctx.get(), create, &response);
    });
    if (status.ok()) {
      ++tally.created;
      token = response.consistency_token();
    } else if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
      ++tally.unchanged;
    } else if (Refusal(status)) {
      rejects.push_back({row, status.error_message()});
    } else {
      *stopped_at = row->line;
      return status;
    }
  }
  return grpc::Status::OK;
}

int Import(const Common& common, const ImportArgs& args) {
  absl::StatusOr<std::string> text = ReadTextFile(args.file);
  if (!text.ok()) return Invalid(args.file, text.status());
  absl::StatusOr<import::CsvTable> table = import::ParseCsv(*text);
  if (!table.ok()) return Invalid(args.file, table.status());
  absl::StatusOr<std::map<std::string, std::string>> overrides = Overrides(args);
  if (!overrides.ok()) {
    return Invalid(args.mapping_file.empty() ? "--map" : args.mapping_file, overrides.status());
  }
  absl::StatusOr<std::vector<import::LeadField>> columns =
      import::MapLeadColumns(table->header, *overrides, args.kind == "companies");
  if (!columns.ok()) return Invalid(args.file, columns.status());
  const std::string file_key = std::filesystem::path(args.file).filename().string();
  if (args.preview >= 0) return Preview(*table, *columns, args, file_key);

  std::vector<Reject> rejects;
  // Rows the CSV itself makes doubtful: more cells than columns means a
  // delimiter inside an unquoted cell, and every value after it misplaced.
  std::vector<const import::CsvRow*> rows;
  for (const auto& row : table->rows) {
    if (row.cells.size() > table->header.size()) {
      rejects.push_back({&row, absl::StrCat(row.cells.size(), " cells, but the header has ",
                                            table->header.size(), " columns")});
    } else {
      rows.push_back(&row);
    }
  }
  ProgressBar progress(static_cast<int64_t>(table->rows.size()), "rows");
  Tally tally;
  int64_t stopped_at = 0;
  const grpc::Status sent = args.kind == "leads" ? SendLeads(common, args, rows, *columns, file_key,
                                                             progress, rejects, tally, &stopped_at)
                                                 : SendItems(common, args, rows, *columns, file_key,
                                                             progress, rejects, tally, &stopped_at);
  if (!sent.ok()) {
    progress.Finish();
    std::fprintf(stderr,
                 "leadflow: import stopped at line %lld of %s; run it again to go on (rows "
                 "already sent are taken once)\n",
                 static_cast<long long>(stopped_at), args.file.c_str());
    return Report(sent);
  }
  progress.Finish();
  std::sort(rejects.begin(), rejects.end(),
            [](const Reject& a, const Reject& b) { return a.row->line < b.row->line; });
  const std::string rejects_path =
      args.rejects_file.empty() ? args.file + ".rejected.csv" : args.rejects_file;
  absl::StatusOr<std::string> written = WriteRejects(*table, rejects, rejects_path);
  if (!written.ok()) return Invalid(rejects_path, written.status());
  // The result as JSON (names and paths escaped as JSON needs).
  google::protobuf::Struct result;
  auto& fields = *result.mutable_fields();
  fields["file"].set_string_value(args.file);
  fields["rows"].set_number_value(static_cast<double>(table->rows.size()));
  if (args.kind == "leads") {
    fields["sent"].set_number_value(static_cast<double>(tally.sent));
  } else {
    fields["kind"].set_string_value(args.kind);
    fields["created"].set_number_value(static_cast<double>(tally.created));
    fields["matched"].set_number_value(static_cast<double>(tally.matched));
    fields["unchanged"].set_number_value(static_cast<double>(tally.unchanged));
  }
  fields["rejected"].set_number_value(static_cast<double>(rejects.size()));
  fields["rejectsFile"].set_string_value(*written);
  std::printf("%s\n", ToJson(result).c_str());
  if (!rejects.empty()) {
    std::fprintf(stderr, "leadflow: %zu rows refused; the reasons are in %s\n", rejects.size(),
                 written->c_str());
  }
  return 0;
}

}  // namespace

void AddImportCommand(CLI::App& app, const Common& common, int& rc) {
  auto args = std::make_shared<ImportArgs>();
  auto* command = app.add_subcommand(
      "import", "Import leads (or --kind contacts, companies) from a spreadsheet (CSV)");
  command->add_option("file", args->file, "The CSV file (',', ';' or tab separated, UTF-8)")
      ->required();
  command->add_option("--map", args->maps,
                      "HEADER=FIELD: what a column holds (repeatable); fields: title, name, "
                      "first_name, middle_name, last_name, phone, email, company, comment, ignore");
  command->add_option("--mapping", args->mapping_file,
                      "A YAML file of HEADER: FIELD (the same as --map; --map wins)");
  command
      ->add_option("--preview", args->preview,
                   "Show the column mapping and the first N rows as they would be sent; "
                   "send nothing")
      ->expected(0, 1)
      ->default_str("5");
  command->add_option("--batch", args->batch, "Rows per call")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  command->add_option("--entered-by", args->entered_by, "Who typed the data in (kept per lead)");
  command
      ->add_option("--kind", args->kind,
                   "leads (through intake, as manual entries), contacts or companies "
                   "(created; one with the row's phone or email already is left as it is)")
      ->check(CLI::IsMember({"leads", "contacts", "companies"}))
      ->capture_default_str();
  command->add_option("--rejects", args->rejects_file,
                      "Where the refused rows go (default: FILE.rejected.csv beside the file)");
  command->callback([args, &common, &rc, command] {
    if (command->count("--preview") > 0 && args->preview < 0) args->preview = 5;
    rc = Import(common, *args);
  });
}

}  // namespace leadflow::cli
