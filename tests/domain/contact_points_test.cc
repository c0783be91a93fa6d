#include "leadflow/domain/contact_points.h"

#include <phonenumbers/phonenumberutil.h>

#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "leadflow/domain/field_error.h"

namespace leadflow::domain {
namespace {

TEST_CASE("phones in any common format become E.164") {
  CHECK(*NormalizePhone("8 (916) 123-45-67", "RU", "f") == "+79161234567");
  CHECK(*NormalizePhone("+7 916 123 45 67", "RU", "f") == "+79161234567");
  CHECK(*NormalizePhone("(650) 253-0000", "US", "f") == "+16502530000");
  CHECK(*NormalizePhone("+44 20 7946 0958", "RU", "f") == "+442079460958");
}

TEST_CASE("invalid phones are refused naming the field") {
  for (const char* raw : {"", "12", "abc", "+7 000 000", "+999 1234567"}) {
    auto phone = NormalizePhone(raw, "RU", "lead.phones[0].number");
    REQUIRE_FALSE(phone.ok());
    CHECK(FieldOf(phone.status()) == "lead.phones[0].number");
  }
}

// NormalizePhone reads a plain E.164 number without libphonenumber's
// parser. The same digits with a hyphen in them always go through the
// parser; both must agree for every calling code: on example numbers of
// every region and type, and on random digits (valid or not).
TEST_CASE("plain E.164 numbers read as the parser reads them, on every calling code") {
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  const auto with_hyphen = [](const std::string& e164) {
    return absl::StrCat(e164.substr(0, 4), "-", e164.substr(4));
  };
  std::vector<std::string> numbers;
  std::set<std::string> regions;
  util.GetSupportedRegions(&regions);
  for (const std::string& region : regions) {
    for (int type = PhoneNumberUtil::FIXED_LINE; type <= PhoneNumberUtil::VOICEMAIL; ++type) {
      PhoneNumber example;
      if (!util.GetExampleNumberForType(region, static_cast<PhoneNumberUtil::PhoneNumberType>(type),
                                        &example)) {
        continue;
      }
      std::string e164;
      util.Format(example, PhoneNumberUtil::E164, &e164);
      numbers.push_back(e164);
    }
  }
  REQUIRE(numbers.size() > 1000);
  std::set<int> codes;
  util.GetSupportedCallingCodes(&codes);
  std::mt19937 random(20261203);
  for (int code : codes) {
    const std::string prefix = absl::StrCat("+", code);
    for (int i = 0; i < 60; ++i) {
      std::string e164 = prefix;
      const size_t digits = 4 + random() % (16 - e164.size() - 3);
      e164 += static_cast<char>('1' + random() % 9);
      while (e164.size() < prefix.size() + digits) e164 += static_cast<char>('0' + random() % 10);
      numbers.push_back(e164);
    }
  }
  int valid = 0;
  for (const std::string& e164 : numbers) {
    INFO(e164);
    auto plain = NormalizePhone(e164, "RU", "f");
    auto parsed = NormalizePhone(with_hyphen(e164), "RU", "f");
    REQUIRE(plain.ok() == parsed.ok());
    if (plain.ok()) {
      CHECK(*plain == *parsed);
      ++valid;
    }
  }
  CHECK(valid > 1000);
}

TEST_CASE("emails are trimmed, lower-cased and checked") {
  CHECK(*NormalizeEmail("  Ivan.Petrov+crm@Example.COM ", "f") == "ivan.petrov+crm@example.com");
  for (const char* raw :
       {"", "plain", "a@b", "a@@b.com", "a b@c.com", ".a@b.com", "a@-b.com", "a@b..com"}) {
    auto email = NormalizeEmail(raw, "email");
    CHECK_FALSE(email.ok());
  }
}

TEST_CASE("regions are checked") {
  CHECK(IsKnownPhoneRegion("RU"));
  CHECK_FALSE(IsKnownPhoneRegion("XX"));
}

}  // namespace
}  // namespace leadflow::domain
