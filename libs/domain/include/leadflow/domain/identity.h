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

// Every identity key of a lead, phones first, without repeats.
std::vector<std::string> LeadIdentityKeys(const v1::Lead& lead);

}  // namespace leadflow::domain
