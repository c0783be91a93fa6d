// Every record the processors decode from the log: the first byte picks the
// record type, the rest is its bytes. A command is decided on no state and
// on the state a created one leaves; an event is evolved onto empty state;
// stored states, outcomes and intake resolutions are parsed and checked.
// Nothing may crash, hang or leak, whatever the bytes.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/input_limits.h"
#include "leadflow/storage/v1/storage.pb.h"
#include "leadflow/v1/commands.pb.h"
#include "leadflow/v1/events.pb.h"

namespace {

using namespace leadflow;  // NOLINT: a fuzz target's own wiring

void DecideTwice(const v1::Command& command) {
  static const domain::DomainConfig config;
  auto events = domain::Decide(nullptr, command, config);
  if (!events.ok()) return;
  v1::AggregateState state;
  for (const auto& event : *events) state = domain::Evolve(std::move(state), event);
  // The same command on the state it made: refused or decided, never a crash.
  (void)domain::Decide(&state, command, config);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {
      v1::Command command;
      if (!ParseProto(bytes, &command, "record value").ok()) return 0;
      (void)domain::CheckCommandLimits(command);
      DecideTwice(command);
      break;
    }
    case 1: {
      v1::EventEnvelope event;
      if (!ParseProto(bytes, &event, "event record").ok()) return 0;
      (void)domain::Evolve(v1::AggregateState(), event);
      break;
    }
    case 2: {
      v1::AggregateState state;
      if (!ParseProto(bytes, &state, "stored aggregate").ok()) return 0;
      (void)domain::CheckInputLimits(state, "");
      break;
    }
    case 3: {
      v1::CommandOutcome outcome;
      if (!ParseProto(bytes, &outcome, "outcome record").ok()) return 0;
      break;
    }
    default: {
      storage::v1::IntakeResolution resolution;
      if (!ParseProto(bytes, &resolution, "intake changelog record").ok()) return 0;
      storage::v1::StoredRecord stored;
      (void)ParseProto(bytes, &stored, "stored record");
      break;
    }
  }
  return 0;
}
