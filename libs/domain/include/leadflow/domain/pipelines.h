#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "leadflow/v1/crm.pb.h"

namespace leadflow::domain {

// Lead statuses and deal pipelines, the company's own. A pipeline passes
// ValidatePipeline before it is kept, so every kept pipeline has an
// in-progress stage first in line and at least one failure stage (and, for
// deals, a success stage).

inline constexpr absl::string_view kLeadPipelineId = "lead";
inline constexpr absl::string_view kDefaultDealPipelineId = "default";

// New → In progress → Processed → Converted (success) | Junk (failure).
v1::Pipeline DefaultLeadPipeline();
// New → Preparing documents → Invoice → In progress → Won | Lost.
v1::Pipeline DefaultDealPipeline();

inline bool IsTerminal(v1::StatusSemantic semantic) {
  return semantic == v1::STATUS_SEMANTIC_SUCCESS || semantic == v1::STATUS_SEMANTIC_FAILURE;
}

// nullptr when the pipeline has no such stage.
const v1::PipelineStage* FindStage(const v1::Pipeline& pipeline, absl::string_view stage_id);
// The first stage of `semantic`; nullptr if there is none.
const v1::PipelineStage* FirstStage(const v1::Pipeline& pipeline, v1::StatusSemantic semantic);

// Refusals name the field under `prefix` ("pipeline.stages[2].stage_id").
absl::Status ValidatePipeline(const v1::Pipeline& pipeline, absl::string_view prefix = "pipeline");

// What differs between two versions of a pipeline, one line per difference
// ("stage VERIFIED added", "stage NEW: title 'New' → 'Fresh'"). Empty when
// they are the same (output-only fields ignored).
std::vector<std::string> DiffPipeline(const v1::Pipeline& before, const v1::Pipeline& after);

// The required fields of `item` (a Lead or a Deal) that are empty: a scalar
// at its default, an empty list or map, an unset message (a Money with a
// zero amount counts as empty), or "custom_fields.<key>" without a value.
std::vector<std::string> MissingFields(
    const google::protobuf::Message& item,
    const google::protobuf::RepeatedPtrField<std::string>& required);

// Refuses with FAILED_PRECONDITION naming every missing field (all of them
// in the status's BadRequest) when `item` lacks any of `required`. `what`
// says for what, e.g. "status SEND_PROPOSAL".
absl::Status CheckRequiredFields(const google::protobuf::Message& item,
                                 const google::protobuf::RepeatedPtrField<std::string>& required,
                                 absl::string_view what);

// Refuses with FAILED_PRECONDITION naming "required_activities" (each
// requirement missing in the BadRequest) when `activities` (the item's) has
// no completed activity for a requirement of `stage`. `what` says for what,
// e.g. "status SEND_PROPOSAL".
absl::Status CheckRequiredActivities(
    const v1::PipelineStage& stage,
    const google::protobuf::RepeatedPtrField<v1::Activity>& activities, absl::string_view what);

// The pipelines in force: the built-in ones overlaid with what was
// configured. Not thread-safe; copy per use.
class PipelineSet {
 public:
  PipelineSet();
  // Adds or replaces (a removed pipeline is kept, marked removed).
  void Put(v1::Pipeline pipeline);
  const v1::Pipeline& lead() const;
  // Any deal pipeline, removed ones included; nullptr if unknown.
  const v1::Pipeline* FindDeal(absl::string_view pipeline_id) const;
  // nullptr if unknown.
  const v1::Pipeline* Find(absl::string_view pipeline_id) const;
  const std::map<std::string, v1::Pipeline>& all() const { return pipelines_; }

 private:
  std::map<std::string, v1::Pipeline> pipelines_;
};

}  // namespace leadflow::domain
