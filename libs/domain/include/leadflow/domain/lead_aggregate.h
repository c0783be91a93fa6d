#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/domain_config.h"
#include "leadflow/v1/commands.pb.h"
#include "leadflow/v1/events.pb.h"
#include "leadflow/v1/lead.pb.h"

namespace leadflow::domain {

// The lead's rules, as Decide/Evolve (aggregate.h) apply them to a lead.
// Beyond the common refusals: a move into a failure status needs
// MarkLeadJunk, into a success status ConvertLead; a move or conversion
// with required fields empty is refused naming each; only supervisors
// reopen junk leads.
absl::StatusOr<std::vector<v1::EventEnvelope>> DecideLead(const v1::Lead* current,
                                                          const v1::Command& command,
                                                          const DomainConfig& config);

// Folds one lead event into the lead. REQUIRES: the event is for this lead and
// its aggregate_version is lead.version() + 1.
v1::Lead EvolveLead(v1::Lead lead, const v1::EventEnvelope& event);

// Puts a lead's phones (E.164) and emails in their normal form and checks
// its opportunity, as creating it does. Refusals name "<prefix>phones[i]…".
absl::Status NormalizeLead(v1::Lead* lead, absl::string_view prefix, const DomainConfig& config);

// The resource name "leads/{lead_id}".
std::string LeadResourceName(absl::string_view lead_id);

// Fields of a lead a client may set with UpdateLead.
bool IsUpdatableLeadField(absl::string_view path);

// Checks a lead id: 1-63 characters of [a-z0-9-].
absl::Status CheckLeadId(absl::string_view lead_id, absl::string_view field);

}  // namespace leadflow::domain
