#include "leadflow/domain/contact_points.h"

#include <catch2/catch.hpp>

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
