#include "leadflow/domain/lead_aggregate.h"

#include <catch2/catch.hpp>

#include "leadflow/base/proto_util.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/identity.h"
#include "support/channel_events.h"

namespace leadflow::domain {
namespace {

const DomainConfig kConfig;

v1::Command Command(const std::string& id, const std::string& lead_id = "lead-1") {
  v1::Command command;
  command.set_command_id(id);
  command.set_aggregate_id(lead_id);
  command.set_actor("alice");
  command.mutable_issue_time()->set_seconds(1700000000);
  return command;
}

v1::Command CreateCommand() {
  v1::Command command = Command("c-create");
  auto* lead = command.mutable_create_lead()->mutable_lead();
  lead->set_first_name("Ivan");
  lead->set_last_name("Petrov");
  lead->add_phones()->set_number("8 (916) 123-45-67");
  lead->add_emails()->set_address(" Ivan@Example.COM ");
  lead->set_responsible_id("alice");
  lead->set_source(v1::LEAD_SOURCE_MANUAL);
  lead->set_status_id("CONVERTED");  // output only: ignored
  return command;
}

// Decides, then folds the events: the state after the command.
v1::Lead Apply(const v1::Lead* current, const v1::Command& command) {
  auto events = DecideLead(current, command, kConfig);
  REQUIRE(events.ok());
  v1::Lead lead = current != nullptr ? *current : v1::Lead();
  for (const auto& e : *events) lead = EvolveLead(std::move(lead), e);
  return lead;
}

v1::Lead Created() { return Apply(nullptr, CreateCommand()); }

absl::Status Refusal(const v1::Lead* current, const v1::Command& command) {
  auto events = DecideLead(current, command, kConfig);
  REQUIRE_FALSE(events.ok());
  return events.status();
}

TEST_CASE("creating a lead normalises contact points and starts in the first status") {
  auto events = DecideLead(nullptr, CreateCommand(), kConfig);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 1);
  const auto& e = events->front();
  CHECK(e.type() == "leadflow.v1.LeadCreated");
  CHECK(e.aggregate_type() == "lead");
  CHECK(e.aggregate_id() == "lead-1");
  CHECK(e.aggregate_version() == 1);
  CHECK(e.causation_id() == "c-create");
  CHECK(e.actor() == "alice");
  CHECK(e.occur_time().seconds() == 1700000000);
  v1::Lead lead = EvolveLead(v1::Lead(), e);
  CHECK(lead.name() == "leads/lead-1");
  CHECK(lead.version() == 1);
  CHECK(lead.status_id() == "NEW");
  CHECK(lead.status_semantic() == v1::STATUS_SEMANTIC_IN_PROGRESS);
  CHECK(lead.phones(0).number() == "+79161234567");
  CHECK(lead.emails(0).address() == "ivan@example.com");
  CHECK(lead.title() == "Lead: Ivan Petrov");
  REQUIRE(lead.identity_keys_size() == 2);
  CHECK(lead.identity_keys(0) == "phone:+79161234567");
  CHECK(lead.identity_keys(1) == "email:ivan@example.com");
}

TEST_CASE("event ids derive from the command, so deciding twice gives the same events") {
  auto first = DecideLead(nullptr, CreateCommand(), kConfig);
  auto second = DecideLead(nullptr, CreateCommand(), kConfig);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(SerializeDeterministic(first->front()) == SerializeDeterministic(second->front()));
}

TEST_CASE("creating from a channel event records it as the first communication") {
  v1::Command command = Command("intake:call-1");
  *command.mutable_create_lead()->mutable_origin() =
      testing::CallEvent("call-1", "+79161234567", "bob");
  command.mutable_create_lead()->mutable_lead()->add_phones()->set_number("+79161234567");
  v1::Lead lead = Apply(nullptr, command);
  CHECK(lead.version() == 2);
  CHECK(lead.communication_count() == 1);
  CHECK(lead.origin_channel_event_id() == "call-1");
}

TEST_CASE("create refuses invalid phones and emails naming the field") {
  v1::Command bad_phone = CreateCommand();
  bad_phone.mutable_create_lead()->mutable_lead()->add_phones()->set_number("12");
  absl::Status status = Refusal(nullptr, bad_phone);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldOf(status) == "lead.phones[1].number");

  v1::Command bad_email = CreateCommand();
  bad_email.mutable_create_lead()->mutable_lead()->mutable_emails(0)->set_address("not-an-email");
  status = Refusal(nullptr, bad_email);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldOf(status) == "lead.emails[0].address");

  // Both at once: both named.
  bad_email.mutable_create_lead()->mutable_lead()->add_phones()->set_number("12");
  status = Refusal(nullptr, bad_email);
  CHECK(FieldsOf(status) ==
        std::vector<std::string>{"lead.phones[1].number", "lead.emails[0].address"});
}

TEST_CASE("create refuses an existing lead and a bad currency") {
  v1::Lead lead = Created();
  CHECK(Refusal(&lead, CreateCommand()).code() == absl::StatusCode::kAlreadyExists);
  v1::Command money = CreateCommand();
  money.mutable_create_lead()->mutable_lead()->mutable_opportunity()->set_currency_code("rub");
  CHECK(FieldOf(Refusal(nullptr, money)) == "lead.opportunity.currency_code");
}

TEST_CASE("commands other than create refuse an unknown lead") {
  v1::Command command = Command("c-2");
  command.mutable_change_lead_status()->set_status_id("IN_PROCESS");
  CHECK(Refusal(nullptr, command).code() == absl::StatusCode::kNotFound);
}

TEST_CASE("a wrong expected version is refused") {
  v1::Lead lead = Created();
  v1::Command command = Command("c-2");
  command.set_expected_version(7);
  command.mutable_change_lead_status()->set_status_id("IN_PROCESS");
  absl::Status status = Refusal(&lead, command);
  CHECK(status.code() == absl::StatusCode::kAborted);
  CHECK(FieldOf(status) == "expected_version");
  command.set_expected_version(1);
  CHECK(Apply(&lead, command).status_id() == "IN_PROCESS");
}

TEST_CASE("update sets exactly the masked fields") {
  v1::Lead lead = Created();
  v1::Command command = Command("c-upd");
  auto* update = command.mutable_update_lead();
  update->mutable_lead()->set_title("Wholesale request");
  update->mutable_lead()->set_comments("not in the mask");
  update->mutable_lead()->add_phones()->set_number("+7 495 123 45 67");
  update->mutable_update_mask()->add_paths("title");
  update->mutable_update_mask()->add_paths("phones");
  v1::Lead after = Apply(&lead, command);
  CHECK(after.title() == "Wholesale request");
  CHECK(after.comments().empty());
  REQUIRE(after.phones_size() == 1);
  CHECK(after.phones(0).number() == "+74951234567");
  CHECK(after.identity_keys(0) == "phone:+74951234567");
  CHECK(after.first_name() == "Ivan");
  CHECK(after.version() == 2);
}

TEST_CASE("update refuses an empty mask and output-only fields") {
  v1::Lead lead = Created();
  v1::Command command = Command("c-upd");
  command.mutable_update_lead();
  CHECK(FieldOf(Refusal(&lead, command)) == "update_mask");
  command.mutable_update_lead()->mutable_update_mask()->add_paths("title");
  command.mutable_update_lead()->mutable_update_mask()->add_paths("status_id");
  absl::Status status = Refusal(&lead, command);
  CHECK(FieldOf(status) == "update_mask.paths[1]");
}

TEST_CASE("status moves within the pipeline; unknown statuses are refused") {
  v1::Lead lead = Created();
  v1::Command move = Command("c-move");
  move.mutable_change_lead_status()->set_status_id("PROCESSED");
  auto events = DecideLead(&lead, move, kConfig);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 1);
  CHECK(events->front().lead_status_changed().from_status_id() == "NEW");
  CHECK(events->front().lead_status_changed().to_status_id() == "PROCESSED");
  v1::Lead moved = EvolveLead(lead, events->front());
  CHECK(moved.status_id() == "PROCESSED");

  v1::Command same = Command("c-same");
  same.mutable_change_lead_status()->set_status_id("PROCESSED");
  auto none = DecideLead(&moved, same, kConfig);
  REQUIRE(none.ok());
  CHECK(none->empty());

  v1::Command unknown = Command("c-unknown");
  unknown.mutable_change_lead_status()->set_status_id("MAYBE");
  absl::Status status = Refusal(&lead, unknown);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldOf(status) == "status_id");
}

TEST_CASE("a success status is reached only by ConvertLead") {
  v1::Lead lead = Created();
  v1::Command direct = Command("c-direct");
  direct.mutable_change_lead_status()->set_status_id("CONVERTED");
  absl::Status status = Refusal(&lead, direct);
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(FieldOf(status) == "status_id");
}

TEST_CASE("junk needs a reason and goes through MarkLeadJunk") {
  v1::Lead lead = Created();
  v1::Command direct = Command("c-direct");
  direct.mutable_change_lead_status()->set_status_id("JUNK");
  CHECK(Refusal(&lead, direct).code() == absl::StatusCode::kFailedPrecondition);

  v1::Command no_reason = Command("c-junk0");
  no_reason.mutable_mark_lead_junk();
  CHECK(FieldOf(Refusal(&lead, no_reason)) == "reason");

  v1::Command other = Command("c-junk1");
  other.mutable_mark_lead_junk()->set_reason(v1::JUNK_REASON_OTHER);
  CHECK(FieldOf(Refusal(&lead, other)) == "text");

  v1::Command junk = Command("c-junk2");
  junk.mutable_mark_lead_junk()->set_reason(v1::JUNK_REASON_WRONG_NUMBER);
  v1::Lead junked = Apply(&lead, junk);
  CHECK(junked.status_id() == "JUNK");
  CHECK(junked.status_semantic() == v1::STATUS_SEMANTIC_FAILURE);
  CHECK(junked.junk_reason() == v1::JUNK_REASON_WRONG_NUMBER);
}

TEST_CASE("only a supervisor reopens a junk lead, with a reason, into an in-progress status") {
  DomainConfig config;
  config.supervisors = {"sveta"};
  v1::Lead lead = Created();
  v1::Command junk = Command("c-junk");
  junk.mutable_mark_lead_junk()->set_reason(v1::JUNK_REASON_SPAM);
  const v1::Lead junked = Apply(&lead, junk);
  auto decide = [&](const v1::Lead& current, const std::string& actor, const std::string& reason,
                    const std::string& status) {
    v1::Command reopen = Command("c-reopen");
    reopen.set_actor(actor);
    reopen.mutable_reopen_lead()->set_reason(reason);
    reopen.mutable_reopen_lead()->set_status_id(status);
    return DecideLead(&current, reopen, config);
  };

  auto not_supervisor = decide(junked, "alice", "called back", "");
  CHECK(not_supervisor.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(FieldOf(not_supervisor.status()) == "actor");
  CHECK(FieldOf(decide(junked, "sveta", "", "").status()) == "reason");
  CHECK(FieldOf(decide(junked, "sveta", "called back", "NOPE").status()) == "status_id");
  CHECK(FieldOf(decide(junked, "sveta", "called back", "CONVERTED").status()) == "status_id");
  auto open_lead = decide(lead, "sveta", "called back", "");
  CHECK(open_lead.status().code() == absl::StatusCode::kFailedPrecondition);

  auto events = decide(junked, "sveta", "it was a real customer", "");
  REQUIRE(events.ok());
  REQUIRE(events->size() == 1);
  const auto& reopened = (*events)[0];
  CHECK(reopened.type() == "leadflow.v1.LeadReopened");
  CHECK(reopened.actor() == "sveta");
  CHECK(reopened.lead_reopened().from_status_id() == "JUNK");
  CHECK(reopened.lead_reopened().to_status_id() == "NEW");
  CHECK(reopened.lead_reopened().previous_reason() == v1::JUNK_REASON_SPAM);
  const v1::Lead back = EvolveLead(junked, reopened);
  CHECK(back.status_id() == "NEW");
  CHECK(back.status_semantic() == v1::STATUS_SEMANTIC_IN_PROGRESS);
  CHECK(back.junk_reason() == v1::JUNK_REASON_UNSPECIFIED);
  CHECK(back.version() == junked.version() + 1);

  auto into = decide(junked, "sveta", "wrong call", "IN_PROCESS");
  REQUIRE(into.ok());
  CHECK(EvolveLead(junked, (*into)[0]).status_id() == "IN_PROCESS");
}

TEST_CASE("name+company keys meet across case, word order, spacing and quotes; both are needed") {
  const std::string key = NameCompanyKey("Иван Петров", "ООО «Ромашка»");
  CHECK(key == "name+company:иван петров|ооо ромашка");
  CHECK(NameCompanyKey("ПЕТРОВ   иван", "ооо \"РОМАШКА\"") == key);
  CHECK(NameCompanyKey("Ivan Petrov", "Acme") == NameCompanyKey("petrov IVAN", "ACME"));
  CHECK(NameCompanyKey("Иван Петров", "ООО «Лютик»") != key);
  CHECK(NameCompanyKey("Иван Петров", "").empty());
  CHECK(NameCompanyKey("", "Acme").empty());
  v1::Lead lead;
  lead.set_first_name("Иван");
  lead.set_last_name("Петров");
  CHECK(NameCompanyKey(LeadFullName(lead), "ООО Ромашка") == key);
}

TEST_CASE("terminal statuses refuse every further change") {
  v1::Lead lead = Created();
  v1::Command convert = Command("c-conv");
  convert.mutable_convert_lead();
  v1::Lead converted = Apply(&lead, convert);
  CHECK(converted.status_id() == "CONVERTED");
  CHECK(converted.status_semantic() == v1::STATUS_SEMANTIC_SUCCESS);

  v1::Command back = Command("c-back");
  back.mutable_change_lead_status()->set_status_id("NEW");
  CHECK(Refusal(&converted, back).code() == absl::StatusCode::kFailedPrecondition);
  v1::Command assign = Command("c-assign");
  assign.mutable_assign_lead()->set_responsible_id("bob");
  CHECK(Refusal(&converted, assign).code() == absl::StatusCode::kFailedPrecondition);
  v1::Command junk = Command("c-junk");
  junk.mutable_mark_lead_junk()->set_reason(v1::JUNK_REASON_SPAM);
  CHECK(Refusal(&converted, junk).code() == absl::StatusCode::kFailedPrecondition);
  v1::Command again = Command("c-conv-2");
  again.mutable_convert_lead();
  CHECK(Refusal(&converted, again).code() == absl::StatusCode::kFailedPrecondition);
  v1::Command update = Command("c-update");
  update.mutable_update_lead()->mutable_update_mask()->add_paths("title");
  CHECK(Refusal(&converted, update).code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("assign changes the responsible and refuses an empty one") {
  v1::Lead lead = Created();
  v1::Command assign = Command("c-assign");
  assign.mutable_assign_lead()->set_responsible_id("bob");
  auto events = DecideLead(&lead, assign, kConfig);
  REQUIRE(events.ok());
  CHECK(events->front().lead_assigned().from_responsible_id() == "alice");
  CHECK(EvolveLead(lead, events->front()).responsible_id() == "bob");
  v1::Command empty = Command("c-empty");
  empty.mutable_assign_lead();
  CHECK(FieldOf(Refusal(&lead, empty)) == "responsible_id");
}

TEST_CASE("a repeat request is recorded and its responsible notified") {
  v1::Lead lead = Created();
  v1::Command record = Command("intake:call-2");
  *record.mutable_record_communication()->mutable_channel_event() =
      testing::CallEvent("call-2", "+79161234567");
  auto events = DecideLead(&lead, record, kConfig);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 2);
  CHECK(events->at(0).communication_recorded().repeat_request());
  CHECK(events->at(1).responsible_notified().user_id() == "alice");
  v1::Lead after = lead;
  for (const auto& e : *events) after = EvolveLead(after, e);
  CHECK(after.communication_count() == 1);
  CHECK(after.version() == 3);
}

TEST_CASE("a command without an id, a lead id or a payload is refused") {
  v1::Command no_id = CreateCommand();
  no_id.clear_command_id();
  CHECK(FieldOf(Refusal(nullptr, no_id)) == "command_id");
  v1::Command bad_lead = CreateCommand();
  bad_lead.set_aggregate_id("Has Spaces");
  CHECK(FieldOf(Refusal(nullptr, bad_lead)) == "aggregate_id");
  v1::Lead lead = Created();
  CHECK(FieldOf(Refusal(&lead, Command("c-none"))) == "command");
}

TEST_CASE("replaying the same events yields byte-identical state") {
  v1::Lead lead = Created();
  v1::Command move = Command("c-move");
  move.mutable_change_lead_status()->set_status_id("IN_PROCESS");
  auto events = DecideLead(&lead, move, kConfig);
  REQUIRE(events.ok());
  v1::Lead a = EvolveLead(lead, events->front());
  v1::Lead b = EvolveLead(lead, events->front());
  CHECK(SerializeDeterministic(a) == SerializeDeterministic(b));
}

}  // namespace
}  // namespace leadflow::domain
