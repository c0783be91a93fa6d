#include "support/event_log_audit.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "leadflow/v1/service.grpc.pb.h"
#include "support/server_process.h"

namespace leadflow::testing {

EventLogAudit AuditEventLog(const std::shared_ptr<grpc::Channel>& channel, int timeout_seconds,
                            bool identical_repeats_allowed) {
  // The ends of the events topic, as the projection sees them.
  std::map<int32_t, int64_t> ends;
  {
    auto admin = v1::AdminService::NewStub(channel);
    v1::ServerStatus status;
    auto ctx = Deadline();
    grpc::Status got = admin->GetServerStatus(ctx.get(), v1::GetServerStatusRequest(), &status);
    INFO(got.error_message());
    REQUIRE(got.ok());
    for (const auto& processor : status.processors()) {
      if (processor.processor() == "projection" && processor.topic() == "leadflow.events.v1") {
        ends[processor.partition()] = processor.end_offset();
      }
    }
    REQUIRE_FALSE(ends.empty());
  }
  EventLogAudit audit;
  std::map<int32_t, int64_t> next;
  auto reached = [&] {
    for (const auto& [partition, end] : ends) {
      if (next[partition] < end) return false;
    }
    return true;
  };
  if (!reached()) {
    auto events = v1::EventService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_seconds));
    auto reader = events->SubscribeEvents(&ctx, v1::SubscribeEventsRequest());
    v1::SubscribedEvent item;
    std::map<std::string, std::string> seen;  // event id → its bytes
    while (!reached() && reader->Read(&item)) {
      next[item.position().partition()] = item.position().offset() + 1;
      const v1::EventEnvelope& event = item.event();
      ++audit.events;
      const std::string bytes = event.SerializeAsString();
      auto [first, fresh] = seen.emplace(event.event_id(), bytes);
      if (!fresh) {
        if (identical_repeats_allowed && first->second == bytes) {
          ++audit.identical_repeats;
          continue;
        }
        audit.duplicate_event_ids.push_back(event.event_id());
      }
      audit.event_ids.insert(event.event_id());
      if (!event.causation_id().empty()) audit.causation_ids.insert(event.causation_id());
      ++audit.types[event.type()];
      int64_t& version = audit.versions[event.aggregate_id()];
      if (event.aggregate_version() != version + 1) {
        audit.version_gaps.push_back(absl::StrCat(event.aggregate_id(), ": version ",
                                                  event.aggregate_version(), " after ", version));
      }
      version = event.aggregate_version();
      audit.all.push_back(event);
    }
    ctx.TryCancel();
    grpc::Status finished = reader->Finish();
    INFO("the event stream ended with " << finished.error_code() << " "
                                        << finished.error_message());
    REQUIRE(reached());
  }
  return audit;
}

}  // namespace leadflow::testing
