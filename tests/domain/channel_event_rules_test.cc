#include "leadflow/domain/channel_event_rules.h"

#include <catch2/catch.hpp>

#include "leadflow/domain/field_error.h"
#include "support/channel_events.h"

namespace leadflow::domain {
namespace {

const DomainConfig kConfig;

std::string FieldOfRefusal(const v1::ChannelEvent& event) {
  auto normalized = NormalizeChannelEvent(event, kConfig);
  REQUIRE_FALSE(normalized.ok());
  CHECK(normalized.status().code() == absl::StatusCode::kInvalidArgument);
  return FieldOf(normalized.status());
}

TEST_CASE("a call is normalised and describes a lead owned by the answering operator") {
  auto event = NormalizeChannelEvent(testing::CallEvent("c1", "8 916 123 45 67", "op-7"), kConfig);
  REQUIRE(event.ok());
  CHECK(event->call().customer_phone() == "+79161234567");
  v1::Lead lead = LeadFromChannelEvent(*event);
  CHECK(lead.source() == v1::LEAD_SOURCE_CALL);
  CHECK(lead.responsible_id() == "op-7");
  CHECK(lead.phones(0).number() == "+79161234567");
  CHECK(lead.source_details().at("line") == "+74950000000");
  CHECK(IntakeRoutingKey(*event) == "phone:+79161234567");
}

TEST_CASE("a missed call has no responsible") {
  auto event = NormalizeChannelEvent(
      testing::CallEvent("c1", "+79161234567", "op-7", v1::CALL_KIND_MISSED), kConfig);
  REQUIRE(event.ok());
  CHECK(LeadFromChannelEvent(*event).responsible_id().empty());
}

TEST_CASE("a web form keeps UTM tags and routes by phone before email") {
  auto event = NormalizeChannelEvent(
      testing::FormEvent("f1", "+7 916 000 11 22", "Anna@Mail.RU", "Anna Smirnova"), kConfig);
  REQUIRE(event.ok());
  v1::Lead lead = LeadFromChannelEvent(*event);
  CHECK(lead.first_name() == "Anna");
  CHECK(lead.last_name() == "Smirnova");
  CHECK(lead.emails(0).address() == "anna@mail.ru");
  CHECK(lead.source_details().at("utm_source") == "google");
  CHECK(IntakeRoutingKey(*event) == "phone:+79160001122");
}

TEST_CASE("chats are identified by channel and handle") {
  auto event = NormalizeChannelEvent(testing::ChatEvent("m1", "Telegram", "@Ivan"), kConfig);
  REQUIRE(event.ok());
  CHECK(IntakeRoutingKey(*event) == "messenger:telegram:@ivan");
}

TEST_CASE("invalid channel events are refused with the field named") {
  CHECK(FieldOfRefusal(testing::CallEvent("", "+79161234567")) == "id");
  CHECK(FieldOfRefusal(testing::CallEvent("c1", "12345")) == "call.customer_phone");
  CHECK(FieldOfRefusal(testing::CallEvent("c1", "")) == "call.customer_phone");
  CHECK(FieldOfRefusal(testing::CallEvent("c1", "+79161234567", "", v1::CALL_KIND_UNSPECIFIED)) ==
        "call.kind");
  CHECK(FieldOfRefusal(testing::EmailEvent("e1", "no-at-sign")) == "email.from_address");
  CHECK(FieldOfRefusal(testing::FormEvent("f1", "", "")) == "web_form.fields");
  CHECK(FieldOfRefusal(testing::FormEvent("f1", "abc", "")) == "web_form.fields[phone]");
  v1::ChannelEvent empty;
  empty.set_id("x");
  empty.set_source("s");
  CHECK(FieldOfRefusal(empty) == "payload");
  v1::ChannelEvent no_source = testing::CallEvent("c1", "+79161234567");
  no_source.clear_source();
  CHECK(FieldOfRefusal(no_source) == "source");
}

TEST_CASE("every violation of a channel event is named, not only the first") {
  v1::ChannelEvent manual;
  manual.set_id("m1");
  manual.set_source("crm");
  manual.mutable_manual_entry()->set_phone("12");
  manual.mutable_manual_entry()->set_email("no-at-sign");
  auto normalized = NormalizeChannelEvent(manual, kConfig);
  REQUIRE_FALSE(normalized.ok());
  CHECK(FieldsOf(normalized.status()) ==
        std::vector<std::string>{"manual_entry.phone", "manual_entry.email"});
  CHECK(normalized.status().message().find("manual_entry.phone: ") == 0);
  CHECK(normalized.status().message().find("; manual_entry.email: ") != std::string::npos);
  absl::Status nested = NestField(normalized.status(), "events[2]");
  CHECK(FieldsOf(nested) ==
        std::vector<std::string>{"events[2].manual_entry.phone", "events[2].manual_entry.email"});
  auto call = testing::CallEvent("", "1", "", v1::CALL_KIND_UNSPECIFIED);
  CHECK(FieldsOf(NormalizeChannelEvent(call, kConfig).status()) ==
        std::vector<std::string>{"id", "call.kind", "call.customer_phone"});
}

TEST_CASE("nesting a field error prefixes the field") {
  auto normalized = NormalizeChannelEvent(testing::CallEvent("c1", "1"), kConfig);
  REQUIRE_FALSE(normalized.ok());
  absl::Status nested = NestField(normalized.status(), "events[3]");
  CHECK(FieldOf(nested) == "events[3].call.customer_phone");
  CHECK(nested.message().find("events[3].call.customer_phone: ") == 0);
}

}  // namespace
}  // namespace leadflow::domain
