#pragma once

#include <google/protobuf/message.h>

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "leadflow/v1/commands.pb.h"

namespace leadflow::domain {

// The bounds every request, command and channel event is held to, wherever
// it comes from (gRPC, a Kafka topic, the log). They keep one bad input from
// becoming a megabyte lead title, a record the broker refuses, or a list that
// is deduplicated in quadratic time. docs/api.md lists them.
struct InputLimits {
  // Ids, resource names, actors, channels, handles, sources, map keys: no
  // control characters at all.
  static constexpr size_t kIdBytes = 200;
  // Free text (bodies, comments, descriptions, reasons): tab, newline and
  // carriage return allowed.
  static constexpr size_t kTextBytes = 64 * 1024;
  // A map's value (web-form fields, custom fields).
  static constexpr size_t kMapValueBytes = 16 * 1024;
  // URLs (page_url, recording_url).
  static constexpr size_t kUrlBytes = 4096;
  // Every other string: names, titles, subjects, addresses.
  static constexpr size_t kShortBytes = 1024;
  // Lists and maps unless named below.
  static constexpr int kListItems = 100;
  // Phones, emails and messengers of one person.
  static constexpr int kContactPoints = 20;
  // Channel events in one PublishChannelEvents call.
  static constexpr int kBatchItems = 10000;
  // Nesting of messages (the schema's deepest is far less).
  static constexpr int kDepth = 16;
  // The whole request as received (gRPC refuses a larger one before it is
  // parsed, with RESOURCE_EXHAUSTED).
  static constexpr int kRequestBytes = 16 * 1024 * 1024;
};

// Checks every string, list and map set in `message`, recursively, against
// InputLimits: INVALID_ARGUMENT naming the field path under `prefix` (e.g.
// "lead.title", "web_form.fields[comment]") and the limit.
absl::Status CheckInputLimits(const google::protobuf::Message& message, absl::string_view prefix);

// A command's own ids and its payload, the payload's fields named as the
// request that carried them names them ("lead.title", not
// "create_lead.lead.title").
absl::Status CheckCommandLimits(const v1::Command& command);

// True when `value` holds a byte below 0x20 or DEL: identities and ids
// never do (a NUL would make an index key that is a prefix of another's).
bool HasControlCharacters(absl::string_view value);

}  // namespace leadflow::domain
