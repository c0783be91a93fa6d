#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "leadflow/import/csv.h"
#include "leadflow/v1/channel_event.pb.h"
#include "leadflow/v1/crm.pb.h"

namespace leadflow::import {

// What a column of a lead spreadsheet holds.
enum class LeadField {
  kIgnore,
  kTitle,
  kName,  // the whole name
  kFirstName,
  kMiddleName,
  kLastName,
  kPhone,
  kEmail,
  kCompany,
  kComment,
};

// The field's name in mappings: ignore, title, name, first_name,
// middle_name, last_name, phone, email, company, comment.
absl::string_view LeadFieldName(LeadField field);
// INVALID_ARGUMENT listing the names when `name` is none of them.
absl::StatusOr<LeadField> LeadFieldNamed(absl::string_view name);

// The field a header names, for headers spreadsheets and CRMs commonly
// write, in English and Russian, Bitrix24's lead export among them
// ("Название лида", "Рабочий телефон", "Work E-mail"…); case, spaces and
// punctuation do not matter. nullopt when it is not recognised.
std::optional<LeadField> RecognizeLeadHeader(absl::string_view header);

// Which field each column holds: recognised headers, overridden by
// `overrides` (header → field name, from --map or a mapping file; a header
// not in the file is INVALID_ARGUMENT naming it). Columns neither
// recognised nor mapped are ignored. INVALID_ARGUMENT when no column holds
// a phone or an email (a lead or a contact needs one; `for_companies`: no
// column holds a company's name or title) or a field name is unknown.
absl::StatusOr<std::vector<LeadField>> MapLeadColumns(
    const std::vector<std::string>& header, const std::map<std::string, std::string>& overrides,
    bool for_companies = false);

// What a row holds, by field: the whole name made of its parts when no
// column holds it whole; every phone and email in column order.
struct RowValues {
  std::string title, name, first_name, middle_name, last_name, company;
  std::vector<std::string> phones, emails, comments;
};
RowValues CollectRow(const CsvRow& row, const std::vector<LeadField>& columns);

// A row's stable id, from `file_key` (the file's name), its line and its
// cells: "import-<32 hex>". The same row of the same file, the same id.
std::string RowId(absl::string_view file_key, const CsvRow& row);

// A row as the channel event that brings its lead in: a manual entry
// (LEAD_SOURCE_MANUAL), through intake like any other, so the person's
// open lead gets it (found by phone or email) or a new one is made. Its id
// is derived from `file_key` (the file's name) and the row's line and
// cells: a re-run of the same file sends the same ids, and intake applies
// each once. The first phone and email are the lead's; more phones or
// emails go into the comment. `source` is the event's source
// ("import/leads.csv"), `entered_by` who typed them in (may be empty).
v1::ChannelEvent LeadRowEvent(const CsvRow& row, const std::vector<LeadField>& columns,
                              absl::string_view file_key, absl::string_view source,
                              absl::string_view entered_by);

// A row as a contact (every phone and email; a name in one column becomes
// the first name) and as a company (its title from the company column, or
// else the title column).
v1::Contact ContactOf(const RowValues& values);
v1::Company CompanyOf(const RowValues& values);

}  // namespace leadflow::import
