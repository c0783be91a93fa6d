#include "leadflow/domain/identity.h"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace leadflow::domain {

std::string PhoneIdentityKey(absl::string_view e164) { return absl::StrCat("phone:", e164); }

std::string EmailIdentityKey(absl::string_view address) { return absl::StrCat("email:", address); }

namespace {

// Handles compare as people read them: "ＡＮＮＡ", "Anna" and "anna" are one
// handle (NFKC with case folding, as identifier comparisons do).
std::string FoldHandle(absl::string_view handle) {
  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* fold = icu::Normalizer2::getNFKCCasefoldInstance(error);
  if (U_FAILURE(error)) return absl::AsciiStrToLower(handle);
  icu::UnicodeString folded =
      fold->normalize(icu::UnicodeString::fromUTF8(
                          icu::StringPiece(handle.data(), static_cast<int32_t>(handle.size()))),
                      error);
  if (U_FAILURE(error)) return absl::AsciiStrToLower(handle);
  std::string out;
  folded.toUTF8String(out);
  return out;
}

}  // namespace

std::string MessengerIdentityKey(absl::string_view channel, absl::string_view handle) {
  return absl::StrCat("messenger:", absl::AsciiStrToLower(channel), ":", FoldHandle(handle));
}

std::vector<std::string> IdentityKeys(
    const google::protobuf::RepeatedPtrField<v1::PhoneNumber>& phones,
    const google::protobuf::RepeatedPtrField<v1::EmailAddress>& emails,
    const google::protobuf::RepeatedPtrField<v1::MessengerHandle>& messengers) {
  std::vector<std::string> keys;
  auto add = [&keys](std::string key) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  };
  for (const auto& phone : phones) add(PhoneIdentityKey(phone.number()));
  for (const auto& email : emails) add(EmailIdentityKey(email.address()));
  for (const auto& m : messengers) add(MessengerIdentityKey(m.channel(), m.handle()));
  return keys;
}

namespace {

// Lower-cased words, quotes and punctuation around them dropped.
std::vector<std::string> Words(absl::string_view text) {
  std::string lower;
  icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())))
      .toLower(icu::Locale::getRoot())
      .toUTF8String(lower);
  std::vector<std::string> words;
  for (absl::string_view word :
       absl::StrSplit(lower, absl::ByAnyChar(" \t\n\r"), absl::SkipEmpty())) {
    word = absl::StripAsciiWhitespace(word);
    // ASCII and typographic quotes, commas and dots at either end.
    for (absl::string_view mark : {"\"", "'", ",", ".", "«", "»", "“", "”"}) {
      while (absl::ConsumePrefix(&word, mark) || absl::ConsumeSuffix(&word, mark)) {
      }
    }
    if (!word.empty()) words.emplace_back(word);
  }
  return words;
}

}  // namespace

std::string NameCompanyKey(absl::string_view name, absl::string_view company) {
  std::vector<std::string> name_words = Words(name);
  const std::vector<std::string> company_words = Words(company);
  if (name_words.empty() || company_words.empty()) return "";
  std::sort(name_words.begin(), name_words.end());
  return absl::StrCat("name+company:", absl::StrJoin(name_words, " "), "|",
                      absl::StrJoin(company_words, " "));
}

std::string CompanyTitleKey(absl::string_view title) {
  const std::vector<std::string> words = Words(title);
  if (words.empty()) return "";
  return absl::StrCat("company:", absl::StrJoin(words, " "));
}

std::vector<std::string> SearchWords(absl::string_view text) { return Words(text); }

std::string LeadFullName(const v1::Lead& lead) {
  return absl::StrJoin({lead.first_name(), lead.second_name(), lead.last_name()}, " ");
}

}  // namespace leadflow::domain
