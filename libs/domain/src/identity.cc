#include "leadflow/domain/identity.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace leadflow::domain {

std::string PhoneIdentityKey(absl::string_view e164) { return absl::StrCat("phone:", e164); }

std::string EmailIdentityKey(absl::string_view address) { return absl::StrCat("email:", address); }

std::string MessengerIdentityKey(absl::string_view channel, absl::string_view handle) {
  return absl::StrCat("messenger:", absl::AsciiStrToLower(channel), ":",
                      absl::AsciiStrToLower(handle));
}

std::vector<std::string> LeadIdentityKeys(const v1::Lead& lead) {
  std::vector<std::string> keys;
  auto add = [&keys](std::string key) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  };
  for (const auto& phone : lead.phones()) add(PhoneIdentityKey(phone.number()));
  for (const auto& email : lead.emails()) add(EmailIdentityKey(email.address()));
  for (const auto& m : lead.messengers()) add(MessengerIdentityKey(m.channel(), m.handle()));
  return keys;
}

}  // namespace leadflow::domain
