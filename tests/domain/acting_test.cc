#include "leadflow/domain/acting.h"

#include <catch2/catch.hpp>

#include "leadflow/domain/field_error.h"

namespace leadflow::domain {
namespace {

TEST_CASE("without a principal the request names the actor, api when it names none") {
  CHECK(*ActingAs(std::nullopt, "", {}) == "api");
  CHECK(*ActingAs(std::nullopt, "boris", {}) == "boris");
}

TEST_CASE("a principal acts as itself") {
  CHECK(*ActingAs("telephony", "", {}) == "telephony");
  CHECK(*ActingAs("telephony", "telephony", {}) == "telephony");
  auto spoofed = ActingAs("telephony", "sveta", {"front-office"});
  REQUIRE_FALSE(spoofed.ok());
  CHECK(spoofed.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(FieldOf(spoofed.status()) == "actor");
  CHECK(spoofed.status().message().find("'telephony'") != std::string::npos);
}

TEST_CASE("a principal allowed to act for others names whom it acts for") {
  CHECK(*ActingAs("front-office", "sveta", {"front-office"}) == "sveta");
  CHECK(*ActingAs("front-office", "", {"front-office"}) == "front-office");
}

}  // namespace
}  // namespace leadflow::domain
