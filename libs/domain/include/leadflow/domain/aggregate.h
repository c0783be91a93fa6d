#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "leadflow/domain/domain_config.h"
#include "leadflow/v1/commands.pb.h"
#include "leadflow/v1/crm.pb.h"
#include "leadflow/v1/events.pb.h"

namespace leadflow::domain {

// Every aggregate (lead, contact, company, deal, activity, pipeline) as one
// decide/evolve pair over AggregateState. Pure: the same inputs always give
// the same outputs, byte for byte.

// The aggregate type a command is for ("lead", "contact", …), from its case;
// "" when no command is set.
absl::string_view AggregateTypeOf(const v1::Command& command);
// The type of the state held; "" when empty.
absl::string_view AggregateTypeOf(const v1::AggregateState& state);
int64_t VersionOf(const v1::AggregateState& state);
// The id of the aggregate held; "" when empty.
std::string IdOf(const v1::AggregateState& state);

// Decides what a command does. `current` is nullptr when the aggregate does
// not exist yet. Returns the events to append (possibly none: a change to
// what already is changes nothing) or a refusal that names the field:
//   INVALID_ARGUMENT     a field is missing or invalid;
//   NOT_FOUND            the aggregate does not exist;
//   ALREADY_EXISTS       create for an id that exists;
//   ABORTED              expected_version does not match;
//   FAILED_PRECONDITION  the item's state forbids it (terminal status,
//                        required fields empty: every one named);
//   PERMISSION_DENIED    the actor may not do it.
// Event ids derive from the command id; event times are the command's time.
absl::StatusOr<std::vector<v1::EventEnvelope>> Decide(const v1::AggregateState* current,
                                                      const v1::Command& command,
                                                      const DomainConfig& config);

// Folds one event into the state. REQUIRES: the event is for this aggregate
// and its aggregate_version is VersionOf(state) + 1.
v1::AggregateState Evolve(v1::AggregateState state, const v1::EventEnvelope& event);

// Resource names: "leads/{id}", "contacts/{id}", "companies/{id}",
// "deals/{id}", "activities/{id}", "pipelines/{id}".
std::string ResourceName(absl::string_view aggregate_type, absl::string_view aggregate_id);
// (type, id) of a resource name; refusals name `field`.
absl::StatusOr<std::pair<std::string, std::string>> ParseResourceName(absl::string_view name,
                                                                      absl::string_view field);

// Ids of contacts, companies, deals and activities: 1-80 of [a-z0-9-].
absl::Status CheckAggregateId(absl::string_view id, absl::string_view field);

// The full name of the payload type, e.g. "leadflow.v1.LeadCreated".
std::string EventTypeName(const v1::EventEnvelope& event);

}  // namespace leadflow::domain
