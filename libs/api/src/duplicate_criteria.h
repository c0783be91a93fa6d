#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/contact_points.h"
#include "leadflow/domain/domain_config.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/identity.h"
#include "leadflow/v1/service.pb.h"

namespace leadflow::api {

// (matched_on, key) per criterion of a duplicate search: ("phone",
// identity key), ("email", identity key), ("name+company",
// domain::NameCompanyKey). Refusals name the request field.
// What each criterion of a duplicate search looks up.
inline absl::StatusOr<std::vector<std::pair<std::string, std::string>>> DuplicateCriteria(
    const v1::FindDuplicateLeadsRequest& request, const domain::DomainConfig& config) {
  std::vector<std::pair<std::string, std::string>> criteria;  // (matched_on, index key)
  if (!request.phone().empty()) {
    LEADFLOW_ASSIGN_OR_RETURN(
        std::string phone, domain::NormalizePhone(request.phone(), config.default_region, "phone"));
    criteria.emplace_back("phone", domain::PhoneIdentityKey(phone));
  }
  if (!request.email().empty()) {
    LEADFLOW_ASSIGN_OR_RETURN(std::string email, domain::NormalizeEmail(request.email(), "email"));
    criteria.emplace_back("email", domain::EmailIdentityKey(email));
  }
  if (request.name().empty() != request.company_title().empty()) {
    return domain::InvalidField(request.name().empty() ? "name" : "company_title",
                                "name and company_title go together");
  }
  if (!request.name().empty()) {
    std::string key = domain::NameCompanyKey(request.name(), request.company_title());
    if (key.empty()) return domain::InvalidField("name", "has no words");
    criteria.emplace_back("name+company", std::move(key));
  }
  if (criteria.empty()) {
    return domain::InvalidField("phone", "give a phone, an email, or a name with company_title");
  }
  return criteria;
}

}  // namespace leadflow::api
