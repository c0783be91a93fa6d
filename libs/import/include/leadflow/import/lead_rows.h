#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "leadflow/import/csv.h"
#include "leadflow/v1/channel_event.pb.h"

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
// a phone or an email (a lead needs one) or a field name is unknown.
absl::StatusOr<std::vector<LeadField>> MapLeadColumns(
    const std::vector<std::string>& header, const std::map<std::string, std::string>& overrides);

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

}  // namespace leadflow::import
