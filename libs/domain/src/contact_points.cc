#include "leadflow/domain/contact_points.h"

#include <phonenumbers/phonenumberutil.h>

#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "leadflow/domain/field_error.h"

namespace leadflow::domain {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

// One channel event's phone is parsed on the way in (the intake API), by
// the intake processor and again when its lead is created; libphonenumber's
// regexes make that a visible share of intake. The result depends only on
// the text and the region, so valid numbers are remembered. Bounded: cleared
// when full (a cache, not a record of every number seen).
class ValidPhoneMemo {
 public:
  std::optional<std::string> Find(const std::string& key) {
    absl::MutexLock lock(&mu_);
    auto it = e164_.find(key);
    if (it == e164_.end()) return std::nullopt;
    return it->second;
  }
  void Remember(std::string key, std::string e164) {
    absl::MutexLock lock(&mu_);
    if (e164_.size() >= kCapacity) e164_.clear();
    e164_.emplace(std::move(key), std::move(e164));
  }

 private:
  static constexpr size_t kCapacity = 1 << 16;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> e164_ ABSL_GUARDED_BY(mu_);
};

ValidPhoneMemo& Memo() {
  static auto* memo = new ValidPhoneMemo();
  return *memo;
}

// Telephony and most integrations send numbers already in E.164; for those
// the country code is the one calling code the digits start with (calling
// codes are prefix-free), so libphonenumber's parser, whose regexes were the
// larger part of normalising a channel event, is not needed. Anything else
// (spaces, a national prefix, a leading zero after the code, an unknown
// code) returns nullopt and goes to the parser.
std::optional<PhoneNumber> ReadPlainE164(const std::string& text, const PhoneNumberUtil& util) {
  // "+", a calling code of 1-3 digits, at most 15 digits in all.
  if (text.size() < 3 || text.size() > 16 || text[0] != '+') return std::nullopt;
  for (size_t i = 1; i < text.size(); ++i) {
    if (!absl::ascii_isdigit(text[i])) return std::nullopt;
  }
  for (size_t length = 1; length <= 3 && length + 1 < text.size(); ++length) {
    const int calling_code = std::stoi(text.substr(1, length));
    std::string region;
    util.GetRegionCodeForCountryCode(calling_code, &region);
    if (region == "ZZ") continue;
    const std::string national = text.substr(1 + length);
    if (national[0] == '0') return std::nullopt;
    PhoneNumber number;
    number.set_country_code(calling_code);
    number.set_national_number(std::stoull(national));
    return number;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::string> NormalizePhone(absl::string_view raw, absl::string_view default_region,
                                           absl::string_view field) {
  const std::string trimmed(absl::StripAsciiWhitespace(raw));
  if (trimmed.empty()) return InvalidField(field, "phone number is empty");
  if (trimmed.size() > 64) return InvalidField(field, "phone number is longer than 64 characters");
  std::string memo_key = absl::StrCat(default_region, "\n", trimmed);
  if (auto known = Memo().Find(memo_key)) return *std::move(known);
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  if (std::optional<PhoneNumber> plain = ReadPlainE164(trimmed, util);
      plain.has_value() && util.IsValidNumber(*plain)) {
    // The parser would strip a national prefix here only when what is left
    // is a possible length; a valid number read plainly is what it reads
    // (tests/domain/contact_points_test.cc compares the two on every
    // calling code). An invalid one goes to the parser, which may yet
    // read it (a national prefix written after the calling code).
    Memo().Remember(std::move(memo_key), trimmed);
    return trimmed;
  }
  PhoneNumber number;
  if (util.Parse(trimmed, std::string(default_region), &number) !=
      PhoneNumberUtil::NO_PARSING_ERROR) {
    return InvalidField(field, absl::StrCat("'", trimmed, "' is not a phone number"));
  }
  if (!util.IsValidNumber(number)) {
    return InvalidField(field, absl::StrCat("'", trimmed, "' is not a valid phone number (region ",
                                            default_region, ")"));
  }
  std::string e164;
  util.Format(number, PhoneNumberUtil::E164, &e164);
  Memo().Remember(std::move(memo_key), e164);
  return e164;
}

namespace {

bool IsDomainLabelChar(char c) { return absl::ascii_isalnum(c) || c == '-'; }

bool IsLocalPartChar(char c) {
  return absl::ascii_isalnum(c) ||
         absl::string_view("!#$%&'*+/=?^_`{|}~.-").find(c) != absl::string_view::npos;
}

}  // namespace

absl::StatusOr<std::string> NormalizeEmail(absl::string_view raw, absl::string_view field) {
  std::string email = absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw));
  if (email.empty()) return InvalidField(field, "email address is empty");
  if (email.size() > 254) return InvalidField(field, "email address is longer than 254 characters");
  const size_t at = email.find('@');
  if (at == std::string::npos || email.find('@', at + 1) != std::string::npos) {
    return InvalidField(
        field, absl::StrCat("'", email, "' is not an email address: it needs exactly one '@'"));
  }
  absl::string_view local(email.data(), at);
  absl::string_view domain(email.data() + at + 1, email.size() - at - 1);
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.' ||
      absl::StrContains(local, "..")) {
    return InvalidField(field, absl::StrCat("'", email, "' has an invalid part before '@'"));
  }
  for (char c : local) {
    if (!IsLocalPartChar(c)) {
      return InvalidField(field, absl::StrCat("'", email, "' has an invalid character before '@'"));
    }
  }
  std::vector<absl::string_view> labels = absl::StrSplit(domain, '.');
  if (labels.size() < 2) {
    return InvalidField(field, absl::StrCat("'", email, "' has no top-level domain"));
  }
  for (absl::string_view label : labels) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return InvalidField(field, absl::StrCat("'", email, "' has an invalid domain"));
    }
    for (char c : label) {
      if (!IsDomainLabelChar(c)) {
        return InvalidField(field,
                            absl::StrCat("'", email, "' has an invalid character in its domain"));
      }
    }
  }
  return email;
}

bool IsKnownPhoneRegion(absl::string_view region) {
  std::set<std::string> regions;
  PhoneNumberUtil::GetInstance()->GetSupportedRegions(&regions);
  return regions.count(std::string(region)) > 0;
}

}  // namespace leadflow::domain
