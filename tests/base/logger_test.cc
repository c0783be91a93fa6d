#include "leadflow/base/logger.h"

#include <catch2/catch.hpp>

#include "absl/time/time.h"

using leadflow::logging::Format;
using leadflow::logging::FormatLine;
using leadflow::logging::Level;

TEST_CASE("a JSON log line is one object with time, level, component, message and fields") {
  const absl::Time t = absl::FromUnixMillis(1764806400123);  // 2025-12-04T00:00:00.123Z
  CHECK(FormatLine(Format::kJson, t, Level::kWarning, "processor", "dead letter",
                   {{"processor", "intake"}, {"offset", 42}, {"reason", "a \"quoted\"\nline"}}) ==
        "{\"time\":\"2025-12-04T00:00:00.123Z\",\"level\":\"warning\",\"component\":\"processor\","
        "\"message\":\"dead letter\",\"processor\":\"intake\",\"offset\":42,"
        "\"reason\":\"a \\\"quoted\\\"\\nline\"}\n");
  // Control characters are escaped, never written raw.
  CHECK(
      FormatLine(Format::kJson, t, Level::kInfo, "c", std::string("a\x01z"), {}).find("\\u0001") !=
      std::string::npos);
}

TEST_CASE(
    "a text log line is for people: component, level when it matters, fields quoted as needed") {
  const absl::Time t = absl::UnixEpoch();
  CHECK(FormatLine(Format::kText, t, Level::kInfo, "leadflowd", "listening on 127.0.0.1:5", {}) ==
        "leadflowd: listening on 127.0.0.1:5\n");
  CHECK(
      FormatLine(Format::kText, t, Level::kError, "processor", "batch refused",
                 {{"processor", "intake"}, {"error", "UNAVAILABLE: disk"}, {"empty", ""}}) ==
      "processor: error: batch refused processor=intake error=\"UNAVAILABLE: disk\" empty=\"\"\n");
}

TEST_CASE("levels and formats are parsed by name, a wrong one named") {
  CHECK(*leadflow::logging::ParseLevel("WARN") == Level::kWarning);
  CHECK(*leadflow::logging::ParseLevel("debug") == Level::kDebug);
  CHECK(leadflow::logging::ParseLevel("loud").status().message() ==
        "--log-level: 'loud' is not one of debug, info, warning, error");
  CHECK(*leadflow::logging::ParseFormat("json") == Format::kJson);
  CHECK(!leadflow::logging::ParseFormat("xml").ok());
}
