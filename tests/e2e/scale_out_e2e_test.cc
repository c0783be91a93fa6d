// Two leadflowd instances in one consumer group on the dev broker: they
// split the partitions, calls landing on a non-owner still succeed, and
// when one is SIGKILLed mid-load the other, which kept a warm standby of
// the killed one's partitions, restores only their last moments and the
// leads come out exactly as expected.
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "leadflow/v1/service.grpc.pb.h"
#include "support/intake_scenario.h"
#include "support/server_process.h"

namespace leadflow {
namespace {

using testing::Deadline;
using testing::ServerProcess;
using testing::TempDir;

constexpr absl::string_view kCommandsProcessor = "commands";

// The partitions of the command processor `channel`'s instance owns.
std::set<int32_t> OwnedCommandPartitions(const std::shared_ptr<grpc::Channel>& channel) {
  v1::ServerStatus status;
  auto ctx = Deadline();
  REQUIRE(v1::AdminService::NewStub(channel)->GetServerStatus(ctx.get(), {}, &status).ok());
  std::set<int32_t> owned;
  for (const auto& row : status.processors()) {
    if (row.processor() == kCommandsProcessor && row.owned()) owned.insert(row.partition());
  }
  return owned;
}

// Changelog records the instance replayed into its command state of
// `partitions`: as a warm standby, and when it took them over.
std::pair<int64_t, int64_t> RestoredCommandRecords(const std::shared_ptr<grpc::Channel>& channel,
                                                   const std::set<int32_t>& partitions) {
  v1::ServerStatus status;
  auto ctx = Deadline();
  REQUIRE(v1::AdminService::NewStub(channel)->GetServerStatus(ctx.get(), {}, &status).ok());
  std::pair<int64_t, int64_t> restored{0, 0};
  for (const auto& row : status.processors()) {
    if (row.processor() != kCommandsProcessor || partitions.count(row.partition()) == 0) continue;
    restored.first += row.standby_restored_records();
    restored.second += row.takeover_restored_records();
  }
  return restored;
}

// Waits until the instance has been given some command partitions (a
// member joining a stable group waits out a rebalance delay).
bool WaitForCommandPartitions(const std::shared_ptr<grpc::Channel>& channel) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    if (!OwnedCommandPartitions(channel).empty()) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return false;
}

TEST_CASE("two instances split the partitions and survive one being SIGKILLed mid-load") {
  testing::DevBrokerProcess broker;
  broker.Start();
  TempDir dir;
  // A short session timeout, so the group notices the killed member soon.
  const std::vector<std::string> args = {"--kafka-brokers", broker.bootstrap_servers(),
                                         "--kafka-session-timeout-ms", "6000"};
  ServerProcess a(dir.Sub("a"), args);
  ServerProcess b(dir.Sub("b"), args);
  a.Start();
  b.Start();
  REQUIRE(WaitForCommandPartitions(a.Channel()));
  REQUIRE(WaitForCommandPartitions(b.Channel()));
  REQUIRE(testing::WaitUntilClusterIdle({a.Channel(), b.Channel()}));
  const std::set<int32_t> owned_by_a = OwnedCommandPartitions(a.Channel());
  const std::set<int32_t> owned_by_b = OwnedCommandPartitions(b.Channel());
  REQUIRE_FALSE(owned_by_a.empty());
  REQUIRE_FALSE(owned_by_b.empty());

  // Half the intake through each instance; both end with every lead (the
  // read model is a full replica on each).
  testing::Scenario first;
  first.Publish(*v1::IntakeService::NewStub(a.Channel()), 0, 500);
  first.Publish(*v1::IntakeService::NewStub(b.Channel()), 500);
  REQUIRE(testing::WaitUntilClusterIdle({a.Channel(), b.Channel()}));
  const auto leads = testing::ListAll(a.Channel());
  testing::CheckLeadsMatch(first, leads);
  CHECK(testing::Snapshot(testing::ListAll(b.Channel())) == testing::Snapshot(leads));

  // Commands sent to B for leads of every partition: those B does not own
  // are processed by A, and B still answers each call.
  auto lead_service = v1::LeadService::NewStub(b.Channel());
  std::set<int32_t> answered_from;
  for (int i = 0; i < 24; ++i) {
    v1::ChangeLeadStatusRequest move;
    move.set_name(leads[i].name());
    move.set_status_id("IN_PROCESS");
    move.set_request_id(absl::StrCat("move-", i));
    v1::LeadCommandResponse response;
    auto ctx = Deadline();
    grpc::Status status = lead_service->ChangeLeadStatus(ctx.get(), move, &response);
    REQUIRE(status.ok());
    CHECK(response.lead().status_id() == "IN_PROCESS");
    answered_from.insert(response.position().partition());
  }
  bool some_owned_by_a = false;
  for (int32_t p : answered_from) some_owned_by_a = some_owned_by_a || owned_by_a.count(p) > 0;
  CHECK(some_owned_by_a);

  // A keeps a warm standby of B's partitions: their changelogs (the events
  // of B's leads) are replayed into A's command state while B owns them.
  // The status is read until the standby has caught up with the first load
  // (no new records over two passes).
  int64_t standby_before_kill = 0;
  for (const absl::Time limit = absl::Now() + absl::Seconds(30); absl::Now() < limit;) {
    const int64_t now = RestoredCommandRecords(a.Channel(), owned_by_b).first;
    if (now > 0 && now == standby_before_kill) break;
    standby_before_kill = now;
    absl::SleepFor(absl::Milliseconds(1200));
  }
  REQUIRE(standby_before_kill > 0);

  // A second load through A; B is SIGKILLed after a few batches, while it
  // is processing its share.
  testing::Scenario second;
  for (auto& event : second.events) event.set_id("second-" + event.id());
  auto intake = v1::IntakeService::NewStub(a.Channel());
  std::atomic<size_t> published{0};
  std::thread publisher([&] {
    for (size_t from = 0; from < second.events.size(); from += 50) {
      second.Publish(*intake, from, from + 50);
      published = from + 50;
    }
  });
  const absl::Time limit = absl::Now() + absl::Seconds(60);
  while (published < 200 && absl::Now() < limit) absl::SleepFor(absl::Milliseconds(1));
  const size_t published_before_kill = published;
  b.Kill();
  publisher.join();
  REQUIRE(published_before_kill >= 200);
  // A takes B's partitions once the group drops B, restoring their state
  // from the changelogs first: only what came since the standby's last
  // pass, not B's whole changelogs.
  REQUIRE(testing::WaitUntilIdle(a.Channel(), absl::Seconds(90)));
  CHECK(OwnedCommandPartitions(a.Channel()).size() == owned_by_a.size() + owned_by_b.size());
  const auto [standby, takeover] = RestoredCommandRecords(a.Channel(), owned_by_b);
  INFO("A replayed " << standby << " records of B's partitions as a standby, " << takeover
                     << " when it took them over");
  CHECK(standby >= standby_before_kill);
  CHECK(takeover < standby_before_kill);
  // Both loads again, as clients retry what they may not have had
  // acknowledged: every event is known, wherever it was first processed.
  first.Publish(*intake);
  second.Publish(*intake);
  REQUIRE(testing::WaitUntilIdle(a.Channel(), absl::Seconds(90)));
  const auto after = testing::ListAll(a.Channel());
  // The scenarios' people are the same, so the second load attached to the
  // first load's leads: twice the communications of each.
  testing::Scenario both = first;
  for (auto& [key, count] : both.expected_communications) count *= 2;
  testing::CheckLeadsMatch(both, after);
  int moved = 0;
  for (const auto& lead : after) moved += lead.status_id() == "IN_PROCESS" ? 1 : 0;
  CHECK(moved == 24);

  // B restarted on its data dir rejoins, restores what changed while it
  // was gone, and the two agree.
  ServerProcess b_again(dir.Sub("b"), args);
  b_again.Start();
  REQUIRE(WaitForCommandPartitions(b_again.Channel()));
  REQUIRE(testing::WaitUntilClusterIdle({a.Channel(), b_again.Channel()}));
  second.Publish(*v1::IntakeService::NewStub(b_again.Channel()));
  REQUIRE(testing::WaitUntilClusterIdle({a.Channel(), b_again.Channel()}));
  CHECK(testing::Snapshot(testing::ListAll(b_again.Channel())) ==
        testing::Snapshot(testing::ListAll(a.Channel())));
  CHECK(testing::Snapshot(testing::ListAll(a.Channel())) == testing::Snapshot(after));
}

}  // namespace
}  // namespace leadflow
