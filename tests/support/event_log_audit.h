#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "leadflow/v1/events.pb.h"

namespace leadflow::testing {

// What the whole events topic of a server holds, read as an analytics
// consumer reads it (EventService.SubscribeEvents from offset 0 up to the
// ends the server reports), and the invariants of an event-sourced log
// checked on it.
struct EventLogAudit {
  int64_t events = 0;
  // Event ids seen more than once.
  std::vector<std::string> duplicate_event_ids;
  // "<aggregate>: version N after M" where an aggregate's versions are not
  // 1, 2, 3... in log order.
  std::vector<std::string> version_gaps;
  // Aggregate id → its last version.
  std::map<std::string, int64_t> versions;
  // Event ids and causation ids (channel events and commands that caused
  // events).
  std::set<std::string> event_ids;
  std::set<std::string> causation_ids;
  // Events of each type name ("leadflow.v1.LeadCreated").
  std::map<std::string, int64_t> types;
  // Every event, in the order read (partition by partition).
  std::vector<v1::EventEnvelope> all;
};

// Reads and checks the events topic; REQUIREs the stream to reach the end
// offsets (read from AdminService) within `timeout_seconds`.
EventLogAudit AuditEventLog(const std::shared_ptr<grpc::Channel>& channel,
                            int timeout_seconds = 60);

}  // namespace leadflow::testing
