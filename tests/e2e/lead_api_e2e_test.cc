// LeadService, EventService, health and reflection through the real binary.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/v1/service.grpc.pb.h"
#include "support/channel_events.h"
#include "support/grpc_status.h"
#include "support/server_process.h"

namespace leadflow {
namespace {

using testing::Deadline;
using testing::ServerProcess;
using testing::TempDir;

struct Fixture {
  explicit Fixture(std::vector<std::string> server_args = {})
      : server(dir.Sub("data"), std::move(server_args)) {
    server.Start();
    channel = server.Channel();
    leads = v1::LeadService::NewStub(channel);
  }

  v1::LeadCommandResponse Create(const std::string& request_id, const std::string& phone,
                                 const std::string& responsible = "alice") {
    v1::CreateLeadRequest request;
    request.set_request_id(request_id);
    request.mutable_lead()->set_first_name("Olga");
    request.mutable_lead()->add_phones()->set_number(phone);
    request.mutable_lead()->set_responsible_id(responsible);
    request.mutable_lead()->set_source(v1::LEAD_SOURCE_MANUAL);
    v1::LeadCommandResponse response;
    auto ctx = Deadline();
    grpc::Status status = leads->CreateLead(ctx.get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return response;
  }

  TempDir dir;
  ServerProcess server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::LeadService::Stub> leads;
};

TEST_CASE("a created lead can be read at once through its position") {
  Fixture f;
  auto created = f.Create("r-1", "8 916 700 00 01");
  CHECK(created.lead().phones(0).number() == "+79167000001");
  CHECK(created.lead().status_id() == "NEW");
  CHECK(created.lead().version() == 1);
  CHECK(created.position().topic() == "leadflow.events.v1");
  v1::GetLeadRequest get;
  get.set_name(created.lead().name());
  *get.mutable_min_position() = created.position();
  v1::Lead lead;
  auto ctx = Deadline();
  REQUIRE(f.leads->GetLead(ctx.get(), get, &lead).ok());
  CHECK(SerializeDeterministic(lead) == SerializeDeterministic(created.lead()));
}

TEST_CASE("consistency tokens: one read sees several writes, and a channel event's lead") {
  Fixture f;
  // Four leads moved, one token each; joined, one list sees all four moved.
  std::vector<std::string> tokens;
  std::vector<std::string> names;
  for (int i = 0; i < 4; ++i) {
    auto created = f.Create(absl::StrCat("tok-", i), absl::StrCat("+7916710000", i));
    CHECK_FALSE(created.consistency_token().empty());
    v1::ChangeLeadStatusRequest move;
    move.set_name(created.lead().name());
    move.set_status_id("PROCESSED");
    v1::LeadCommandResponse moved;
    auto ctx = Deadline();
    REQUIRE(f.leads->ChangeLeadStatus(ctx.get(), move, &moved).ok());
    CHECK(moved.consistency_token().rfind("e", 0) == 0);
    tokens.push_back(moved.consistency_token());
    names.push_back(created.lead().name());
  }
  v1::ListLeadsRequest list;
  list.set_status_id("PROCESSED");
  list.set_consistency_token(absl::StrJoin(tokens, ","));
  v1::ListLeadsResponse listed;
  {
    auto ctx = Deadline();
    REQUIRE(f.leads->ListLeads(ctx.get(), list, &listed).ok());
  }
  CHECK(listed.leads_size() == 4);

  // A move that changes nothing still says what to wait for.
  v1::ChangeLeadStatusRequest again;
  again.set_name(names[0]);
  again.set_status_id("PROCESSED");
  v1::LeadCommandResponse same;
  {
    auto ctx = Deadline();
    REQUIRE(f.leads->ChangeLeadStatus(ctx.get(), again, &same).ok());
  }
  CHECK(same.event_ids_size() == 0);
  CHECK_FALSE(same.consistency_token().empty());
  v1::GetLeadRequest get;
  get.set_name(names[0]);
  get.set_consistency_token(same.consistency_token());
  v1::Lead lead;
  {
    auto ctx = Deadline();
    REQUIRE(f.leads->GetLead(ctx.get(), get, &lead).ok());
  }
  CHECK(lead.status_id() == "PROCESSED");

  // An integration waits for its own channel event and asks where it went.
  auto intake = v1::IntakeService::NewStub(f.channel);
  v1::PublishChannelEventRequest publish;
  *publish.mutable_event() = testing::CallEvent("tok-call", "+79167100099", "anna");
  v1::PublishChannelEventResponse published;
  {
    auto ctx = Deadline();
    REQUIRE(intake->PublishChannelEvent(ctx.get(), publish, &published).ok());
  }
  CHECK(published.consistency_token() == "c:tok-call");
  v1::GetChannelEventLeadRequest where;
  where.set_event_id("tok-call");
  where.set_consistency_token(published.consistency_token());
  v1::ChannelEventLead went;
  {
    auto ctx = Deadline();
    REQUIRE(intake->GetChannelEventLead(ctx.get(), where, &went).ok());
  }
  CHECK(went.lead().rfind("leads/", 0) == 0);
  CHECK(went.current_lead() == went.lead());
  get.set_name(went.lead());
  get.set_consistency_token(published.consistency_token());
  {
    auto ctx = Deadline();
    REQUIRE(f.leads->GetLead(ctx.get(), get, &lead).ok());
  }
  CHECK(lead.responsible_id() == "anna");

  // Errors name the field.
  where.set_event_id("never-published");
  where.clear_consistency_token();
  {
    auto ctx = Deadline();
    grpc::Status missing = intake->GetChannelEventLead(ctx.get(), where, &went);
    CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(testing::FieldsOf(missing) == std::vector<std::string>{"event_id"});
  }
  list.set_consistency_token("e0:12,x9");
  {
    auto ctx = Deadline();
    grpc::Status bad = f.leads->ListLeads(ctx.get(), list, &listed);
    CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(testing::FieldsOf(bad) == std::vector<std::string>{"consistency_token"});
  }
  // A token naming what never comes waits for the call's deadline, then
  // says what is missing.
  list.set_consistency_token("c:never-published");
  {
    auto ctx = Deadline(2);
    grpc::Status late = f.leads->ListLeads(ctx.get(), list, &listed);
    CHECK(late.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  }
}

TEST_CASE("the same request_id creates one lead") {
  Fixture f;
  auto first = f.Create("same-request", "+79167000002");
  auto second = f.Create("same-request", "+79167000002");
  CHECK(first.lead().lead_id() == second.lead().lead_id());
  CHECK(second.lead().version() == 1);
  v1::ListLeadsRequest list;
  *list.mutable_min_position() = first.position();
  v1::ListLeadsResponse response;
  auto ctx = Deadline();
  REQUIRE(f.leads->ListLeads(ctx.get(), list, &response).ok());
  CHECK(response.leads_size() == 1);
}

TEST_CASE("update with a field mask, with and without the right expected version") {
  Fixture f;
  auto created = f.Create("r-2", "+79167000003");
  v1::UpdateLeadRequest update;
  update.mutable_lead()->set_name(created.lead().name());
  update.mutable_lead()->set_title("Wants 40 units");
  update.mutable_lead()->set_company_title("ignored: not in the mask");
  update.mutable_lead()->mutable_opportunity()->set_currency_code("RUB");
  update.mutable_lead()->mutable_opportunity()->set_amount_minor(1500000);
  update.mutable_update_mask()->add_paths("title");
  update.mutable_update_mask()->add_paths("opportunity");
  update.set_expected_version(1);
  v1::LeadCommandResponse response;
  {
    auto ctx = Deadline();
    REQUIRE(f.leads->UpdateLead(ctx.get(), update, &response).ok());
  }
  CHECK(response.lead().title() == "Wants 40 units");
  CHECK(response.lead().company_title().empty());
  CHECK(response.lead().opportunity().amount_minor() == 1500000);
  CHECK(response.lead().version() == 2);
  // Stale version: refused, nothing changes.
  update.mutable_lead()->set_title("stale write");
  auto ctx = Deadline();
  grpc::Status stale = f.leads->UpdateLead(ctx.get(), update, &response);
  CHECK(stale.error_code() == grpc::StatusCode::ABORTED);
  CHECK(stale.error_message() == "expected_version: lead is at version 2, not 1");
  // Invalid email: refused with the field.
  v1::UpdateLeadRequest bad;
  bad.mutable_lead()->set_name(created.lead().name());
  bad.mutable_lead()->add_emails()->set_address("olga at example");
  bad.mutable_update_mask()->add_paths("emails");
  auto ctx2 = Deadline();
  grpc::Status invalid = f.leads->UpdateLead(ctx2.get(), bad, &response);
  CHECK(invalid.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(invalid.error_message().rfind("lead.emails[0].address", 0) == 0);
  // A bad phone and a bad email: both named, in the message and the details.
  bad.mutable_lead()->add_phones()->set_number("12");
  bad.mutable_update_mask()->add_paths("phones");
  auto ctx_both = Deadline();
  grpc::Status both = f.leads->UpdateLead(ctx_both.get(), bad, &response);
  CHECK(both.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(testing::FieldsOf(both) ==
        std::vector<std::string>{"lead.phones[0].number", "lead.emails[0].address"});
  CHECK(both.error_message().find("; lead.emails[0].address: ") != std::string::npos);
  v1::GetLeadRequest get;
  get.set_name(created.lead().name());
  v1::Lead lead;
  auto ctx3 = Deadline();
  REQUIRE(f.leads->GetLead(ctx3.get(), get, &lead).ok());
  CHECK(lead.title() == "Wants 40 units");
  CHECK(lead.version() == 2);
}

TEST_CASE("a lead's timeline says who did what, in order, and why") {
  Fixture f;
  auto created = f.Create("t-1", "+79167000010");
  const std::string name = created.lead().name();
  v1::LeadCommandResponse response;
  v1::ChangeLeadStatusRequest move;
  move.set_name(name);
  move.set_status_id("IN_PROCESS");
  move.set_actor("boris");
  move.set_request_id("move-1");
  {
    auto ctx = Deadline();
    REQUIRE(f.leads->ChangeLeadStatus(ctx.get(), move, &response).ok());
  }
  v1::MarkLeadJunkRequest junk;
  junk.set_name(name);
  junk.set_reason(v1::JUNK_REASON_SPAM);
  junk.set_actor("vera");
  {
    auto ctx = Deadline();
    REQUIRE(f.leads->MarkLeadJunk(ctx.get(), junk, &response).ok());
  }
  v1::ListLeadTimelineRequest request;
  request.set_name(name);
  *request.mutable_min_position() = response.position();  // read your own writes
  v1::ListLeadTimelineResponse timeline;
  {
    auto ctx = Deadline();
    REQUIRE(f.leads->ListLeadTimeline(ctx.get(), request, &timeline).ok());
  }
  REQUIRE(timeline.events_size() == 3);
  CHECK(timeline.events(0).type() == "leadflow.v1.LeadCreated");
  CHECK(timeline.events(1).type() == "leadflow.v1.LeadStatusChanged");
  CHECK(timeline.events(1).actor() == "boris");
  CHECK(timeline.events(2).type() == "leadflow.v1.LeadMarkedJunk");
  CHECK(timeline.events(2).actor() == "vera");
  for (int i = 0; i < 3; ++i) {
    CHECK(timeline.events(i).aggregate_version() == i + 1);
    CHECK_FALSE(timeline.events(i).causation_id().empty());
  }
  CHECK(timeline.events(1).causation_id() != timeline.events(2).causation_id());
  CHECK(timeline.next_page_token().empty());

  request.set_name("leads/no-such-lead");
  request.clear_min_position();
  auto ctx = Deadline();
  grpc::Status missing = f.leads->ListLeadTimeline(ctx.get(), request, &timeline);
  CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(missing.error_message() == "name: lead no-such-lead does not exist");
}

TEST_CASE("a supervisor reopens a junk lead; anyone else is refused, naming the actor") {
  Fixture f({"--supervisors", "sveta,igor"});
  auto created = f.Create("j-1", "+79167000020");
  v1::MarkLeadJunkRequest junk;
  junk.set_name(created.lead().name());
  junk.set_reason(v1::JUNK_REASON_WRONG_NUMBER);
  v1::LeadCommandResponse response;
  {
    auto ctx = Deadline();
    REQUIRE(f.leads->MarkLeadJunk(ctx.get(), junk, &response).ok());
  }
  v1::ReopenLeadRequest reopen;
  reopen.set_name(created.lead().name());
  reopen.set_reason("the number was right after all");
  reopen.set_actor("boris");
  {
    auto ctx = Deadline();
    grpc::Status refused = f.leads->ReopenLead(ctx.get(), reopen, &response);
    CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(refused.error_message().find("actor: 'boris' is not a supervisor") == 0);
  }
  reopen.set_actor("igor");
  reopen.set_status_id("IN_PROCESS");
  {
    auto ctx = Deadline();
    grpc::Status status = f.leads->ReopenLead(ctx.get(), reopen, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
  }
  CHECK(response.lead().status_id() == "IN_PROCESS");
  CHECK(response.lead().junk_reason() == v1::JUNK_REASON_UNSPECIFIED);
  v1::ListLeadTimelineRequest request;
  request.set_name(created.lead().name());
  *request.mutable_min_position() = response.position();
  v1::ListLeadTimelineResponse timeline;
  auto ctx = Deadline();
  REQUIRE(f.leads->ListLeadTimeline(ctx.get(), request, &timeline).ok());
  REQUIRE(timeline.events_size() == 3);
  CHECK(timeline.events(2).type() == "leadflow.v1.LeadReopened");
  CHECK(timeline.events(2).actor() == "igor");
  CHECK(timeline.events(2).lead_reopened().reason() == "the number was right after all");
}

TEST_CASE("duplicate search finds leads by phone, email and name with company") {
  Fixture f;
  auto create = [&](const std::string& request_id, const std::string& first,
                    const std::string& last, const std::string& company, const std::string& phone,
                    const std::string& email) {
    v1::CreateLeadRequest request;
    request.set_request_id(request_id);
    request.mutable_lead()->set_first_name(first);
    request.mutable_lead()->set_last_name(last);
    request.mutable_lead()->set_company_title(company);
    if (!phone.empty()) request.mutable_lead()->add_phones()->set_number(phone);
    if (!email.empty()) request.mutable_lead()->add_emails()->set_address(email);
    v1::LeadCommandResponse response;
    auto ctx = Deadline();
    REQUIRE(f.leads->CreateLead(ctx.get(), request, &response).ok());
    return response;
  };
  const auto a = create("d-1", "Иван", "Петров", "ООО «Ромашка»", "+79167000031", "");
  const auto b = create("d-2", "Olga", "Smirnova", "", "", "olga@example.org");
  auto c = create("d-3", "петров", "ИВАН", "ооо ромашка", "+79167000033", "");
  v1::GetLeadRequest wait;  // the last write is in the read model
  wait.set_name(c.lead().name());
  *wait.mutable_min_position() = c.position();
  {
    v1::Lead lead;
    auto ctx = Deadline();
    REQUIRE(f.leads->GetLead(ctx.get(), wait, &lead).ok());
  }
  auto find = [&](v1::FindDuplicateLeadsRequest request) {
    v1::FindDuplicateLeadsResponse response;
    auto ctx = Deadline();
    grpc::Status status = f.leads->FindDuplicateLeads(ctx.get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    std::map<std::string, std::string> found;  // lead id → matched_on, joined
    for (const auto& d : response.duplicates()) {
      std::string on;
      for (const auto& m : d.matched_on()) on += (on.empty() ? "" : ",") + m;
      found[d.lead().lead_id()] = on;
    }
    return found;
  };
  v1::FindDuplicateLeadsRequest by_phone;
  by_phone.set_phone("8 (916) 700-00-31");
  CHECK(find(by_phone) == std::map<std::string, std::string>{{a.lead().lead_id(), "phone"}});
  v1::FindDuplicateLeadsRequest by_email;
  by_email.set_email(" OLGA@Example.org");
  CHECK(find(by_email) == std::map<std::string, std::string>{{b.lead().lead_id(), "email"}});
  v1::FindDuplicateLeadsRequest both = by_phone;
  both.set_name("Иван Петров");
  both.set_company_title("Ромашка ООО");  // word order matters for the company
  CHECK(find(both) == std::map<std::string, std::string>{{a.lead().lead_id(), "phone"}});
  both.set_company_title("ООО Ромашка");
  CHECK(find(both) == std::map<std::string, std::string>{{a.lead().lead_id(), "phone,name+company"},
                                                         {c.lead().lead_id(), "name+company"}});
  // A page at a time: the same matches, in id order, each once.
  {
    v1::FindDuplicateLeadsRequest paged = both;
    paged.set_page_size(1);
    std::vector<std::string> ids;
    for (int pages = 0; pages < 5; ++pages) {
      v1::FindDuplicateLeadsResponse page;
      auto page_ctx = Deadline();
      grpc::Status status = f.leads->FindDuplicateLeads(page_ctx.get(), paged, &page);
      INFO(status.error_message());
      REQUIRE(status.ok());
      REQUIRE(page.duplicates_size() <= 1);
      for (const auto& d : page.duplicates()) ids.push_back(d.lead().lead_id());
      if (page.next_page_token().empty()) break;
      paged.set_page_token(page.next_page_token());
    }
    std::vector<std::string> expected = {a.lead().lead_id(), c.lead().lead_id()};
    std::sort(expected.begin(), expected.end());
    CHECK(ids == expected);
    paged.set_page_token("not-a-token");
    v1::FindDuplicateLeadsResponse bad;
    auto bad_ctx = Deadline();
    grpc::Status refused_token = f.leads->FindDuplicateLeads(bad_ctx.get(), paged, &bad);
    CHECK(refused_token.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(testing::FieldsOf(refused_token) == std::vector<std::string>{"page_token"});
  }

  v1::FindDuplicateLeadsRequest name_only;
  name_only.set_name("Иван Петров");
  v1::FindDuplicateLeadsResponse response;
  auto ctx = Deadline();
  grpc::Status refused = f.leads->FindDuplicateLeads(ctx.get(), name_only, &response);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(refused.error_message().find("company_title:") == 0);
  v1::FindDuplicateLeadsRequest bad_phone;
  bad_phone.set_phone("12");
  auto ctx2 = Deadline();
  CHECK(f.leads->FindDuplicateLeads(ctx2.get(), bad_phone, &response)
            .error_message()
            .find("phone:") == 0);
}

TEST_CASE("status changes, assignment and junk, with terminal statuses refusing moves") {
  Fixture f;
  auto created = f.Create("r-3", "+79167000004");
  const std::string name = created.lead().name();
  v1::LeadCommandResponse response;
  v1::ChangeLeadStatusRequest move;
  move.set_name(name);
  move.set_status_id("IN_PROCESS");
  {
    auto ctx = Deadline();
    REQUIRE(f.leads->ChangeLeadStatus(ctx.get(), move, &response).ok());
  }
  CHECK(response.lead().status_id() == "IN_PROCESS");
  v1::AssignLeadRequest assign;
  assign.set_name(name);
  assign.set_responsible_id("boris");
  {
    auto ctx = Deadline();
    REQUIRE(f.leads->AssignLead(ctx.get(), assign, &response).ok());
  }
  CHECK(response.lead().responsible_id() == "boris");
  v1::MarkLeadJunkRequest junk;
  junk.set_name(name);
  junk.set_reason(v1::JUNK_REASON_WRONG_NUMBER);
  {
    auto ctx = Deadline();
    REQUIRE(f.leads->MarkLeadJunk(ctx.get(), junk, &response).ok());
  }
  CHECK(response.lead().status_id() == "JUNK");
  CHECK(response.lead().junk_reason() == v1::JUNK_REASON_WRONG_NUMBER);
  move.set_status_id("NEW");
  auto ctx = Deadline();
  grpc::Status refused = f.leads->ChangeLeadStatus(ctx.get(), move, &response);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  move.set_status_id("NO_SUCH_STATUS");
  auto ctx2 = Deadline();
  CHECK(f.leads->ChangeLeadStatus(ctx2.get(), move, &response).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("list filters by status, responsible and source, with page tokens") {
  Fixture f;
  v1::LogPosition last;
  for (int i = 0; i < 7; ++i) {
    last = f.Create(absl::StrCat("p-", i), absl::StrCat("+7916710000", i),
                    i % 2 == 0 ? "alice" : "boris")
               .position();
  }
  auto intake = v1::IntakeService::NewStub(f.channel);
  v1::PublishChannelEventRequest publish;
  *publish.mutable_event() = testing::EmailEvent("mail-1", "buyer@example.com");
  v1::PublishChannelEventResponse published;
  {
    auto ctx = Deadline();
    REQUIRE(intake->PublishChannelEvent(ctx.get(), publish, &published).ok());
  }
  REQUIRE(testing::WaitUntilIdle(f.channel));
  auto list = [&](v1::ListLeadsRequest request) {
    std::vector<v1::Lead> all;
    *request.mutable_min_position() = last;
    request.set_page_size(3);
    do {
      v1::ListLeadsResponse response;
      auto ctx = Deadline();
      REQUIRE(f.leads->ListLeads(ctx.get(), request, &response).ok());
      CHECK(response.leads_size() <= 3);
      all.insert(all.end(), response.leads().begin(), response.leads().end());
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    return all;
  };
  CHECK(list({}).size() == 8);
  v1::ListLeadsRequest by_responsible;
  by_responsible.set_responsible_id("alice");
  CHECK(list(by_responsible).size() == 4);
  v1::ListLeadsRequest by_source;
  by_source.set_source(v1::LEAD_SOURCE_EMAIL);
  auto emails = list(by_source);
  REQUIRE(emails.size() == 1);
  CHECK(emails[0].emails(0).address() == "buyer@example.com");
  v1::ListLeadsRequest by_status;
  by_status.set_status_id("NEW");
  by_status.set_responsible_id("boris");
  CHECK(list(by_status).size() == 3);
  v1::ListLeadsRequest bad_token;
  bad_token.set_page_token("garbage!");
  v1::ListLeadsResponse response;
  auto ctx = Deadline();
  grpc::Status status = f.leads->ListLeads(ctx.get(), bad_token, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().rfind("page_token", 0) == 0);
}

// The first start records the administrator's credential (ApiKeyIssued) on
// the event topic too; these tests follow the lead events around it.
template <typename Reader>
bool ReadLeadEvent(Reader& reader, v1::SubscribedEvent* event) {
  while (reader->Read(event)) {
    if (event->event().type().rfind("leadflow.v1.ApiKey", 0) != 0) {
      return true;
    }
  }
  return false;
}

TEST_CASE("list filters: text search, time ranges, junk reason, overdue activity") {
  Fixture f;
  auto crm = v1::CrmService::NewStub(f.channel);
  auto create = [&](const std::string& id, const std::string& first, const std::string& last,
                    const std::string& company) {
    v1::CreateLeadRequest request;
    request.set_lead_id(id);
    request.mutable_lead()->set_first_name(first);
    request.mutable_lead()->set_last_name(last);
    request.mutable_lead()->set_company_title(company);
    request.mutable_lead()->set_responsible_id("alice");
    request.mutable_lead()->set_source(v1::LEAD_SOURCE_MANUAL);
    v1::LeadCommandResponse response;
    auto ctx = Deadline();
    REQUIRE(f.leads->CreateLead(ctx.get(), request, &response).ok());
    return response;
  };
  create("ivan", "Иван", "Петров", "ООО «Ромашка»");
  create("anna", "Anna", "Smirnova", "Lilia Ltd");
  auto spam = create("spam", "Buy", "Now", "");
  v1::MarkLeadJunkRequest junk;
  junk.set_name(spam.lead().name());
  junk.set_reason(v1::JUNK_REASON_SPAM);
  v1::LeadCommandResponse junked;
  {
    auto ctx = Deadline();
    REQUIRE(f.leads->MarkLeadJunk(ctx.get(), junk, &junked).ok());
  }
  v1::PlanActivityRequest plan;
  plan.mutable_activity()->set_type(v1::ACTIVITY_TYPE_CALL);
  plan.mutable_activity()->set_subject("Call back");
  plan.mutable_activity()->set_owner("leads/anna");
  plan.mutable_activity()->set_responsible_id("alice");
  plan.mutable_activity()->mutable_deadline()->set_seconds(1000);  // long past
  v1::ItemCommandResponse planned;
  {
    auto ctx = Deadline();
    REQUIRE(crm->PlanActivity(ctx.get(), plan, &planned).ok());
  }
  const std::string token =
      absl::StrJoin({junked.consistency_token(), planned.consistency_token()}, ",");
  auto ids = [&](v1::ListFilter filter) {
    v1::ListLeadsRequest list;
    *list.mutable_filter() = std::move(filter);
    list.set_consistency_token(token);
    v1::ListLeadsResponse response;
    auto ctx = Deadline();
    grpc::Status status = f.leads->ListLeads(ctx.get(), list, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    std::vector<std::string> out;
    for (const auto& lead : response.leads()) out.push_back(lead.lead_id());
    return out;
  };
  v1::ListFilter filter;
  filter.set_query("ромашка ИВАН");
  CHECK(ids(filter) == std::vector<std::string>{"ivan"});
  filter.set_query("lili");
  CHECK(ids(filter) == std::vector<std::string>{"anna"});
  filter.Clear();
  filter.set_junk_reason(v1::JUNK_REASON_SPAM);
  CHECK(ids(filter) == std::vector<std::string>{"spam"});
  filter.Clear();
  filter.set_has_overdue_activity(true);
  CHECK(ids(filter) == std::vector<std::string>{"anna"});
  filter.set_has_overdue_activity(false);
  CHECK(ids(filter) == std::vector<std::string>{"ivan", "spam"});
  filter.Clear();
  filter.set_repeat(false);
  CHECK(ids(filter).size() == 3);
  filter.Clear();
  filter.mutable_create_time_from()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 3600);
  CHECK(ids(filter).empty());
  filter.Clear();
  filter.mutable_update_time_to()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 3600);
  CHECK(ids(filter).size() == 3);

  // Contacts and deals take the filters they have; others are refused.
  v1::CreateContactRequest contact;
  contact.mutable_contact()->set_first_name("Пётр");
  contact.mutable_contact()->set_last_name("Иванов");
  v1::ItemCommandResponse made;
  {
    auto ctx = Deadline();
    REQUIRE(crm->CreateContact(ctx.get(), contact, &made).ok());
  }
  v1::ListItemsRequest items;
  items.set_consistency_token(made.consistency_token());
  items.mutable_filter()->set_query("иванов");
  v1::ListContactsResponse contacts;
  {
    auto ctx = Deadline();
    REQUIRE(crm->ListContacts(ctx.get(), items, &contacts).ok());
  }
  CHECK(contacts.contacts_size() == 1);
  items.mutable_filter()->set_repeat(true);
  {
    auto ctx = Deadline();
    grpc::Status refused = crm->ListContacts(ctx.get(), items, &contacts);
    CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(testing::FieldsOf(refused) == std::vector<std::string>{"filter.repeat"});
  }
}

TEST_CASE("the event subscription streams every domain event from a position") {
  Fixture f;
  auto created = f.Create("s-1", "+79167200001");
  v1::ChangeLeadStatusRequest move;
  move.set_name(created.lead().name());
  move.set_status_id("PROCESSED");
  v1::LeadCommandResponse moved;
  {
    auto ctx = Deadline();
    REQUIRE(f.leads->ChangeLeadStatus(ctx.get(), move, &moved).ok());
  }
  auto events = v1::EventService::NewStub(f.channel);
  // The stream follows the log until cancelled: cancelled is how it ends.
  auto ctx = Deadline();
  v1::SubscribeEventsRequest request;
  auto reader = events->SubscribeEvents(ctx.get(), request);
  v1::SubscribedEvent event;
  REQUIRE(ReadLeadEvent(reader, &event));
  CHECK(event.event().type() == "leadflow.v1.LeadCreated");
  CHECK(event.event().event_id() == created.event_ids(0));
  REQUIRE(ReadLeadEvent(reader, &event));
  CHECK(event.event().type() == "leadflow.v1.LeadStatusChanged");
  CHECK(event.position().offset() == moved.position().offset());
  ctx->TryCancel();
  while (reader->Read(&event)) {
  }
  CHECK(reader->Finish().error_code() == grpc::StatusCode::CANCELLED);

  // From a later position only the later events come.
  auto later_ctx = Deadline();
  v1::SubscribeEventsRequest later;
  *later.add_start() = moved.position();
  auto later_reader = events->SubscribeEvents(later_ctx.get(), later);
  REQUIRE(ReadLeadEvent(later_reader, &event));
  CHECK(event.event().type() == "leadflow.v1.LeadStatusChanged");
  later_ctx->TryCancel();
  while (later_reader->Read(&event)) {
  }
  CHECK(later_reader->Finish().error_code() == grpc::StatusCode::CANCELLED);

  // A bad start is refused with the field.
  auto bad_ctx = Deadline();
  v1::SubscribeEventsRequest bad;
  bad.add_start()->set_partition(99);
  auto bad_reader = events->SubscribeEvents(bad_ctx.get(), bad);
  CHECK_FALSE(bad_reader->Read(&event));
  grpc::Status status = bad_reader->Finish();
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().rfind("start[0].partition", 0) == 0);
}

TEST_CASE("health checking says SERVING") {
  Fixture f;
  // grpc.health.v1.HealthCheckRequest{service: ""} is the empty message;
  // the response {status: SERVING} is field 1 = 1.
  std::string bytes;
  grpc::Status status =
      testing::RawUnaryCall(f.channel, "/grpc.health.v1.Health/Check", "", &bytes);
  REQUIRE(status.ok());
  CHECK(bytes == std::string("\x08\x01", 2));
}

}  // namespace
}  // namespace leadflow

namespace leadflow {
namespace {

TEST_CASE("with --reflection false there is no reflection, and health still answers") {
  Fixture f({"--reflection", "false"});
  std::string bytes;
  // ServerReflectionRequest{list_services: ""}, as one request.
  grpc::Status status = testing::RawUnaryCall(
      f.channel, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      std::string("\x3a\x00", 2), &bytes);
  CHECK(status.error_code() == grpc::StatusCode::UNIMPLEMENTED);
  status = testing::RawUnaryCall(f.channel, "/grpc.health.v1.Health/Check", "", &bytes);
  REQUIRE(status.ok());
  CHECK(bytes == std::string("\x08\x01", 2));
}

TEST_CASE("server reflection lists the leadflow services") {
  testing::TempDir dir;
  testing::ServerProcess server(dir.Sub("data"));
  server.Start();
  grpc::GenericStub generic(server.Channel());
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto call = generic.PrepareCall(
      &ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](intptr_t expected) {
    REQUIRE(cq.Next(&tag, &ok));
    CHECK(reinterpret_cast<intptr_t>(tag) == expected);
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  REQUIRE(step(1));
  // ServerReflectionRequest{list_services: ""}: field 7, length 0.
  grpc::Slice slice(std::string("\x3a\x00", 2));
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  REQUIRE(step(2));
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(3));
  REQUIRE(step(3));
  std::vector<grpc::Slice> slices;
  REQUIRE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  CHECK(bytes.find("leadflow.v1.LeadService") != std::string::npos);
  CHECK(bytes.find("leadflow.v1.IntakeService") != std::string::npos);
  CHECK(bytes.find("grpc.health.v1.Health") != std::string::npos);
  ctx.TryCancel();
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  step(4);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

}  // namespace
}  // namespace leadflow
