#include "leadflow/domain/lead_pipeline.h"

#include <utility>

namespace leadflow::domain {

LeadPipeline LeadPipeline::Default() {
  return LeadPipeline({
      {"NEW", "New", v1::STATUS_SEMANTIC_IN_PROGRESS},
      {"IN_PROCESS", "In progress", v1::STATUS_SEMANTIC_IN_PROGRESS},
      {"PROCESSED", "Processed", v1::STATUS_SEMANTIC_IN_PROGRESS},
      {"CONVERTED", "Converted", v1::STATUS_SEMANTIC_SUCCESS},
      {"JUNK", "Junk", v1::STATUS_SEMANTIC_FAILURE},
  });
}

LeadPipeline::LeadPipeline(std::vector<LeadStatusDefinition> statuses)
    : statuses_(std::move(statuses)) {}

const LeadStatusDefinition* LeadPipeline::Find(absl::string_view id) const {
  for (const auto& status : statuses_) {
    if (status.id == id) return &status;
  }
  return nullptr;
}

const LeadStatusDefinition& LeadPipeline::Initial() const {
  for (const auto& status : statuses_) {
    if (status.semantic == v1::STATUS_SEMANTIC_IN_PROGRESS) return status;
  }
  return statuses_.front();
}

const LeadStatusDefinition& LeadPipeline::Junk() const {
  for (const auto& status : statuses_) {
    if (status.semantic == v1::STATUS_SEMANTIC_FAILURE) return status;
  }
  return statuses_.back();
}

}  // namespace leadflow::domain
