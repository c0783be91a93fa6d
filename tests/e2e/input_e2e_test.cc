// Bounded input and idempotent retries through the real binary: what a
// client sends that is too large or malformed is refused naming the field
// and the limit, and a request_id means one request.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "leadflow/v1/service.grpc.pb.h"
#include "support/channel_events.h"
#include "support/grpc_status.h"
#include "support/server_process.h"

namespace leadflow {
namespace {

using testing::Deadline;
using testing::FieldsOf;
using testing::ServerProcess;
using testing::TempDir;

struct Fixture {
  Fixture() : server(dir.Sub("data")) {
    server.Start();
    channel = server.Channel();
    leads = v1::LeadService::NewStub(channel);
    intake = v1::IntakeService::NewStub(channel);
  }

  grpc::Status Publish(const v1::ChannelEvent& event) {
    v1::PublishChannelEventRequest request;
    *request.mutable_event() = event;
    v1::PublishChannelEventResponse response;
    auto ctx = Deadline();
    return intake->PublishChannelEvent(ctx.get(), request, &response);
  }

  grpc::Status Create(const std::string& request_id, const v1::Lead& lead,
                      v1::LeadCommandResponse* response) {
    v1::CreateLeadRequest request;
    request.set_request_id(request_id);
    *request.mutable_lead() = lead;
    auto ctx = Deadline();
    return leads->CreateLead(ctx.get(), request, response);
  }

  grpc::Status Assign(const std::string& request_id, const std::string& name,
                      const std::string& responsible, v1::LeadCommandResponse* response) {
    v1::AssignLeadRequest request;
    request.set_request_id(request_id);
    request.set_name(name);
    request.set_responsible_id(responsible);
    auto ctx = Deadline();
    return leads->AssignLead(ctx.get(), request, response);
  }

  TempDir dir;
  ServerProcess server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::LeadService::Stub> leads;
  std::unique_ptr<v1::IntakeService::Stub> intake;
};

v1::Lead Person(const std::string& phone) {
  v1::Lead lead;
  lead.set_first_name("Olga");
  lead.add_phones()->set_number(phone);
  lead.set_source(v1::LEAD_SOURCE_MANUAL);
  return lead;
}

TEST_CASE("oversized and malformed input is refused naming the field and the limit") {
  Fixture f;
  grpc::Status status =
      f.Publish(testing::EmailEvent("big-1", "anna@mail.ru", std::string(1 << 20, 's')));
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(FieldsOf(status) == std::vector<std::string>{"event.email.subject"});
  CHECK(status.error_message().find("longer than 1024 bytes") != std::string::npos);

  v1::Lead lead = Person("+79167300001");
  auto* messenger = lead.add_messengers();
  messenger->set_channel("telegram");
  messenger->set_handle(std::string("@h\0zzz", 6));
  v1::LeadCommandResponse created;
  status = f.Create("nul-1", lead, &created);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(FieldsOf(status) == std::vector<std::string>{"lead.messengers[0].handle"});

  v1::Lead crowded = Person("+79167300002");
  for (int i = 0; i < 21; ++i) crowded.add_emails()->set_address(absl::StrCat("p", i, "@mail.ru"));
  status = f.Create("crowded-1", crowded, &created);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(FieldsOf(status) == std::vector<std::string>{"lead.emails"});
  CHECK(status.error_message().find("more than 20 items") != std::string::npos);

  // Larger than a whole request may be: refused before it is parsed.
  v1::Lead huge = Person("+79167300003");
  huge.set_comments(std::string(17 << 20, 'c'));
  status = f.Create("huge-1", huge, &created);
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);

  // None of it was stored, and the server goes on serving the handle "@h".
  REQUIRE(f.Publish(testing::ChatEvent("chat-1", "telegram", "@h")).ok());
  REQUIRE(f.Publish(testing::ChatEvent("chat-2", "telegram", "@H")).ok());
  REQUIRE(testing::WaitUntilIdle(f.channel));
  v1::ListLeadsRequest list;
  v1::ListLeadsResponse listed;
  auto ctx = Deadline();
  REQUIRE(f.leads->ListLeads(ctx.get(), list, &listed).ok());
  REQUIRE(listed.leads_size() == 1);
  CHECK(listed.leads(0).messengers(0).handle() == "@h");
  CHECK(listed.leads(0).version() >= 2);  // the second chat was recorded on it
}

TEST_CASE(
    "a request_id means one request: a retry gets the first answer, another request is "
    "refused") {
  Fixture f;
  v1::LeadCommandResponse first;
  REQUIRE(f.Create("create-1", Person("+79167300010"), &first).ok());
  v1::LeadCommandResponse again;
  REQUIRE(f.Create("create-1", Person("+79167300010"), &again).ok());
  CHECK(again.lead().lead_id() == first.lead().lead_id());
  CHECK(again.lead().version() == 1);
  // The same request_id for another person: refused, the first lead kept.
  v1::LeadCommandResponse other;
  grpc::Status status = f.Create("create-1", Person("+79167300011"), &other);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(FieldsOf(status) == std::vector<std::string>{"request_id"});

  const std::string name = first.lead().name();
  v1::LeadCommandResponse assigned;
  REQUIRE(f.Assign("assign-1", name, "boris", &assigned).ok());
  status = f.Assign("assign-1", name, "vera", &other);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(FieldsOf(status) == std::vector<std::string>{"request_id"});
  v1::LeadCommandResponse retried;
  REQUIRE(f.Assign("assign-1", name, "boris", &retried).ok());
  CHECK(retried.lead().version() == assigned.lead().version());
  CHECK(retried.lead().responsible_id() == "boris");

  // Refused answers are not kept as the request's outcome: after a restart
  // the retry still gets the first answer.
  REQUIRE(f.server.Stop() == 0);
  f.server.Start();
  f.channel = f.server.Channel();
  f.leads = v1::LeadService::NewStub(f.channel);
  REQUIRE(f.Assign("assign-1", name, "boris", &retried).ok());
  CHECK(retried.lead().version() == assigned.lead().version());
  status = f.Assign("assign-1", name, "vera", &other);
  CHECK(FieldsOf(status) == std::vector<std::string>{"request_id"});
}

}  // namespace
}  // namespace leadflow
