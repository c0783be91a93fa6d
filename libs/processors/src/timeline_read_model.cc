#include "leadflow/processors/timeline_read_model.h"

#include <algorithm>
#include <memory>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/field_error.h"

namespace leadflow::processors {
namespace {

std::string Prefix(absl::string_view aggregate_type, absl::string_view aggregate_id) {
  return absl::StrCat("timeline/", aggregate_type, "/", aggregate_id, "/");
}

// Zero-padded, so keys sort in version order.
std::string EntryKey(absl::string_view aggregate_type, absl::string_view aggregate_id,
                     int64_t version) {
  return absl::StrCat(Prefix(aggregate_type, aggregate_id), absl::StrFormat("%020d", version));
}

}  // namespace

void TimelineReadModel::Stage(ProcessorTransaction& txn, const v1::EventEnvelope& event,
                              absl::string_view bytes) const {
  txn.Put(store::Keyspace::kViews,
          EntryKey(event.aggregate_type(), event.aggregate_id(), event.aggregate_version()), bytes);
}

absl::StatusOr<TimelineReadModel::Page> TimelineReadModel::List(
    absl::string_view aggregate_type, absl::string_view aggregate_id, int32_t page_size,
    absl::string_view page_token) const {
  if (page_size < 0) return domain::InvalidField("page_size", "negative");
  const int32_t limit = page_size == 0 ? 50 : std::min(page_size, 1000);
  // The token is the last version returned.
  int64_t after = 0;
  if (!page_token.empty() && (!absl::SimpleAtoi(page_token, &after) || after < 1)) {
    return domain::InvalidField("page_token", "not a token this server issued");
  }
  const std::string prefix = Prefix(aggregate_type, aggregate_id);
  Page page;
  absl::Status status;
  LEADFLOW_RETURN_IF_ERROR(
      db_->Scan(store::Keyspace::kViews, prefix, EntryKey(aggregate_type, aggregate_id, after + 1),
                [&](absl::string_view, absl::string_view value) {
                  if (static_cast<int32_t>(page.events.size()) == limit) {
                    page.next_page_token = absl::StrCat(page.events.back().aggregate_version());
                    return false;
                  }
                  status = ParseProto(value, &page.events.emplace_back(), "timeline entry");
                  return status.ok();
                }));
  LEADFLOW_RETURN_IF_ERROR(status);
  return page;
}

absl::StatusOr<TimelineReadModel::Page> TimelineReadModel::ListCombined(
    absl::string_view aggregate_type, const std::vector<std::string>& aggregate_ids,
    int32_t page_size, absl::string_view page_token) const {
  if (aggregate_ids.size() == 1) {
    return List(aggregate_type, aggregate_ids.front(), page_size, page_token);
  }
  if (page_size < 0) return domain::InvalidField("page_size", "negative");
  const int32_t limit = page_size == 0 ? 50 : std::min(page_size, 1000);
  // A merged history is small (tens of events): read it whole, order it,
  // and page by position. The token is how many were returned before.
  int64_t skip = 0;
  if (!page_token.empty() && (!absl::SimpleAtoi(page_token, &skip) || skip < 1)) {
    return domain::InvalidField("page_token", "not a token this server issued");
  }
  std::vector<v1::EventEnvelope> all;
  for (const auto& id : aggregate_ids) {
    const std::string prefix = Prefix(aggregate_type, id);
    absl::Status status;
    LEADFLOW_RETURN_IF_ERROR(db_->Scan(
        store::Keyspace::kViews, prefix, prefix, [&](absl::string_view, absl::string_view value) {
          status = ParseProto(value, &all.emplace_back(), "timeline entry");
          return status.ok();
        }));
    LEADFLOW_RETURN_IF_ERROR(status);
  }
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    const auto key = [](const v1::EventEnvelope& e) {
      return std::make_tuple(e.occur_time().seconds(), e.occur_time().nanos(), e.aggregate_id(),
                             e.aggregate_version());
    };
    return key(a) < key(b);
  });
  Page page;
  for (int64_t i = skip; i < static_cast<int64_t>(all.size()); ++i) {
    if (static_cast<int32_t>(page.events.size()) == limit) {
      page.next_page_token = absl::StrCat(i);
      break;
    }
    page.events.push_back(std::move(all[i]));
  }
  return page;
}

}  // namespace leadflow::processors
