// Channel events as a producer on the intake topic may send them: protobuf
// bytes, or protobuf's JSON mapping when the first byte is '{'. Whatever
// arrives is decoded, checked against the limits and normalised; what is
// accepted must describe a lead and its identities. Nothing may crash,
// hang or leak.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/domain/channel_event_rules.h"
#include "leadflow/domain/identity.h"
#include "leadflow/domain/lead_aggregate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  leadflow::v1::ChannelEvent event;
  const bool json = !bytes.empty() && bytes.front() == '{';
  const absl::Status decoded = json ? leadflow::FromJson(bytes, &event)
                                    : leadflow::ParseProto(bytes, &event, "record value");
  if (!decoded.ok()) return 0;
  static const leadflow::domain::DomainConfig config;
  auto normalized = leadflow::domain::NormalizeChannelEvent(event, config);
  if (!normalized.ok()) return 0;
  // What is accepted is normalised for good: doing it again changes nothing.
  auto again = leadflow::domain::NormalizeChannelEvent(*normalized, config);
  if (!again.ok() ||
      leadflow::SerializeDeterministic(*again) != leadflow::SerializeDeterministic(*normalized))
    __builtin_trap();
  const leadflow::v1::Lead lead = leadflow::domain::LeadFromChannelEvent(*normalized);
  const auto keys = leadflow::domain::LeadIdentityKeys(lead);
  const std::string routing = leadflow::domain::IntakeRoutingKey(*normalized);
  if (routing.empty()) __builtin_trap();
  (void)keys;
  return 0;
}
