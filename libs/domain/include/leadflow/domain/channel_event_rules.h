#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "leadflow/domain/domain_config.h"
#include "leadflow/v1/channel_event.pb.h"
#include "leadflow/v1/lead.pb.h"

namespace leadflow::domain {

// Checks a channel event and returns it with phones in E.164 and emails
// normalised. Refusals name the field, e.g. "call.customer_phone".
absl::StatusOr<v1::ChannelEvent> NormalizeChannelEvent(const v1::ChannelEvent& event,
                                                       const DomainConfig& config);

// The lead a normalised channel event describes: person, contact points,
// source and source details, title, and the operator as responsible for
// answered calls. Id, status and times are left to the lead's creation.
v1::Lead LeadFromChannelEvent(const v1::ChannelEvent& normalized);

// The key a normalised channel event is published under on the intake topic:
// its first identity key, so one person's events meet one resolver.
std::string IntakeRoutingKey(const v1::ChannelEvent& normalized);

v1::LeadSource LeadSourceOf(const v1::ChannelEvent& event);

}  // namespace leadflow::domain
