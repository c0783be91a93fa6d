#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "leadflow/v1/lead.pb.h"

namespace leadflow::domain {

struct LeadStatusDefinition {
  std::string id;
  std::string title;
  v1::StatusSemantic semantic = v1::STATUS_SEMANTIC_IN_PROGRESS;
};

// A company's lead statuses in order, each with its semantic. The first
// in-progress status is where new leads start; success and failure statuses
// are terminal.
class LeadPipeline {
 public:
  // New → In progress → Processed → Converted (success) | Junk (failure).
  static LeadPipeline Default();

  // REQUIRES: at least one in-progress and one failure status, unique ids.
  explicit LeadPipeline(std::vector<LeadStatusDefinition> statuses);

  const std::vector<LeadStatusDefinition>& statuses() const { return statuses_; }
  // nullptr when there is no such status.
  const LeadStatusDefinition* Find(absl::string_view id) const;
  const LeadStatusDefinition& Initial() const;
  const LeadStatusDefinition& Junk() const;

  static bool IsTerminal(v1::StatusSemantic semantic) {
    return semantic == v1::STATUS_SEMANTIC_SUCCESS || semantic == v1::STATUS_SEMANTIC_FAILURE;
  }

 private:
  std::vector<LeadStatusDefinition> statuses_;
};

}  // namespace leadflow::domain
