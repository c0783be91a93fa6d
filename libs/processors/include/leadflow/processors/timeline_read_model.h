#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "leadflow/processors/processor.h"
#include "leadflow/store/state_store.h"
#include "leadflow/v1/events.pb.h"

namespace leadflow::processors {

// The history of one aggregate (lead, contact, company, deal, activity or
// pipeline): every event in version order, each with who did it
// (actor), what caused it (causation_id) and the chain it belongs to
// (correlation_id). Kept in `views` by the aggregate's projection, in the
// batch that applies the event, so it is rebuilt with the read models and
// `min_position` covers it. Thread-safe for reads.
class TimelineReadModel {
 public:
  explicit TimelineReadModel(const store::StateStore* db) : db_(db) {}

  // Records `event` (whose serialized bytes are `bytes`).
  void Stage(ProcessorTransaction& txn, const v1::EventEnvelope& event,
             absl::string_view bytes) const;

  struct Page {
    std::vector<v1::EventEnvelope> events;
    // Empty on the last page.
    std::string next_page_token;
  };
  // Events of one aggregate, oldest first. page_size 0 means 50, at most
  // 1000. INVALID_ARGUMENT (field page_token) for a token not issued here.
  absl::StatusOr<Page> List(absl::string_view aggregate_type, absl::string_view aggregate_id,
                            int32_t page_size, absl::string_view page_token) const;
  // The events of several aggregates of one type (a lead and the leads
  // merged into it) as one history: by time, then aggregate, then version.
  absl::StatusOr<Page> ListCombined(absl::string_view aggregate_type,
                                    const std::vector<std::string>& aggregate_ids,
                                    int32_t page_size, absl::string_view page_token) const;

 private:
  const store::StateStore* db_;
};

}  // namespace leadflow::processors
