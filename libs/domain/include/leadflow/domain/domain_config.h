#pragma once

#include <string>
#include <vector>

#include "leadflow/domain/pipelines.h"

namespace leadflow::domain {

// The company settings the rules depend on.
struct DomainConfig {
  // Lead statuses and deal pipelines in force (built-in until configured).
  PipelineSet pipelines;
  // Region for phone numbers written without a country code (ISO 3166).
  std::string default_region = "RU";
  // Users who may reopen junk leads. Empty: nobody may.
  std::vector<std::string> supervisors;
};

}  // namespace leadflow::domain
