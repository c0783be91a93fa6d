#include "leadflow/processors/timeline_read_model.h"

#include <rocksdb/db.h>

#include <algorithm>
#include <memory>

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
  txn.Put(db_->views_family(),
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
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db()->NewIterator(rocksdb::ReadOptions(), db_->views_family()));
  Page page;
  for (it->Seek(EntryKey(aggregate_type, aggregate_id, after + 1));
       it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (static_cast<int32_t>(page.events.size()) == limit) {
      page.next_page_token = absl::StrCat(page.events.back().aggregate_version());
      break;
    }
    LEADFLOW_RETURN_IF_ERROR(ParseProto(absl::string_view(it->value().data(), it->value().size()),
                                        &page.events.emplace_back(), "timeline entry"));
  }
  if (!it->status().ok()) return store::FromRocks(it->status(), "reading the timeline");
  return page;
}

}  // namespace leadflow::processors
