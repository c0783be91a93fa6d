// Storage faults injected under the real binary (leadflowd --inject-faults
// wraps its RocksDB in the storage port's fault injector): what clients
// see, and that nothing acknowledged is lost and nothing applied twice.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "leadflow/v1/service.grpc.pb.h"
#include "support/channel_events.h"
#include "support/event_log_audit.h"
#include "support/server_process.h"

namespace leadflow {
namespace {

using testing::Deadline;
using testing::ServerProcess;
using testing::TempDir;

std::string Phone(int i) { return absl::StrCat("+7916", 7400000 + i); }
std::string EventId(int i) { return absl::StrCat("fault-call-", i); }

// Publishes calls of distinct people from `publishers` threads until
// `stop` or `count` calls; what each call got back, by index.
struct Publishing {
  std::mutex mu;
  std::set<int> acknowledged;
  std::map<int, grpc::StatusCode> refused;
  grpc::Status first_refusal;  // with its details
};

void PublishCalls(const std::shared_ptr<grpc::Channel>& channel, int count, int publishers,
                  const std::atomic<bool>& stop, Publishing* result) {
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < publishers; ++t) {
    threads.emplace_back([&] {
      auto intake = v1::IntakeService::NewStub(channel);
      for (int i = next++; i < count && !stop; i = next++) {
        v1::PublishChannelEventRequest request;
        *request.mutable_event() = testing::CallEvent(EventId(i), Phone(i), "op-1");
        v1::PublishChannelEventResponse response;
        auto ctx = Deadline(10);
        grpc::Status status = intake->PublishChannelEvent(ctx.get(), request, &response);
        std::lock_guard<std::mutex> lock(result->mu);
        if (status.ok()) {
          result->acknowledged.insert(i);
        } else {
          if (result->refused.empty()) result->first_refusal = status;
          result->refused[i] = status.error_code();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
}

// Publishes calls [0, count) again, one at a time: every one is accepted,
// and those the server has are not applied again.
void PublishAllAgain(const std::shared_ptr<grpc::Channel>& channel, int count) {
  auto intake = v1::IntakeService::NewStub(channel);
  for (int i = 0; i < count; ++i) {
    v1::PublishChannelEventRequest request;
    *request.mutable_event() = testing::CallEvent(EventId(i), Phone(i), "op-1");
    v1::PublishChannelEventResponse response;
    auto ctx = Deadline();
    grpc::Status status = intake->PublishChannelEvent(ctx.get(), request, &response);
    INFO(i << ": " << status.error_message());
    REQUIRE(status.ok());
  }
}

// Every call [0, count) made exactly one lead, and the log is sound.
void CheckOneLeadPerCall(const std::shared_ptr<grpc::Channel>& channel, int count,
                         const std::set<int>& acknowledged) {
  REQUIRE(testing::WaitUntilIdle(channel));
  testing::EventLogAudit audit = testing::AuditEventLog(channel);
  CHECK(audit.duplicate_event_ids.empty());
  CHECK(audit.version_gaps.empty());
  CHECK(audit.types["leadflow.v1.LeadCreated"] == count);
  for (int i : acknowledged) {
    INFO("acknowledged call " << i);
    CHECK(audit.causation_ids.count(EventId(i)) == 1);
  }
}

TEST_CASE(
    "a failed fsync publishes nothing; the server stops, restarts and applies nothing twice") {
  TempDir dir;
  // The 41st fsync fails (the first ones are the start's own).
  ServerProcess server(dir.Sub("data"), {"--inject-faults", "sync:40:always:unavailable"});
  server.Start();
  constexpr int kCalls = 3000;
  std::atomic<bool> stop{false};
  Publishing published;
  std::thread publishing([&] { PublishCalls(server.Channel(), kCalls, 4, stop, &published); });
  // It stops by itself, at once, asking to be restarted (EX_TEMPFAIL).
  std::optional<int> exit_status = server.WaitExit(absl::Seconds(60));
  stop = true;
  publishing.join();
  REQUIRE(exit_status.has_value());
  CHECK(*exit_status == 75);
  INFO(server.Output());
  CHECK(server.Output().find("refused an fsync") != std::string::npos);
  CHECK_FALSE(published.acknowledged.empty());
  CHECK_FALSE(published.refused.empty());
  // Acknowledged before the failure; the calls after it were refused.
  CHECK(published.acknowledged.size() < static_cast<size_t>(kCalls));

  server.SetExtraArgs({});
  server.Start();
  // Every call sent again: what was acknowledged (and what was in flight
  // and reached the disk) is not applied twice.
  PublishAllAgain(server.Channel(),
                  static_cast<int>(published.acknowledged.size() + published.refused.size()));
  CheckOneLeadPerCall(server.Channel(),
                      static_cast<int>(published.acknowledged.size() + published.refused.size()),
                      published.acknowledged);
}

TEST_CASE(
    "a full disk refuses writes with RESOURCE_EXHAUSTED and the server resumes when space "
    "returns") {
  TempDir dir;
  // 60 writes after the first 300 fail as a full disk does.
  ServerProcess server(dir.Sub("data"), {"--inject-faults", "write:300:60:resource_exhausted"});
  server.Start();
  constexpr int kCalls = 1500;
  std::atomic<bool> stop{false};
  Publishing published;
  PublishCalls(server.Channel(), kCalls, 4, stop, &published);
  CHECK(published.acknowledged.size() + published.refused.size() == kCalls);
  REQUIRE_FALSE(published.refused.empty());
  for (const auto& [i, code] : published.refused) {
    INFO("call " << i);
    CHECK(code == grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  // The same server goes on once writes pass again: the refused calls are
  // taken when sent again, and everything is applied once.
  CHECK(server.running());
  PublishAllAgain(server.Channel(), kCalls);
  CheckOneLeadPerCall(server.Channel(), kCalls, published.acknowledged);
}

// grpc.health.v1.Health/Check for the whole server: SERVING (1) or
// NOT_SERVING (2); 0 when the call fails.
int HealthStatus(const std::shared_ptr<grpc::Channel>& channel) {
  std::string bytes;
  grpc::Status status = testing::RawUnaryCall(channel, "/grpc.health.v1.Health/Check", "", &bytes);
  if (!status.ok() || bytes.size() != 2 || bytes[0] != '\x08') return 0;
  return bytes[1];
}

TEST_CASE(
    "health checks say NOT_SERVING while the disk refuses writes, SERVING once it takes "
    "them again") {
  TempDir dir;
  // From the 300th write on, every write fails for four seconds.
  ServerProcess server(dir.Sub("data"), {"--inject-faults", "write:300:4s:resource_exhausted"});
  server.Start();
  REQUIRE(HealthStatus(server.Channel()) == 1);
  constexpr int kCalls = 100000;
  std::atomic<bool> stop{false};
  Publishing published;
  std::thread publisher([&] { PublishCalls(server.Channel(), kCalls, 2, stop, &published); });
  auto refused_yet = [&] {
    std::lock_guard<std::mutex> lock(published.mu);
    return !published.refused.empty();
  };
  bool not_serving_seen = false;
  bool serving_again = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline && !serving_again) {
    const int health = HealthStatus(server.Channel());
    if (health == 2) not_serving_seen = true;
    if (not_serving_seen && health == 1) serving_again = true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  stop = true;
  publisher.join();
  CHECK(refused_yet());
  CHECK(not_serving_seen);
  CHECK(serving_again);
  {
    // The refusal says when to try again (google.rpc.RetryInfo).
    std::lock_guard<std::mutex> lock(published.mu);
    google::rpc::Status details;
    REQUIRE(details.ParseFromString(published.first_refusal.error_details()));
    google::rpc::RetryInfo retry;
    bool has_retry = false;
    for (const auto& any : details.details()) has_retry = has_retry || any.UnpackTo(&retry);
    CHECK(has_retry);
    CHECK(retry.retry_delay().seconds() == 1);
  }
  {
    std::lock_guard<std::mutex> lock(published.mu);
    for (const auto& [i, code] : published.refused) {
      INFO("call " << i);
      CHECK(code == grpc::StatusCode::RESOURCE_EXHAUSTED);
    }
  }
  // Every call up to the last one sent (one claimed by a publisher as it
  // stopped may not have been) is sent again.
  int sent = 0;
  if (!published.acknowledged.empty()) sent = *published.acknowledged.rbegin() + 1;
  if (!published.refused.empty()) sent = std::max(sent, published.refused.rbegin()->first + 1);
  PublishAllAgain(server.Channel(), sent);
  CheckOneLeadPerCall(server.Channel(), sent, published.acknowledged);
}

}  // namespace
}  // namespace leadflow
