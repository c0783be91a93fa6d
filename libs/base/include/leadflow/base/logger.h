#pragma once

#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace leadflow::logging {

// The server's log: one line per event, as text for people
// ("leadflowd: message key=value …") or as one JSON object per line for
// log pipelines ({"time", "level", "component", "message", and the ids that
// matter: lead_id, event_id, command_id, partition, offset, …}). Info and
// debug go to stdout, warnings and errors to stderr; each line is written
// and flushed whole, from any thread.

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
enum class Format { kText, kJson };

absl::StatusOr<Level> ParseLevel(absl::string_view name);    // debug|info|warning|error
absl::StatusOr<Format> ParseFormat(absl::string_view name);  // text|json

// Process-wide; before the first line (the default: info, text).
void Configure(Level min_level, Format format);
bool Enabled(Level level);

// A field's value: text as given, numbers as numbers in JSON.
struct Value {
  Value(absl::string_view s) : text(s) {}   // NOLINT: implicit on purpose
  Value(const std::string& s) : text(s) {}  // NOLINT
  Value(const char* s) : text(s) {}         // NOLINT
  template <typename N, typename = std::enable_if_t<std::is_arithmetic_v<N>>>
  Value(N n) : text(absl::StrCat(n)), number(true) {}  // NOLINT
  std::string text;
  bool number = false;
};
using Fields = std::initializer_list<std::pair<absl::string_view, Value>>;

void Write(Level level, absl::string_view component, absl::string_view message, Fields fields = {});

inline void Debug(absl::string_view component, absl::string_view message, Fields fields = {}) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, component, message, fields);
}
inline void Info(absl::string_view component, absl::string_view message, Fields fields = {}) {
  Write(Level::kInfo, component, message, fields);
}
inline void Warning(absl::string_view component, absl::string_view message, Fields fields = {}) {
  Write(Level::kWarning, component, message, fields);
}
inline void Error(absl::string_view component, absl::string_view message, Fields fields = {}) {
  Write(Level::kError, component, message, fields);
}

// One line as it would be written (for tests).
std::string FormatLine(Format format, absl::Time time, Level level, absl::string_view component,
                       absl::string_view message, Fields fields);

}  // namespace leadflow::logging
