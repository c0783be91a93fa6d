// Pipelines as event-sourced settings: configured (created or replaced)
// whole, removed (deal pipelines only).

#include "absl/strings/str_cat.h"
#include "aggregates.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/pipelines.h"

namespace leadflow::domain {

absl::Status DecidePipelineCommand(const v1::Pipeline* current, const v1::Command& command,
                                   EventSink& sink) {
  if (command.has_configure_pipeline()) {
    v1::Pipeline pipeline = command.configure_pipeline().pipeline();
    if (pipeline.pipeline_id().empty()) pipeline.set_pipeline_id(command.aggregate_id());
    if (pipeline.pipeline_id() != command.aggregate_id()) {
      return InvalidField("pipeline.pipeline_id", "differs from the pipeline named");
    }
    pipeline.clear_version();
    pipeline.clear_removed();
    // Before validating: a changed kind would otherwise be refused as a
    // wrong id for that kind.
    if (current != nullptr && current->kind() != pipeline.kind()) {
      return InvalidField("pipeline.kind", "a pipeline's kind does not change");
    }
    LEADFLOW_RETURN_IF_ERROR(ValidatePipeline(pipeline));
    if (current != nullptr && !current->removed() && DiffPipeline(*current, pipeline).empty()) {
      return absl::OkStatus();
    }
    *sink.Add().mutable_pipeline_configured()->mutable_pipeline() = std::move(pipeline);
    return absl::OkStatus();
  }
  if (command.has_remove_pipeline()) {
    if (command.aggregate_id() == kLeadPipelineId) {
      return FieldError(absl::StatusCode::kFailedPrecondition, "name",
                        "the lead pipeline cannot be removed; configure it instead");
    }
    if (current == nullptr && command.aggregate_id() != kDefaultDealPipelineId) {
      return FieldError(absl::StatusCode::kNotFound, "name",
                        absl::StrCat("pipeline ", command.aggregate_id(), " does not exist"));
    }
    if (current != nullptr && current->removed()) return absl::OkStatus();
    sink.Add().mutable_pipeline_removed();
    return absl::OkStatus();
  }
  return InvalidField("command", "not a pipeline command");
}

void EvolvePipelineState(v1::Pipeline& pipeline, const v1::EventEnvelope& event) {
  if (event.has_pipeline_configured()) {
    pipeline = event.pipeline_configured().pipeline();
    *pipeline.mutable_configure_time() = event.occur_time();
  } else if (event.has_pipeline_removed()) {
    // The built-in default deal pipeline is removed without being
    // configured first.
    if (pipeline.pipeline_id().empty()) pipeline = DefaultDealPipeline();
    pipeline.set_removed(true);
  }
  pipeline.set_version(event.aggregate_version());
}

}  // namespace leadflow::domain
