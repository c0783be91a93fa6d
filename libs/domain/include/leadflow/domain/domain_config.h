#pragma once

#include <string>
#include <vector>

#include "leadflow/domain/lead_pipeline.h"

namespace leadflow::domain {

// The company settings the rules depend on.
struct DomainConfig {
  LeadPipeline pipeline = LeadPipeline::Default();
  // Region for phone numbers written without a country code (ISO 3166).
  std::string default_region = "RU";
  // Users who may reopen junk leads. Empty: nobody may.
  std::vector<std::string> supervisors;
};

}  // namespace leadflow::domain
