#include "leadflow/import/lead_rows.h"

#include <catch2/catch.hpp>

namespace leadflow::import {
namespace {

TEST_CASE("lead headers: English, Russian and Bitrix24's export are recognised") {
  CHECK(RecognizeLeadHeader("Название лида") == LeadField::kTitle);
  CHECK(RecognizeLeadHeader("Рабочий телефон") == LeadField::kPhone);
  CHECK(RecognizeLeadHeader("МОБИЛЬНЫЙ ТЕЛЕФОН") == LeadField::kPhone);
  CHECK(RecognizeLeadHeader("Рабочий e-mail") == LeadField::kEmail);
  CHECK(RecognizeLeadHeader("Work E-mail") == LeadField::kEmail);
  CHECK(RecognizeLeadHeader(" First name ") == LeadField::kFirstName);
  CHECK(RecognizeLeadHeader("Фамилия") == LeadField::kLastName);
  CHECK(RecognizeLeadHeader("Отчество") == LeadField::kMiddleName);
  CHECK(RecognizeLeadHeader("Название компании") == LeadField::kCompany);
  CHECK(RecognizeLeadHeader("Комментарий") == LeadField::kComment);
  CHECK(RecognizeLeadHeader("Ответственный") == std::nullopt);
  CHECK(RecognizeLeadHeader("ID") == std::nullopt);
}

TEST_CASE("lead columns: mapped over what is recognised; refusals name the column") {
  const std::vector<std::string> header = {"Клиент", "Тел.", "Mail", "Stage"};
  auto recognised = MapLeadColumns(header, {});
  REQUIRE(recognised.ok());
  CHECK(*recognised == std::vector<LeadField>{LeadField::kIgnore, LeadField::kIgnore,
                                              LeadField::kEmail, LeadField::kIgnore});
  auto mapped = MapLeadColumns(header, {{"Клиент", "name"}, {"Тел.", "phone"}, {"Mail", "ignore"}});
  REQUIRE(mapped.ok());
  CHECK(*mapped == std::vector<LeadField>{LeadField::kName, LeadField::kPhone, LeadField::kIgnore,
                                          LeadField::kIgnore});
  auto unknown_field = MapLeadColumns(header, {{"Stage", "status"}});
  REQUIRE(!unknown_field.ok());
  CHECK(unknown_field.status().message().find("column 'Stage': 'status' is not a lead field") == 0);
  auto unknown_column = MapLeadColumns(header, {{"Phone", "phone"}});
  REQUIRE(!unknown_column.ok());
  CHECK(unknown_column.status().message().find("column 'Phone': no such column") == 0);
  auto unreachable = MapLeadColumns({"Клиент", "Stage"}, {});
  REQUIRE(!unreachable.ok());
  CHECK(unreachable.status().message().find("no column holds a phone or an email") == 0);
}

TEST_CASE("a lead row becomes a manual entry with a stable id") {
  const std::vector<LeadField> columns = {
      LeadField::kTitle,   LeadField::kFirstName, LeadField::kLastName,
      LeadField::kPhone,   LeadField::kPhone,     LeadField::kEmail,
      LeadField::kCompany, LeadField::kComment,   LeadField::kIgnore};
  CsvRow row{7,
             {"Окна", " Анна ", "Смирнова", "+7 903 806-16-65", "8 916 123-45-67", "a@example.com",
              "ООО Ромашка", "перезвонить", "x"}};
  const v1::ChannelEvent event = LeadRowEvent(row, columns, "leads.csv", "import/leads.csv", "ops");
  const v1::ManualEntry& entry = event.manual_entry();
  CHECK(entry.title() == "Окна");
  CHECK(entry.name() == "Анна Смирнова");
  CHECK(entry.phone() == "+7 903 806-16-65");
  CHECK(entry.email() == "a@example.com");
  CHECK(entry.company_title() == "ООО Ромашка");
  CHECK(entry.comment() == "перезвонить\nOther phones: 8 916 123-45-67");
  CHECK(entry.entered_by() == "ops");
  CHECK(event.source() == "import/leads.csv");
  CHECK(event.id().rfind("import-", 0) == 0);
  // The same row of the same file: the same id; another line or file: another.
  CHECK(LeadRowEvent(row, columns, "leads.csv", "s", "").id() == event.id());
  CsvRow moved = row;
  moved.line = 8;
  CHECK(LeadRowEvent(moved, columns, "leads.csv", "s", "").id() != event.id());
  CHECK(LeadRowEvent(row, columns, "other.csv", "s", "").id() != event.id());
  // A short row leaves the missing cells empty.
  CsvRow short_row{9, {"", "", "", "", "", "b@example.com"}};
  const v1::ChannelEvent shorter = LeadRowEvent(short_row, columns, "leads.csv", "s", "");
  CHECK(shorter.manual_entry().email() == "b@example.com");
  CHECK(shorter.manual_entry().phone().empty());
}

}  // namespace
}  // namespace leadflow::import

namespace leadflow::import {
namespace {

TEST_CASE("a row as a contact and as a company") {
  const std::vector<LeadField> columns = {
      LeadField::kFirstName, LeadField::kLastName, LeadField::kPhone,  LeadField::kPhone,
      LeadField::kEmail,     LeadField::kCompany,  LeadField::kComment};
  CsvRow row{3,
             {"Анна", "Смирнова", "+7 903 806-16-65", "8 916 123-45-67", "a@example.com",
              "ООО Ромашка", "VIP"}};
  const RowValues values = CollectRow(row, columns);
  CHECK(values.name == "Анна Смирнова");
  const v1::Contact contact = ContactOf(values);
  CHECK(contact.first_name() == "Анна");
  CHECK(contact.last_name() == "Смирнова");
  REQUIRE(contact.phones_size() == 2);  // a contact keeps every phone
  CHECK(contact.phones(1).number() == "8 916 123-45-67");
  CHECK(contact.emails(0).address() == "a@example.com");
  CHECK(contact.comments() == "VIP");
  const v1::Company company = CompanyOf(values);
  CHECK(company.title() == "ООО Ромашка");
  CHECK(company.phones_size() == 2);
  // A whole name in one column is the contact's first name.
  const v1::Contact whole = ContactOf(CollectRow(CsvRow{4, {"Борис Петров"}}, {LeadField::kName}));
  CHECK(whole.first_name() == "Борис Петров");
  // Stable ids: the same row of the same file, the same id.
  CHECK(RowId("c.csv", row) == RowId("c.csv", row));
  CHECK(RowId("c.csv", row).rfind("import-", 0) == 0);
  CHECK(RowId("d.csv", row) != RowId("c.csv", row));
}

TEST_CASE("company columns: a company needs a name column, not a phone") {
  CHECK(MapLeadColumns({"Название компании", "Сайт"}, {}, true).ok());
  auto none = MapLeadColumns({"Телефон", "Сайт"}, {}, true);
  REQUIRE(!none.ok());
  CHECK(none.status().message().find("no column holds a company's name") == 0);
}

}  // namespace
}  // namespace leadflow::import
