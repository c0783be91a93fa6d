#include "leadflow/import/lead_rows.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "leadflow/base/derived_id.h"

namespace leadflow::import {
namespace {

constexpr std::pair<LeadField, absl::string_view> kNames[] = {
    {LeadField::kIgnore, "ignore"},
    {LeadField::kTitle, "title"},
    {LeadField::kName, "name"},
    {LeadField::kFirstName, "first_name"},
    {LeadField::kMiddleName, "middle_name"},
    {LeadField::kLastName, "last_name"},
    {LeadField::kPhone, "phone"},
    {LeadField::kEmail, "email"},
    {LeadField::kCompany, "company"},
    {LeadField::kComment, "comment"},
};

// Headers as people write them, folded (Fold) → what they hold.
constexpr std::pair<absl::string_view, LeadField> kHeaders[] = {
    {"title", LeadField::kTitle},
    {"lead", LeadField::kTitle},
    {"leadname", LeadField::kTitle},
    {"leadtitle", LeadField::kTitle},
    {"subject", LeadField::kTitle},
    {"названиелида", LeadField::kTitle},
    {"название", LeadField::kTitle},
    {"лид", LeadField::kTitle},
    {"заголовок", LeadField::kTitle},
    {"name", LeadField::kName},
    {"fullname", LeadField::kName},
    {"contact", LeadField::kName},
    {"contactname", LeadField::kName},
    {"фио", LeadField::kName},
    {"контакт", LeadField::kName},
    {"имяконтакта", LeadField::kName},
    {"firstname", LeadField::kFirstName},
    {"givenname", LeadField::kFirstName},
    {"имя", LeadField::kFirstName},
    {"middlename", LeadField::kMiddleName},
    {"secondname", LeadField::kMiddleName},
    {"отчество", LeadField::kMiddleName},
    {"lastname", LeadField::kLastName},
    {"surname", LeadField::kLastName},
    {"familyname", LeadField::kLastName},
    {"фамилия", LeadField::kLastName},
    {"phone", LeadField::kPhone},
    {"phonenumber", LeadField::kPhone},
    {"telephone", LeadField::kPhone},
    {"tel", LeadField::kPhone},
    {"mobile", LeadField::kPhone},
    {"mobilephone", LeadField::kPhone},
    {"workphone", LeadField::kPhone},
    {"homephone", LeadField::kPhone},
    {"otherphone", LeadField::kPhone},
    {"телефон", LeadField::kPhone},
    {"мобильныйтелефон", LeadField::kPhone},
    {"рабочийтелефон", LeadField::kPhone},
    {"домашнийтелефон", LeadField::kPhone},
    {"другойтелефон", LeadField::kPhone},
    {"телефондлярассылок", LeadField::kPhone},
    {"email", LeadField::kEmail},
    {"mail", LeadField::kEmail},
    {"emailaddress", LeadField::kEmail},
    {"workemail", LeadField::kEmail},
    {"homeemail", LeadField::kEmail},
    {"otheremail", LeadField::kEmail},
    {"рабочийemail", LeadField::kEmail},
    {"частныйemail", LeadField::kEmail},
    {"emailдлярассылок", LeadField::kEmail},
    {"другойemail", LeadField::kEmail},
    {"электроннаяпочта", LeadField::kEmail},
    {"почта", LeadField::kEmail},
    {"company", LeadField::kCompany},
    {"companyname", LeadField::kCompany},
    {"organization", LeadField::kCompany},
    {"названиекомпании", LeadField::kCompany},
    {"компания", LeadField::kCompany},
    {"организация", LeadField::kCompany},
    {"comment", LeadField::kComment},
    {"comments", LeadField::kComment},
    {"notes", LeadField::kComment},
    {"комментарий", LeadField::kComment},
    {"примечание", LeadField::kComment},
};

// Lower case (ASCII and Cyrillic), without spaces, punctuation and the
// "ё"/"е" difference: "Work E-mail" → "workemail", "Рабочий телефон" →
// "рабочийтелефон".
std::string Fold(absl::string_view header) {
  std::string out;
  for (size_t i = 0; i < header.size(); ++i) {
    const auto c = static_cast<unsigned char>(header[i]);
    if (c < 0x80) {
      if (absl::ascii_isalnum(c)) out.push_back(absl::ascii_tolower(c));
      continue;
    }
    // Two-byte Cyrillic: А-П D0 90-9F → а-п D0 B0-BF; Р-Я D0 A0-AF → р-я
    // D1 80-8F; Ё D0 81 and ё D1 91 → е D0 B5.
    if (i + 1 < header.size() && (c == 0xD0 || c == 0xD1)) {
      auto next = static_cast<unsigned char>(header[i + 1]);
      unsigned char lead = c;
      if (c == 0xD0 && next >= 0x90 && next <= 0x9F)
        next += 0x20;
      else if (c == 0xD0 && next >= 0xA0 && next <= 0xAF)
        lead = 0xD1, next -= 0x20;
      else if ((c == 0xD0 && next == 0x81) || (c == 0xD1 && next == 0x91))
        lead = 0xD0, next = 0xB5;
      out.push_back(static_cast<char>(lead));
      out.push_back(static_cast<char>(next));
      ++i;
      continue;
    }
    out.push_back(static_cast<char>(c));
  }
  return out;
}

// What a row's ids are derived from: the file, the line and the cells.
std::string RowCause(absl::string_view file_key, const CsvRow& row) {
  return absl::StrCat(file_key, "\n", row.line, "\n", absl::StrJoin(row.cells, "\x1f"));
}

std::string Trimmed(absl::string_view text) {
  return std::string(absl::StripAsciiWhitespace(text));
}

}  // namespace

absl::string_view LeadFieldName(LeadField field) {
  for (const auto& [value, name] : kNames) {
    if (value == field) return name;
  }
  return "ignore";
}

absl::StatusOr<LeadField> LeadFieldNamed(absl::string_view name) {
  for (const auto& [value, known] : kNames) {
    if (known == name) return value;
  }
  std::vector<std::string> names;
  for (const auto& entry : kNames) names.emplace_back(entry.second);
  return absl::InvalidArgumentError(
      absl::StrCat("'", name, "' is not a lead field (", absl::StrJoin(names, ", "), ")"));
}

std::optional<LeadField> RecognizeLeadHeader(absl::string_view header) {
  const std::string folded = Fold(header);
  for (const auto& [known, field] : kHeaders) {
    if (known == folded) return field;
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<LeadField>> MapLeadColumns(
    const std::vector<std::string>& header, const std::map<std::string, std::string>& overrides,
    bool for_companies) {
  std::vector<LeadField> columns;
  columns.reserve(header.size());
  for (const auto& name : header) {
    columns.push_back(RecognizeLeadHeader(name).value_or(LeadField::kIgnore));
  }
  for (const auto& [name, field_name] : overrides) {
    absl::StatusOr<LeadField> field = LeadFieldNamed(field_name);
    if (!field.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("column '", name, "': ", field.status().message()));
    }
    bool found = false;
    for (size_t i = 0; i < header.size(); ++i) {
      if (Trimmed(header[i]) == Trimmed(name)) {
        columns[i] = *field;
        found = true;
      }
    }
    if (!found) {
      return absl::InvalidArgumentError(absl::StrCat(
          "column '", name, "': no such column in the header (", absl::StrJoin(header, ", "), ")"));
    }
  }
  if (for_companies) {
    for (LeadField field : columns) {
      if (field == LeadField::kCompany || field == LeadField::kTitle) return columns;
    }
    return absl::InvalidArgumentError(
        "no column holds a company's name (a company needs one): map one, e.g. --map "
        "'Название=company'");
  }
  bool reachable = false;
  for (LeadField field : columns) {
    reachable = reachable || field == LeadField::kPhone || field == LeadField::kEmail;
  }
  if (!reachable) {
    return absl::InvalidArgumentError(
        absl::StrCat("no column holds a phone or an email (a lead needs one): map one, e.g. "
                     "--map '",
                     header.empty() ? "Phone" : header.front(), "=phone'"));
  }
  return columns;
}

RowValues CollectRow(const CsvRow& row, const std::vector<LeadField>& columns) {
  RowValues values;
  for (size_t i = 0; i < columns.size() && i < row.cells.size(); ++i) {
    std::string value = Trimmed(row.cells[i]);
    if (value.empty()) continue;
    switch (columns[i]) {
      case LeadField::kIgnore:
        break;
      case LeadField::kTitle:
        values.title = std::move(value);
        break;
      case LeadField::kName:
        values.name = std::move(value);
        break;
      case LeadField::kFirstName:
        values.first_name = std::move(value);
        break;
      case LeadField::kMiddleName:
        values.middle_name = std::move(value);
        break;
      case LeadField::kLastName:
        values.last_name = std::move(value);
        break;
      case LeadField::kPhone:
        values.phones.push_back(std::move(value));
        break;
      case LeadField::kEmail:
        values.emails.push_back(std::move(value));
        break;
      case LeadField::kCompany:
        values.company = std::move(value);
        break;
      case LeadField::kComment:
        values.comments.push_back(std::move(value));
        break;
    }
  }
  if (values.name.empty()) {
    std::vector<std::string> parts;
    for (const auto* part : {&values.first_name, &values.middle_name, &values.last_name}) {
      if (!part->empty()) parts.push_back(*part);
    }
    values.name = absl::StrJoin(parts, " ");
  }
  return values;
}

std::string RowId(absl::string_view file_key, const CsvRow& row) {
  return DeriveId("import", RowCause(file_key, row));
}

v1::ChannelEvent LeadRowEvent(const CsvRow& row, const std::vector<LeadField>& columns,
                              absl::string_view file_key, absl::string_view source,
                              absl::string_view entered_by) {
  RowValues values = CollectRow(row, columns);
  // The lead keeps one phone and one email from an entry; the others are
  // kept where a person reads them.
  if (values.phones.size() > 1) {
    values.comments.push_back(absl::StrCat(
        "Other phones: ", absl::StrJoin(values.phones.begin() + 1, values.phones.end(), ", ")));
  }
  if (values.emails.size() > 1) {
    values.comments.push_back(absl::StrCat(
        "Other emails: ", absl::StrJoin(values.emails.begin() + 1, values.emails.end(), ", ")));
  }
  v1::ChannelEvent event;
  event.set_id(absl::StrCat("import-", DeriveId("csv-import", RowCause(file_key, row))));
  event.set_source(std::string(source));
  v1::ManualEntry* entry = event.mutable_manual_entry();
  entry->set_entered_by(std::string(entered_by));
  entry->set_title(values.title);
  entry->set_name(values.name);
  entry->set_company_title(values.company);
  if (!values.phones.empty()) entry->set_phone(values.phones.front());
  if (!values.emails.empty()) entry->set_email(values.emails.front());
  entry->set_comment(absl::StrJoin(values.comments, "\n"));
  return event;
}

v1::Contact ContactOf(const RowValues& values) {
  v1::Contact contact;
  contact.set_first_name(values.first_name);
  contact.set_second_name(values.middle_name);
  contact.set_last_name(values.last_name);
  // A whole name only: it is the first name, as people write it.
  if (values.first_name.empty() && values.last_name.empty()) contact.set_first_name(values.name);
  for (const auto& phone : values.phones) contact.add_phones()->set_number(phone);
  for (const auto& email : values.emails) contact.add_emails()->set_address(email);
  contact.set_comments(absl::StrJoin(values.comments, "\n"));
  return contact;
}

v1::Company CompanyOf(const RowValues& values) {
  v1::Company company;
  company.set_title(!values.company.empty() ? values.company : values.title);
  for (const auto& phone : values.phones) company.add_phones()->set_number(phone);
  for (const auto& email : values.emails) company.add_emails()->set_address(email);
  company.set_comments(absl::StrJoin(values.comments, "\n"));
  return company;
}

}  // namespace leadflow::import
