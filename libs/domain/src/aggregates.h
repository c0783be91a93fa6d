#pragma once

// The per-aggregate rules behind Decide/Evolve (aggregate.h). Each Decide*
// gets a command the dispatcher already checked (command id, aggregate id,
// existence, expected version) and adds its events to the sink.

#include <google/protobuf/field_mask.pb.h>

#include "absl/status/status.h"
#include "event_sink.h"
#include "leadflow/domain/domain_config.h"
#include "leadflow/v1/commands.pb.h"
#include "leadflow/v1/crm.pb.h"
#include "leadflow/v1/events.pb.h"

namespace leadflow::domain {

absl::Status DecideLeadCommand(const v1::Lead* current, const v1::Command& command,
                               const DomainConfig& config, EventSink& sink);
void EvolveLeadState(v1::Lead& lead, const v1::EventEnvelope& event);

absl::Status DecideContactCommand(const v1::Contact* current, const v1::Command& command,
                                  const DomainConfig& config, EventSink& sink);
void EvolveContactState(v1::Contact& contact, const v1::EventEnvelope& event);

absl::Status DecideCompanyCommand(const v1::Company* current, const v1::Command& command,
                                  const DomainConfig& config, EventSink& sink);
void EvolveCompanyState(v1::Company& company, const v1::EventEnvelope& event);

absl::Status DecideDealCommand(const v1::Deal* current, const v1::Command& command,
                               const DomainConfig& config, EventSink& sink);
void EvolveDealState(v1::Deal& deal, const v1::EventEnvelope& event);

absl::Status DecideActivityCommand(const v1::Activity* current, const v1::Command& command,
                                   EventSink& sink);
void EvolveActivityState(v1::Activity& activity, const v1::EventEnvelope& event);

absl::Status DecidePipelineCommand(const v1::Pipeline* current, const v1::Command& command,
                                   EventSink& sink);
void EvolvePipelineState(v1::Pipeline& pipeline, const v1::EventEnvelope& event);

absl::Status DecideTeamCommand(const v1::Team* current, const v1::Command& command,
                               EventSink& sink);
void EvolveTeamState(v1::Team& team, const v1::EventEnvelope& event);

absl::Status DecideApiKeyCommand(const v1::ApiKey* current, const v1::Command& command,
                                 EventSink& sink);
void EvolveApiKeyState(v1::ApiKey& key, const v1::EventEnvelope& event);

absl::Status DecideAccessCommand(const v1::AccessPolicy* current, const v1::Command& command,
                                 EventSink& sink);
void EvolveAccessState(v1::AccessPolicy& policy, const v1::EventEnvelope& event);

// Shared checks of item fields.

// Normalises phones (E.164) and emails (lower-cased) in place, drops
// repeats, checks messenger handles. Refusals name "<prefix>phones[i].number"
// and the like.
absl::Status NormalizeContactPoints(
    google::protobuf::RepeatedPtrField<v1::PhoneNumber>* phones,
    google::protobuf::RepeatedPtrField<v1::EmailAddress>* emails,
    const google::protobuf::RepeatedPtrField<v1::MessengerHandle>& messengers,
    absl::string_view prefix, const DomainConfig& config);
absl::Status CheckMoney(const v1::Money& money, absl::string_view field);
// Every path must be one of `updatable`; refusals name update_mask.paths[i].
absl::Status CheckUpdateMask(const google::protobuf::FieldMask& mask,
                             std::initializer_list<absl::string_view> updatable);
// Sets the fields named by `mask` in `target` from `source` (lists are
// replaced, not appended).
void MergeMasked(const google::protobuf::Message& source, const google::protobuf::FieldMask& mask,
                 google::protobuf::Message* target);
absl::Status CheckResponsible(absl::string_view responsible_id, absl::string_view field);

// Commands every item (lead, deal) takes alike.

// NotifyUser → ResponsibleNotified; an empty user_id means `responsible`.
absl::Status DecideNotify(absl::string_view responsible, const v1::NotifyUser& notify,
                          EventSink& sink);
// SendMessage → MessageRequested, to the item's first email or phone.
absl::Status DecideSendMessage(const google::protobuf::RepeatedPtrField<v1::PhoneNumber>& phones,
                               const google::protobuf::RepeatedPtrField<v1::EmailAddress>& emails,
                               const v1::SendMessage& send, EventSink& sink);
// Whether a trigger's move (only_forward) from `from` to `to` goes ahead:
// to a later stage of `pipeline`, from one that is not terminal.
bool MovesForward(const v1::Pipeline& pipeline, absl::string_view from, absl::string_view to);

}  // namespace leadflow::domain
