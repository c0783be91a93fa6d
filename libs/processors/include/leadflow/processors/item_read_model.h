#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "leadflow/domain/pipelines.h"
#include "leadflow/processors/processor.h"
#include "leadflow/store/state_store.h"
#include "leadflow/v1/commands.pb.h"
#include "leadflow/v1/crm.pb.h"

namespace leadflow::processors {

// The read model of contacts, companies, deals, activities and pipelines in
// the `views` keyspace (leads have their own, LeadReadModel):
//   item/<type>/<id>                  the AggregateState
//   ix/<type>/<index>/<value>\0<id>   secondary indexes (empty values)
// Indexes: contact: responsible, company, source_lead, identity;
// company: responsible, source_lead, identity, title; deal: responsible,
// pipeline, stage, contact, company, source_lead; activity: owner,
// responsible, state. Written only by CrmProjection. Thread-safe.
class ItemReadModel {
 public:
  explicit ItemReadModel(const store::StateStore* db) : db_(db) {}

  absl::StatusOr<std::optional<v1::AggregateState>> Get(absl::string_view type,
                                                        absl::string_view id) const;
  // The same, seeing the writes staged in `txn`.
  absl::StatusOr<std::optional<v1::AggregateState>> Get(ProcessorTransaction& txn,
                                                        absl::string_view type,
                                                        absl::string_view id) const;

  struct Filter {
    std::string index;
    std::string value;
    // The request field the filter came from, for errors.
    std::string field;
  };
  struct Page {
    std::vector<v1::AggregateState> items;
    std::string next_page_token;
  };
  // Items of `type` having every filter's index value, in id order;
  // when `visible` is set, only those it accepts (the caller's read
  // rights), before paging. INVALID_ARGUMENT for a filter the type has no
  // index for (naming its field) or a page token not issued here.
  absl::StatusOr<Page> List(
      absl::string_view type, const std::vector<Filter>& filters, int32_t page_size,
      absl::string_view page_token,
      const std::function<bool(const v1::AggregateState&)>& visible = {}) const;
  // Ids of `type` items whose `index` holds `value`, in id order: those
  // after `after` (all when empty), at most `limit`.
  absl::StatusOr<std::vector<std::string>> FindIndexed(absl::string_view type,
                                                       absl::string_view index,
                                                       absl::string_view value,
                                                       absl::string_view after = "",
                                                       size_t limit = SIZE_MAX) const;

  // Whether the lead or deal `owner` ("leads/x") has a planned activity past
  // its deadline at `now_seconds` (reads its activities by the owner index).
  absl::StatusOr<bool> HasOverdueActivity(absl::string_view owner, int64_t now_seconds) const;

  // The client a lead's person already is, if any: a contact sharing a
  // phone, email or messenger handle (with its first company), else a
  // company sharing one or titled like the lead's company. Empty when none.
  absl::StatusOr<v1::ClientMatch> FindClient(const v1::Lead& lead) const;

  // The pipelines in force: the built-in ones overlaid with the configured.
  // The command, intake and robot processors ask once per batch, so the set
  // is kept in memory until the projection commits a pipeline change
  // (ConfigurationChanged).
  absl::StatusOr<domain::PipelineSet> Pipelines() const;
  // The pipelines with their robots' access-policy teams given their
  // members (domain::WithAccessTeams): what robots run with.
  absl::StatusOr<domain::PipelineSet> PipelinesForRobots() const;
  // The access policy in force (version 0 when none was applied), asked
  // on every call: kept in memory like the pipelines.
  absl::StatusOr<std::shared_ptr<const v1::AccessPolicy>> AccessPolicy() const;
  // Called by the projection once a batch that changed a pipeline or the
  // access policy is committed: the next reads go to the store again.
  void ConfigurationChanged() const;

  // Stages the writes that replace `before` (nullptr if new) with `after`.
  void Stage(ProcessorTransaction& txn, const v1::AggregateState* before,
             const v1::AggregateState& after) const;

  static std::string ItemKey(absl::string_view type, absl::string_view id);
  // The (index, value) pairs an item is found by.
  static std::vector<std::pair<std::string, std::string>> IndexTerms(
      const v1::AggregateState& item);

 private:
  const store::StateStore* db_;
  mutable absl::Mutex pipelines_mu_;
  mutable std::optional<domain::PipelineSet> pipelines_ ABSL_GUARDED_BY(pipelines_mu_);
  mutable std::shared_ptr<const v1::AccessPolicy> access_policy_ ABSL_GUARDED_BY(pipelines_mu_);
  // Moves on every change, so a read that raced one is not kept.
  mutable uint64_t pipelines_generation_ ABSL_GUARDED_BY(pipelines_mu_) = 0;
};

}  // namespace leadflow::processors
