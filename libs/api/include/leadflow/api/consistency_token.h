#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace leadflow::api {

// What a read must include before it answers (read your writes across
// several writes). A token is a list of entries separated by commas:
//   e<partition>:<offset>   the event at that position of leadflow.events.v1
//                           is applied to the read models
//   c:<channel event id>    that channel event has reached its lead (',' and
//                           '%' in the id written %2C and %25)
// Writes return one; tokens joined with ',' are a token covering all of
// them (a later offset of a partition covers the earlier ones), so a client
// that made several writes passes them all to one read.
struct ConsistencyToken {
  std::map<int32_t, int64_t> events;
  std::set<std::string> channel_events;

  bool empty() const { return events.empty() && channel_events.empty(); }
  // Keeps the later offset per partition and every channel event.
  void Merge(const ConsistencyToken& other);
};

// INVALID_ARGUMENT naming `field` when the text is not a token.
absl::StatusOr<ConsistencyToken> ParseConsistencyToken(absl::string_view text,
                                                       absl::string_view field);
std::string FormatConsistencyToken(const ConsistencyToken& token);

}  // namespace leadflow::api
