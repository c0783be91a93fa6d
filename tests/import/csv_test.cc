#include "leadflow/import/csv.h"

#include <catch2/catch.hpp>

namespace leadflow::import {
namespace {

TEST_CASE("CSV: quoted cells with delimiters, doubled quotes and line breaks") {
  auto table =
      ParseCsv("name,comment\r\n\"Smith, Anna\",\"said \"\"call me\"\"\nafter lunch\"\r\n");
  REQUIRE(table.ok());
  CHECK(table->delimiter == ',');
  CHECK(table->header == std::vector<std::string>{"name", "comment"});
  REQUIRE(table->rows.size() == 1);
  CHECK(table->rows[0].line == 2);
  CHECK(table->rows[0].cells ==
        std::vector<std::string>{"Smith, Anna", "said \"call me\"\nafter lunch"});
}

TEST_CASE("CSV: the delimiter is the header's (';' as Excel and Bitrix24 in Russian write)") {
  auto table = ParseCsv("\xEF\xBB\xBFИмя;Телефон;Комментарий\nАнна;+7 903 806-16-65;a, b\n");
  REQUIRE(table.ok());
  CHECK(table->delimiter == ';');
  CHECK(table->header.front() == "Имя");  // the byte order mark skipped
  CHECK(table->rows[0].cells == std::vector<std::string>{"Анна", "+7 903 806-16-65", "a, b"});
  auto tabs = ParseCsv("a\tb\n1\t2\n");
  REQUIRE(tabs.ok());
  CHECK(tabs->delimiter == '\t');
}

TEST_CASE("CSV: lines are counted across multi-line cells; blank lines skipped; ragged rows kept") {
  auto table = ParseCsv("a,b\n\"x\ny\",1\n\n3\n4,5,6");
  REQUIRE(table.ok());
  REQUIRE(table->rows.size() == 3);
  CHECK(table->rows[0].line == 2);
  CHECK(table->rows[1].line == 5);
  CHECK(table->rows[1].cells == std::vector<std::string>{"3"});
  CHECK(table->rows[2].line == 6);
  CHECK(table->rows[2].cells.size() == 3);
}

TEST_CASE("CSV: refusals name the line") {
  auto open = ParseCsv("a,b\n1,\"never closed\n2,3\n");
  REQUIRE(!open.ok());
  CHECK(open.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(open.status().message() == "line 2: a quoted cell is never closed");
  auto trailing = ParseCsv("a,b\n\"x\"y,2\n");
  REQUIRE(!trailing.ok());
  CHECK(trailing.status().message() == "line 2: text after the closing quote of a cell");
  CHECK(!ParseCsv("").ok());
  CHECK(!ParseCsv("\n\n").ok());
}

TEST_CASE("CSV: a formatted row reads back as it was") {
  const std::vector<std::string> cells = {"plain",      "a,b",      "say \"hi\"",
                                          "two\nlines", " padded ", ""};
  const std::string line = FormatCsvRow(cells);
  CHECK(line == "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" padded \",\n");
  auto table = ParseCsv("h1,h2,h3,h4,h5,h6\n" + line);
  REQUIRE(table.ok());
  REQUIRE(table->rows.size() == 1);
  CHECK(table->rows[0].cells == cells);
  CHECK(FormatCsvRow({"a;b", "c"}, ';') == "\"a;b\";c\n");
}

}  // namespace
}  // namespace leadflow::import
