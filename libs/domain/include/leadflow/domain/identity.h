#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "leadflow/v1/lead.pb.h"

namespace leadflow::domain {

// Identity keys find the person behind a request: "phone:<E.164>",
// "email:<address>", "messenger:<channel>:<handle>". They are built from
// normalised values only, so one person always yields the same keys.
std::string PhoneIdentityKey(absl::string_view e164);
std::string EmailIdentityKey(absl::string_view address);
std::string MessengerIdentityKey(absl::string_view channel, absl::string_view handle);

// Every identity key of these contact points, phones first, without repeats.
std::vector<std::string> IdentityKeys(
    const google::protobuf::RepeatedPtrField<v1::PhoneNumber>& phones,
    const google::protobuf::RepeatedPtrField<v1::EmailAddress>& emails,
    const google::protobuf::RepeatedPtrField<v1::MessengerHandle>& messengers);
inline std::vector<std::string> LeadIdentityKeys(const v1::Lead& lead) {
  return IdentityKeys(lead.phones(), lead.emails(), lead.messengers());
}

// "name+company:<name>|<company>" for finding duplicates, not for intake
// matching (many people share a name, fewer at one company). Words are
// lower-cased (any script) and the name's words sorted, so "Иван Петров",
// "ПЕТРОВ  иван" and "petrov Ivan"-style spellings of one script meet.
// Empty unless both are given.
std::string NameCompanyKey(absl::string_view name, absl::string_view company);

// "company:<words>" of a company title, lower-cased (any script), quotes
// dropped: how companies are found by name. Empty for an empty title.
std::string CompanyTitleKey(absl::string_view title);

// The words of a text, lower-cased (any script), quotes and punctuation
// around them dropped: what text search compares.
std::vector<std::string> SearchWords(absl::string_view text);

// A lead's name parts (first, second, last) as one string.
std::string LeadFullName(const v1::Lead& lead);

}  // namespace leadflow::domain
