#include "leadflow/api/consistency_token.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "leadflow/domain/field_error.h"

namespace leadflow::api {
namespace {

// Room for a batch of a thousand channel events with long ids.
constexpr size_t kMaxTokenBytes = 256 * 1024;

}  // namespace

void ConsistencyToken::Merge(const ConsistencyToken& other) {
  for (const auto& [partition, offset] : other.events) {
    auto [it, added] = events.try_emplace(partition, offset);
    if (!added) it->second = std::max(it->second, offset);
  }
  channel_events.insert(other.channel_events.begin(), other.channel_events.end());
}

absl::StatusOr<ConsistencyToken> ParseConsistencyToken(absl::string_view text,
                                                       absl::string_view field) {
  ConsistencyToken token;
  if (text.empty()) return token;
  if (text.size() > kMaxTokenBytes) {
    return domain::InvalidField(field, absl::StrCat("longer than ", kMaxTokenBytes, " bytes"));
  }
  for (absl::string_view entry : absl::StrSplit(text, ',')) {
    auto bad = [&] {
      return domain::InvalidField(
          field, absl::StrCat("'", entry.substr(0, 100),
                              "' is not an entry of a consistency token (e<partition>:<offset> "
                              "or c:<channel event id>)"));
    };
    if (entry.empty()) continue;  // "a,,b" from joining an empty token
    if (entry.size() > 2 && entry[0] == 'c' && entry[1] == ':') {
      token.channel_events.insert(
          absl::StrReplaceAll(entry.substr(2), {{"%2C", ","}, {"%25", "%"}}));
      continue;
    }
    const size_t colon = entry.find(':');
    int32_t partition = 0;
    int64_t offset = 0;
    if (entry[0] != 'e' || colon == absl::string_view::npos ||
        !absl::SimpleAtoi(entry.substr(1, colon - 1), &partition) ||
        !absl::SimpleAtoi(entry.substr(colon + 1), &offset) || partition < 0 || offset < 0) {
      return bad();
    }
    auto [it, added] = token.events.try_emplace(partition, offset);
    if (!added) it->second = std::max(it->second, offset);
  }
  return token;
}

std::string FormatConsistencyToken(const ConsistencyToken& token) {
  std::vector<std::string> entries;
  for (const auto& [partition, offset] : token.events) {
    entries.push_back(absl::StrCat("e", partition, ":", offset));
  }
  for (const auto& id : token.channel_events) {
    entries.push_back(absl::StrCat("c:", absl::StrReplaceAll(id, {{"%", "%25"}, {",", "%2C"}})));
  }
  return absl::StrJoin(entries, ",");
}

}  // namespace leadflow::api
