#include "leadflow/base/logger.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace leadflow::logging {
namespace {

std::atomic<int> min_level{static_cast<int>(Level::kInfo)};
std::atomic<Format> format{Format::kText};
absl::Mutex write_mu;

absl::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "info";
}

void AppendJsonString(std::string& out, absl::string_view text) {
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// Text values with spaces or quotes are quoted, so a line splits back into
// its fields.
void AppendTextValue(std::string& out, absl::string_view text) {
  const bool plain = !text.empty() && text.find_first_of(" \"=\n\t") == absl::string_view::npos;
  if (plain) {
    out.append(text.data(), text.size());
  } else {
    AppendJsonString(out, text);
  }
}

}  // namespace

absl::StatusOr<Level> ParseLevel(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "debug") return Level::kDebug;
  if (lower == "info") return Level::kInfo;
  if (lower == "warning" || lower == "warn") return Level::kWarning;
  if (lower == "error") return Level::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("--log-level: '", name, "' is not one of debug, info, warning, error"));
}

absl::StatusOr<Format> ParseFormat(absl::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("--log-format: '", name, "' is not one of text, json"));
}

void Configure(Level min, Format f) {
  min_level.store(static_cast<int>(min));
  format.store(f);
}

bool Enabled(Level level) { return static_cast<int>(level) >= min_level.load(); }

std::string FormatLine(Format f, absl::Time time, Level level, absl::string_view component,
                       absl::string_view message, Fields fields) {
  std::string line;
  if (f == Format::kText) {
    absl::StrAppend(&line, component, ": ");
    if (level >= Level::kWarning) absl::StrAppend(&line, LevelName(level), ": ");
    line.append(message.data(), message.size());
    for (const auto& [key, value] : fields) {
      absl::StrAppend(&line, " ", key, "=");
      AppendTextValue(line, value.text);
    }
  } else {
    line = "{\"time\":";
    AppendJsonString(line, absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone()));
    line += ",\"level\":";
    AppendJsonString(line, LevelName(level));
    line += ",\"component\":";
    AppendJsonString(line, component);
    line += ",\"message\":";
    AppendJsonString(line, message);
    for (const auto& [key, value] : fields) {
      line += ',';
      AppendJsonString(line, key);
      line += ':';
      if (value.number) {
        line += value.text;
      } else {
        AppendJsonString(line, value.text);
      }
    }
    line += '}';
  }
  line += '\n';
  return line;
}

void Write(Level level, absl::string_view component, absl::string_view message, Fields fields) {
  if (!Enabled(level)) return;
  const std::string line =
      FormatLine(format.load(), absl::Now(), level, component, message, fields);
  FILE* out = level >= Level::kWarning ? stderr : stdout;
  absl::MutexLock lock(&write_mu);
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
}

}  // namespace leadflow::logging
