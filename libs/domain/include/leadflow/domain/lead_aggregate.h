#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "leadflow/domain/domain_config.h"
#include "leadflow/v1/commands.pb.h"
#include "leadflow/v1/events.pb.h"
#include "leadflow/v1/lead.pb.h"

namespace leadflow::domain {

// The lead aggregate as decide/evolve. Pure: the same inputs always give the
// same outputs, byte for byte.

// Decides what a command does to a lead. `current` is nullptr when the lead
// does not exist yet. Returns the events to append (possibly none: a move to
// the status the lead is already in changes nothing), or a refusal:
//   INVALID_ARGUMENT     a field is missing or invalid (the field is named);
//   NOT_FOUND            the lead does not exist;
//   ALREADY_EXISTS       create for an id that exists;
//   ABORTED              expected_version does not match;
//   FAILED_PRECONDITION  the lead is in a terminal status, or the move needs
//                        another command (junk needs MarkLeadJunk).
// Event ids derive from the command id; event times are the command's time.
absl::StatusOr<std::vector<v1::EventEnvelope>> DecideLead(const v1::Lead* current,
                                                          const v1::LeadCommand& command,
                                                          const DomainConfig& config);

// Folds one lead event into the lead. REQUIRES: the event is for this lead and
// its aggregate_version is lead.version() + 1.
v1::Lead EvolveLead(v1::Lead lead, const v1::EventEnvelope& event);

// The resource name "leads/{lead_id}".
std::string LeadResourceName(absl::string_view lead_id);

// The full name of the payload type, e.g. "leadflow.v1.LeadCreated".
std::string EventTypeName(const v1::EventEnvelope& event);

// Fields of a lead a client may set with UpdateLead.
bool IsUpdatableLeadField(absl::string_view path);

// Checks a lead id: 1-63 characters of [a-z0-9-].
absl::Status CheckLeadId(absl::string_view lead_id, absl::string_view field);

}  // namespace leadflow::domain
