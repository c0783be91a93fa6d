// The real leadflowd binary, driven over gRPC: intake with repeats, restarts
// (clean and SIGKILL mid-stream), malformed input.
#include <catch2/catch.hpp>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/v1/service.grpc.pb.h"
#include "support/channel_events.h"
#include "support/intake_scenario.h"
#include "support/server_process.h"

namespace leadflow {
namespace {

using testing::CheckLeadsMatch;
using testing::Deadline;
using testing::ListAll;
using testing::Scenario;
using testing::ServerProcess;
using testing::Snapshot;
using testing::TempDir;
using testing::WaitUntilIdle;

TEST_CASE("1,000 channel events with repeats yield exactly one lead per person") {
  TempDir dir;
  ServerProcess server(dir.Sub("data"));
  server.Start();
  Scenario scenario;
  auto intake = v1::IntakeService::NewStub(server.Channel());
  scenario.Publish(*intake);
  REQUIRE(WaitUntilIdle(server.Channel()));
  const auto leads = ListAll(server.Channel());
  CheckLeadsMatch(scenario, leads);

  SECTION("a clean restart keeps exactly the same state") {
    CHECK(server.Stop() == 0);
    ServerProcess again(dir.Sub("data"));
    again.Start();
    REQUIRE(WaitUntilIdle(again.Channel()));
    CHECK(Snapshot(ListAll(again.Channel())) == Snapshot(leads));
  }

  SECTION("rebuilding the read models from the log gives the same leads") {
    CHECK(server.Stop() == 0);
    ServerProcess rebuilt(dir.Sub("data"), {"--rebuild-read-models"});
    rebuilt.Start();
    REQUIRE(WaitUntilIdle(rebuilt.Channel()));
    CHECK(Snapshot(ListAll(rebuilt.Channel())) == Snapshot(leads));
  }

  SECTION("publishing everything again changes nothing") {
    scenario.Publish(*intake);
    REQUIRE(WaitUntilIdle(server.Channel()));
    CHECK(Snapshot(ListAll(server.Channel())) == Snapshot(leads));
  }
}

// Publishes the scenario in the background, SIGKILLs the server after a few
// acknowledged batches, restarts it on the same data, publishes everything
// again (a client retries what it may not have had acknowledged), and
// checks that the leads are exactly those expected.
void KillMidStreamAndRecover(const Scenario& scenario, const std::string& data_dir,
                             const std::vector<std::string>& server_args) {
  {
    ServerProcess server(data_dir, server_args);
    server.Start();
    auto intake = v1::IntakeService::NewStub(server.Channel());
    std::atomic<int> acknowledged{0};
    std::thread publisher([&] {
      for (size_t start = 0; start < scenario.events.size(); start += 50) {
        v1::PublishChannelEventsRequest request;
        for (size_t i = start; i < std::min(start + 50, scenario.events.size()); ++i) {
          *request.add_events() = scenario.events[i];
        }
        v1::PublishChannelEventsResponse response;
        auto ctx = Deadline(5);
        if (!intake->PublishChannelEvents(ctx.get(), request, &response).ok()) break;
        ++acknowledged;
      }
    });
    const absl::Time limit = absl::Now() + absl::Seconds(30);
    while (acknowledged < 4 && absl::Now() < limit) absl::SleepFor(absl::Microseconds(200));
    const int acknowledged_before_kill = acknowledged;
    server.Kill();
    publisher.join();
    // Killed mid-stream: some batches were acknowledged, some never were.
    REQUIRE(acknowledged_before_kill >= 4);
    CHECK(acknowledged < 20);
  }
  ServerProcess restarted(data_dir, server_args);
  restarted.Start();
  auto intake = v1::IntakeService::NewStub(restarted.Channel());
  scenario.Publish(*intake);
  REQUIRE(WaitUntilIdle(restarted.Channel()));
  CheckLeadsMatch(scenario, ListAll(restarted.Channel()));
}

TEST_CASE("after SIGKILL mid-stream nothing accepted is lost and nothing is doubled") {
  TempDir dir;
  KillMidStreamAndRecover(Scenario(), dir.Sub("data"), {});
}

TEST_CASE("on the Kafka engine (dev broker) the same intake gives the same leads") {
  testing::DevBrokerProcess broker;
  broker.Start();
  TempDir dir;
  const std::vector<std::string> kafka = {"--kafka-brokers", broker.bootstrap_servers(),
                                          "--kafka-replication", "3"};
  Scenario scenario;
  std::string before_restart;
  {
    ServerProcess server(dir.Sub("data"), kafka);
    server.Start();
    CHECK(server.Output().find("engine kafka") != std::string::npos);
    auto intake = v1::IntakeService::NewStub(server.Channel());
    scenario.Publish(*intake);
    REQUIRE(WaitUntilIdle(server.Channel()));
    const auto leads = ListAll(server.Channel());
    CheckLeadsMatch(scenario, leads);
    before_restart = Snapshot(leads);
    CHECK(server.Stop() == 0);
  }
  // Restarted against the same cluster: it resumes from its offsets.
  ServerProcess again(dir.Sub("data"), kafka);
  again.Start();
  auto intake = v1::IntakeService::NewStub(again.Channel());
  scenario.Publish(*intake);  // every event again: all are known
  REQUIRE(WaitUntilIdle(again.Channel()));
  CHECK(Snapshot(ListAll(again.Channel())) == before_restart);
}

TEST_CASE("on Kafka, after SIGKILL mid-stream the leads are exactly those expected") {
  testing::DevBrokerProcess broker;
  broker.Start();
  TempDir dir;
  KillMidStreamAndRecover(Scenario(), dir.Sub("data"),
                          {"--kafka-brokers", broker.bootstrap_servers()});
}

TEST_CASE("malformed input gets a clear error and leaves the state untouched") {
  TempDir dir;
  ServerProcess server(dir.Sub("data"));
  server.Start();
  auto channel = server.Channel();
  auto intake = v1::IntakeService::NewStub(channel);
  auto leads = v1::LeadService::NewStub(channel);
  auto admin = v1::AdminService::NewStub(channel);
  {
    v1::PublishChannelEventRequest request;
    *request.mutable_event() = testing::CallEvent("good-1", "+79165550001", "op-1");
    v1::PublishChannelEventResponse response;
    auto ctx = Deadline();
    REQUIRE(intake->PublishChannelEvent(ctx.get(), request, &response).ok());
  }
  REQUIRE(WaitUntilIdle(channel));
  auto status_before = [&] {
    v1::ServerStatus status;
    auto ctx = Deadline();
    REQUIRE(admin->GetServerStatus(ctx.get(), {}, &status).ok());
    return SerializeDeterministic(status);
  };
  const std::string before = status_before();
  const std::string leads_before = Snapshot(ListAll(channel));

  SECTION("undecodable bytes") {
    std::string response;
    grpc::Status status =
        testing::RawUnaryCall(channel, "/leadflow.v1.IntakeService/PublishChannelEvent",
                              std::string("\x0a\xff\xff\xff\xff\x0f not a protobuf"), &response);
    CHECK_FALSE(status.ok());
    CHECK(status.error_code() != grpc::StatusCode::UNAVAILABLE);
  }

  SECTION("an invalid phone names the field in the message and the details") {
    v1::PublishChannelEventRequest request;
    *request.mutable_event() = testing::CallEvent("bad-1", "+7 123", "op-1");
    v1::PublishChannelEventResponse response;
    auto ctx = Deadline();
    grpc::Status status = intake->PublishChannelEvent(ctx.get(), request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message().find("event.call.customer_phone") == 0);
    google::rpc::Status details;
    REQUIRE(details.ParseFromString(status.error_details()));
    REQUIRE(details.details_size() == 1);
    google::rpc::BadRequest bad_request;
    REQUIRE(details.details(0).UnpackTo(&bad_request));
    CHECK(bad_request.field_violations(0).field() == "event.call.customer_phone");
  }

  SECTION("one invalid event refuses the whole batch") {
    v1::PublishChannelEventsRequest request;
    *request.add_events() = testing::CallEvent("batch-ok", "+79165550002");
    *request.add_events() = testing::EmailEvent("batch-bad", "nobody@");
    v1::PublishChannelEventsResponse response;
    auto ctx = Deadline();
    grpc::Status status = intake->PublishChannelEvents(ctx.get(), request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message().find("events[1].email.from_address") == 0);
  }

  SECTION("an unknown lead") {
    v1::GetLeadRequest get;
    get.set_name("leads/no-such-lead");
    v1::Lead lead;
    auto ctx = Deadline();
    CHECK(leads->GetLead(ctx.get(), get, &lead).error_code() == grpc::StatusCode::NOT_FOUND);
    v1::ChangeLeadStatusRequest move;
    move.set_name("leads/no-such-lead");
    move.set_status_id("IN_PROCESS");
    v1::LeadCommandResponse response;
    auto ctx2 = Deadline();
    grpc::Status status = leads->ChangeLeadStatus(ctx2.get(), move, &response);
    CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(status.error_message() == "name: lead no-such-lead does not exist");
    REQUIRE(WaitUntilIdle(channel));
  }

  // The refused input added nothing to intake and changed no lead. (A
  // refused lead command is on the commands topic as a record of the
  // request; it changed no state.)
  v1::ServerStatus after;
  {
    auto ctx = Deadline();
    REQUIRE(admin->GetServerStatus(ctx.get(), {}, &after).ok());
  }
  v1::ServerStatus parsed_before;
  REQUIRE(parsed_before.ParseFromString(before));
  for (int i = 0; i < after.processors_size(); ++i) {
    if (after.processors(i).processor() == "intake" ||
        after.processors(i).processor() == "projection") {
      CHECK(after.processors(i).end_offset() == parsed_before.processors(i).end_offset());
    }
  }
  CHECK(Snapshot(ListAll(channel)) == leads_before);
}

}  // namespace
}  // namespace leadflow
