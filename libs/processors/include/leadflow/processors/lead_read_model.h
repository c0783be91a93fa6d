#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadflow/processors/processor.h"
#include "leadflow/store/state_store.h"
#include "leadflow/v1/lead.pb.h"

namespace leadflow::processors {

// The leads read model in the `views` keyspace:
//   lead/<id>                       the Lead
//   chev/<channel event id>         the lead the channel event reached
//   idx/status/<status>\0<id>       secondary indexes (empty values)
//   idx/responsible/<user>\0<id>
//   idx/source/<source>\0<id>
//   idx/identity/<key>\0<id>
// Written only by CrmProjection; read by the API and the intake resolver.
// Thread-safe.
class LeadReadModel {
 public:
  explicit LeadReadModel(const store::StateStore* db) : db_(db) {}

  absl::StatusOr<std::optional<v1::Lead>> Get(absl::string_view lead_id) const;

  struct Query {
    std::string status_id;
    std::string responsible_id;
    v1::LeadSource source = v1::LEAD_SOURCE_UNSPECIFIED;
    int32_t page_size = 50;
    // Opaque; from a previous page.
    std::string page_token;
    // When set, only leads it accepts count (the caller's read rights):
    // applied before paging, so pages and tokens hold only those.
    std::function<bool(const v1::Lead&)> visible;
  };
  struct Page {
    std::vector<v1::Lead> leads;
    std::string next_page_token;
  };
  // Leads matching every filter of the query, in lead id order.
  // INVALID_ARGUMENT for a page token this model did not issue.
  absl::StatusOr<Page> List(const Query& query) const;

  // Ids of leads holding the identity key, in id order: those after
  // `after` (all when empty), at most `limit`.
  absl::StatusOr<std::vector<std::string>> FindByIdentity(absl::string_view identity_key,
                                                          absl::string_view after = "",
                                                          size_t limit = SIZE_MAX) const;
  // Ids of leads with this domain::NameCompanyKey, as FindByIdentity.
  absl::StatusOr<std::vector<std::string>> FindByNameCompany(absl::string_view key,
                                                             absl::string_view after = "",
                                                             size_t limit = SIZE_MAX) const;

  // Stages the writes that replace `before` (nullptr if new) with `after`.
  void Stage(ProcessorTransaction& txn, const v1::Lead* before, const v1::Lead& after) const;
  // A channel event reached `lead_id` (chev/<event id>).
  void StageChannelEvent(ProcessorTransaction& txn, absl::string_view event_id,
                         absl::string_view lead_id) const;
  // The lead a channel event reached; nullopt until it has.
  absl::StatusOr<std::optional<std::string>> LeadOfChannelEvent(absl::string_view event_id) const;

  // Every key and value of the read model (for replay comparisons).
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Dump() const;

  static std::string LeadKey(absl::string_view lead_id);

 private:
  absl::StatusOr<std::vector<std::string>> FindIndexed(absl::string_view index,
                                                       absl::string_view value,
                                                       absl::string_view after, size_t limit) const;

  const store::StateStore* db_;
};

}  // namespace leadflow::processors
