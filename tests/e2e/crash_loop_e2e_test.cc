// The crash-test loop (after RocksDB's db_crashtest): writers publish
// channel events and send commands with request ids while leadflowd is
// SIGKILLed at random moments and restarted; a ledger keeps every call
// acknowledged and every call in flight. Like a real client, a writer
// retries a call that failed with the same ids until it is acknowledged.
// After the kills: every acknowledged call is reflected, nothing is applied
// twice (no duplicate event ids, every aggregate's versions gap-free, one
// lead per person), and every read model is byte-identical to one rebuilt
// from the event log.
//
// LEADFLOW_CRASH_KILLS sets the number of kills (default 20; the long run,
// deploy/crash-loop.sh, uses 200), LEADFLOW_CRASH_ENGINE=kafka runs it on
// the Kafka dev broker instead of the embedded log.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "leadflow/v1/service.grpc.pb.h"
#include "support/channel_events.h"
#include "support/event_log_audit.h"
#include "support/read_models.h"
#include "support/server_process.h"

namespace leadflow {
namespace {

using testing::Deadline;
using testing::ServerProcess;
using testing::TempDir;

constexpr int kPeople = 150;  // callers, so most calls are repeats
constexpr int kWriters = 4;

std::string CallerPhone(int person) { return absl::StrCat("+7916", 7500000 + person); }
std::string OwnPhone(int writer, int k) {
  return absl::StrCat("+7916", 7600000 + writer * 1000 + k);
}

// The server's current channel, replaced at each restart.
class Target {
 public:
  void Set(std::shared_ptr<grpc::Channel> channel) {
    std::lock_guard<std::mutex> lock(mu_);
    channel_ = std::move(channel);
  }
  std::shared_ptr<grpc::Channel> Get() {
    std::lock_guard<std::mutex> lock(mu_);
    return channel_;
  }

 private:
  std::mutex mu_;
  std::shared_ptr<grpc::Channel> channel_;
};

struct Ledger {
  std::mutex mu;
  std::set<std::string> acknowledged_events;    // channel event ids
  std::set<std::string> acknowledged_commands;  // command ids (req:<lead>:<request id>)
  std::map<std::string, int> updates_per_lead;  // acknowledged UpdateLead per lead name
  std::set<std::string> in_flight;              // when the writers stopped
  int retries = 0;
  // Calls refused for good, said by the main thread: Catch2's assertions
  // are not thread-safe.
  std::vector<std::string> failures;
};

// Repeats `call` with the same request until it succeeds or `stop`;
// returns whether it succeeded. Failures other than the server being away
// go to the ledger's failures, which fail the test.
template <typename Call>
bool UntilAcknowledged(Target& target, const std::atomic<bool>& stop, Ledger& ledger, Call call) {
  while (true) {
    grpc::Status status = call(target.Get());
    if (status.ok()) return true;
    const bool transient = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                           status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
                           status.error_code() == grpc::StatusCode::CANCELLED;
    if (!transient) {
      std::lock_guard<std::mutex> lock(ledger.mu);
      ledger.failures.push_back(
          absl::StrCat("a call failed for good: ", static_cast<int>(status.error_code()), " ",
                       status.error_message()));
      return false;
    }
    if (stop) return false;
    {
      std::lock_guard<std::mutex> lock(ledger.mu);
      ++ledger.retries;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void Write(int writer, Target& target, const std::atomic<bool>& stop, Ledger& ledger,
           std::chrono::milliseconds pause) {
  std::mt19937 random(static_cast<unsigned>(writer) * 7919u + 1u);
  std::vector<std::string> own_leads;
  for (int n = 0; !stop; ++n) {
    if (n > 0) std::this_thread::sleep_for(pause);
    const int kind = static_cast<int>(random() % 10);
    if (kind < 6 || (kind < 8 && own_leads.size() >= 20)) {
      // A call from one of the callers.
      const std::string id = absl::StrCat("crash-call-", writer, "-", n);
      const std::string phone = CallerPhone(static_cast<int>(random() % kPeople));
      const bool done = UntilAcknowledged(target, stop, ledger, [&](auto channel) {
        v1::PublishChannelEventRequest request;
        *request.mutable_event() = testing::CallEvent(id, phone, "op-1");
        v1::PublishChannelEventResponse response;
        auto ctx = Deadline(5);
        return v1::IntakeService::NewStub(channel)->PublishChannelEvent(ctx.get(), request,
                                                                        &response);
      });
      std::lock_guard<std::mutex> lock(ledger.mu);
      (done ? ledger.acknowledged_events : ledger.in_flight).insert(id);
    } else if (kind < 8) {
      // A lead of the writer's own, created by the API.
      const std::string request_id = absl::StrCat("crash-create-", writer, "-", n);
      v1::LeadCommandResponse response;
      const bool done = UntilAcknowledged(target, stop, ledger, [&](auto channel) {
        v1::CreateLeadRequest request;
        request.set_request_id(request_id);
        request.mutable_lead()->set_first_name("Crash");
        request.mutable_lead()->add_phones()->set_number(
            OwnPhone(writer, static_cast<int>(own_leads.size())));
        request.mutable_lead()->set_source(v1::LEAD_SOURCE_MANUAL);
        auto ctx = Deadline(5);
        return v1::LeadService::NewStub(channel)->CreateLead(ctx.get(), request, &response);
      });
      if (!done) {
        std::lock_guard<std::mutex> lock(ledger.mu);
        ledger.in_flight.insert(request_id);
        continue;
      }
      own_leads.push_back(response.lead().name());
      std::lock_guard<std::mutex> lock(ledger.mu);
      ledger.acknowledged_commands.insert(
          absl::StrCat("req:", response.lead().lead_id(), ":", request_id));
    } else if (!own_leads.empty()) {
      // A change to one of them.
      const std::string& name = own_leads[random() % own_leads.size()];
      const std::string request_id = absl::StrCat("crash-update-", writer, "-", n);
      const bool done = UntilAcknowledged(target, stop, ledger, [&](auto channel) {
        v1::UpdateLeadRequest request;
        request.set_request_id(request_id);
        request.mutable_lead()->set_name(name);
        request.mutable_lead()->set_comments(request_id);
        request.mutable_update_mask()->add_paths("comments");
        v1::LeadCommandResponse response;
        auto ctx = Deadline(5);
        return v1::LeadService::NewStub(channel)->UpdateLead(ctx.get(), request, &response);
      });
      std::lock_guard<std::mutex> lock(ledger.mu);
      if (done) {
        ledger.acknowledged_commands.insert(
            absl::StrCat("req:", name.substr(name.find('/') + 1), ":", request_id));
        ++ledger.updates_per_lead[name];
      } else {
        ledger.in_flight.insert(request_id);
      }
    }
  }
}

int Kills() {
  const char* kills = std::getenv("LEADFLOW_CRASH_KILLS");
  return kills != nullptr ? std::atoi(kills) : 20;
}

bool OnKafka() {
  const char* engine = std::getenv("LEADFLOW_CRASH_ENGINE");
  return engine != nullptr && std::string(engine) == "kafka";
}

TEST_CASE("SIGKILLed at random under load, nothing acknowledged is lost or applied twice") {
  TempDir dir;
  const std::string data_dir = dir.Sub("data");
  testing::DevBrokerProcess broker;
  std::vector<std::string> engine_args;
  if (OnKafka()) {
    broker.Start();
    // A short session, so the restarted instance gets its partitions soon.
    engine_args = {"--kafka-brokers",
                   broker.bootstrap_servers(),
                   "--kafka-replication",
                   "1",
                   "--kafka-session-timeout-ms",
                   "3000"};
  }
  ServerProcess server(data_dir, engine_args);
  server.Start();
  Target target;
  target.Set(server.Channel());
  Ledger ledger;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  // The dev broker (librdkafka's mock cluster) keeps only the last 5 MB
  // (or 100,000 batches) of each partition and drops older records: at full
  // speed a long run outgrows that, and the event log it audits (and the
  // changelogs a restart restores from) would lose their beginning. On Kafka
  // the writers pace themselves, about 16 calls a second in all, so even
  // the 200-kill run stays within it; the kills, not the volume, are what
  // is tested.
  const std::chrono::milliseconds pause(OnKafka() ? 250 : 0);
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] { Write(w, target, stop, ledger, pause); });
  }
  std::mt19937 random(20261203);
  const int kills = Kills();
  for (int kill = 0; kill < kills; ++kill) {
    // On Kafka a restarted instance first waits for the group to hand it
    // its partitions: let it work a while after that.
    std::this_thread::sleep_for(
        std::chrono::milliseconds((OnKafka() ? 4000 : 150) + random() % 1200));
    server.Kill();
    server.Start();
    target.Set(server.Channel());
  }
  // Let the writers finish what they have in hand against a live server.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  for (auto& writer : writers) writer.join();
  INFO("retries " << ledger.retries << ", in flight at the end " << ledger.in_flight.size());
  for (size_t i = 0; i < ledger.failures.size() && i < 10; ++i) UNSCOPED_INFO(ledger.failures[i]);
  REQUIRE(ledger.failures.empty());
  REQUIRE(ledger.acknowledged_events.size() > static_cast<size_t>(kills));
  REQUIRE(ledger.acknowledged_commands.size() > 0);
  REQUIRE(ledger.retries > 0);  // the kills were felt

  REQUIRE(testing::WaitUntilIdle(server.Channel()));
  testing::EventLogAudit audit =
      testing::AuditEventLog(server.Channel(), 60, /*identical_repeats_allowed=*/OnKafka());
  {
    INFO("first duplicate: " << (audit.duplicate_event_ids.empty()
                                     ? ""
                                     : audit.duplicate_event_ids.front()));
    CHECK(audit.duplicate_event_ids.empty());
    INFO("first gap: " << (audit.version_gaps.empty() ? "" : audit.version_gaps.front()));
    CHECK(audit.version_gaps.empty());
  }
  for (const auto& id : ledger.acknowledged_events) {
    INFO("acknowledged channel event " << id);
    CHECK(audit.causation_ids.count(id) == 1);
  }
  for (const auto& id : ledger.acknowledged_commands) {
    INFO("acknowledged command " << id);
    CHECK(audit.causation_ids.count(id) == 1);
  }
  // One lead per caller, however many calls and kills.
  std::map<std::string, int> leads_per_phone;
  for (const auto& event : audit.all) {
    if (!event.has_lead_created()) continue;
    for (const auto& phone : event.lead_created().lead().phones()) {
      ++leads_per_phone[phone.number()];
    }
  }
  for (const auto& [phone, leads] : leads_per_phone) {
    INFO(phone);
    CHECK(leads == 1);
  }
  // Each acknowledged update is one event of its lead: versions count them.
  for (const auto& [name, updates] : ledger.updates_per_lead) {
    INFO(name);
    CHECK(audit.versions[name.substr(name.find('/') + 1)] >= 1 + updates);
  }

  // The read models as the kills left them, and as the log rebuilds them.
  REQUIRE(server.Stop() == 0);
  const auto kept = testing::ReadModels(data_dir);
  engine_args.push_back("--rebuild-read-models");
  server.SetExtraArgs(engine_args);
  server.Start();
  REQUIRE(testing::WaitUntilIdle(server.Channel()));
  REQUIRE(server.Stop() == 0);
  const auto rebuilt = testing::ReadModels(data_dir);
  CHECK(kept.size() == rebuilt.size());
  INFO("first differing key: " << testing::FirstDifference(kept, rebuilt));
  CHECK(testing::FirstDifference(kept, rebuilt).empty());
}

}  // namespace
}  // namespace leadflow
