#include "leadflow/domain/input_limits.h"

#include <catch2/catch.hpp>

#include "google/rpc/error_details.pb.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/channel_event_rules.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/identity.h"
#include "support/channel_events.h"

namespace leadflow::domain {
namespace {

const DomainConfig kConfig;

absl::Status NormalizeStatus(const v1::ChannelEvent& event) {
  return NormalizeChannelEvent(event, kConfig).status();
}

v1::Command CreateLeadCommand(v1::Lead lead) {
  v1::Command command;
  command.set_command_id("cmd-1");
  command.set_aggregate_id("ld-1");
  *command.mutable_create_lead()->mutable_lead() = std::move(lead);
  return command;
}

TEST_CASE("a megabyte email subject is refused, naming the field and the limit") {
  v1::ChannelEvent event = testing::EmailEvent("e1", "anna@mail.ru", std::string(1 << 20, 'x'));
  absl::Status status = NormalizeStatus(event);
  REQUIRE(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldOf(status) == "email.subject");
  CHECK(status.message().find("longer than 1024 bytes") != absl::string_view::npos);
  // Free text has room: a long body is fine, up to its own limit.
  event = testing::EmailEvent("e1", "anna@mail.ru", "Quote");
  event.mutable_email()->set_body(std::string(InputLimits::kTextBytes, 'b'));
  CHECK(NormalizeStatus(event).ok());
  event.mutable_email()->set_body(std::string(InputLimits::kTextBytes + 1, 'b'));
  CHECK(FieldOf(NormalizeStatus(event)) == "email.body");
}

TEST_CASE("web-form fields are bounded in number, key and value") {
  v1::ChannelEvent event = testing::FormEvent("f1", "+79161234567", "", "Anna");
  // mutable_fields() each time: a map read by reflection is re-synced
  // only when asked for mutably again.
  auto fields = [&event]() -> auto& { return *event.mutable_web_form()->mutable_fields(); };
  fields()["comment"] = std::string(InputLimits::kMapValueBytes + 1, 'c');
  CHECK(FieldOf(NormalizeStatus(event)) == "web_form.fields[comment]");
  fields().erase("comment");
  fields()[std::string("bad\0key", 7)] = "x";
  CHECK(FieldOf(NormalizeStatus(event)) == "web_form.fields key");
  fields().erase(std::string("bad\0key", 7));
  for (int i = 0; i <= InputLimits::kListItems; ++i) fields()[absl::StrCat("f", i)] = "v";
  absl::Status status = NormalizeStatus(event);
  CHECK(FieldOf(status) == "web_form.fields");
  CHECK(status.message().find("more than 100 entries") != absl::string_view::npos);
}

TEST_CASE("control characters are refused in identities and ids, kept out of text") {
  v1::ChannelEvent chat = testing::ChatEvent("m1", "telegram", std::string("@h\0zzz", 6));
  absl::Status status = NormalizeStatus(chat);
  CHECK(FieldOf(status) == "chat_message.handle");
  CHECK(status.message().find("control characters") != absl::string_view::npos);
  chat = testing::ChatEvent("m1", "telegram", "@h");
  chat.mutable_chat_message()->set_text("line one\nline two\ttabbed");
  CHECK(NormalizeStatus(chat).ok());
  chat.mutable_chat_message()->set_text(std::string("bell\a", 5));
  CHECK(FieldOf(NormalizeStatus(chat)) == "chat_message.text");

  v1::Lead lead;
  lead.set_first_name("Anna");
  auto* messenger = lead.add_messengers();
  messenger->set_channel("telegram");
  messenger->set_handle(std::string("@h\0zzz", 6));
  auto events = Decide(nullptr, CreateLeadCommand(lead), kConfig);
  REQUIRE_FALSE(events.ok());
  CHECK(FieldOf(events.status()) == "lead.messengers[0].handle");
}

TEST_CASE("a person's contact points are bounded") {
  v1::Lead lead;
  lead.set_first_name("Anna");
  for (int i = 0; i <= InputLimits::kContactPoints; ++i) {
    lead.add_emails()->set_address(absl::StrCat("a", i, "@mail.ru"));
  }
  absl::Status status = CheckCommandLimits(CreateLeadCommand(lead));
  CHECK(FieldOf(status) == "lead.emails");
  CHECK(status.message().find("more than 20 items") != absl::string_view::npos);
  lead.mutable_emails()->DeleteSubrange(0, 1);
  CHECK(CheckCommandLimits(CreateLeadCommand(lead)).ok());
}

TEST_CASE("a command's own ids are bounded too") {
  v1::Lead lead;
  lead.set_first_name("Anna");
  v1::Command command = CreateLeadCommand(lead);
  command.set_actor(std::string(InputLimits::kIdBytes + 1, 'a'));
  CHECK(FieldOf(CheckCommandLimits(command)) == "actor");
  command.set_actor("op-1");
  command.set_command_id(std::string("req:ld-1:\n", 10));
  CHECK(FieldOf(CheckCommandLimits(command)) == "command_id");
}

TEST_CASE("messenger handles compare as people read them") {
  CHECK(MessengerIdentityKey("Telegram", "@Anna") == "messenger:telegram:@anna");
  // Full-width letters and another case are the same handle.
  CHECK(MessengerIdentityKey("telegram", "@ＡＮＮＡ") == "messenger:telegram:@anna");
  CHECK(MessengerIdentityKey("telegram", "@ÄNNA") == MessengerIdentityKey("telegram", "@änna"));
}

TEST_CASE("a refusal quoting text that is not UTF-8 still carries valid UTF-8 details") {
  // Clients refuse to parse protobuf strings that are not UTF-8; the
  // status message keeps the bytes, the BadRequest details replace them.
  const std::string quoted = std::string("bad \xC3( and \xED\xA0\x80 and \xF0\x9F\x98\x80 ok");
  absl::Status status =
      FieldError(absl::StatusCode::kInvalidArgument, std::string("fields[\xFF]"), quoted);
  auto payload = status.GetPayload(kBadRequestTypeUrl);
  REQUIRE(payload.has_value());
  google::rpc::BadRequest details;
  REQUIRE(details.ParseFromString(std::string(*payload)));
  REQUIRE(details.field_violations_size() == 1);
  CHECK(details.field_violations(0).field() == "fields[\xEF\xBF\xBD]");
  CHECK(details.field_violations(0).description() ==
        "bad \xEF\xBF\xBD( and \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD and \xF0\x9F\x98\x80 ok");
}

}  // namespace
}  // namespace leadflow::domain
