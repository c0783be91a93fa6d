#include "absl/strings/str_cat.h"
#include "aggregates.h"
#include "leadflow/domain/access_policy.h"
#include "leadflow/domain/field_error.h"

namespace leadflow::domain {

absl::Status DecideAccessCommand(const v1::AccessPolicy* current, const v1::Command& command,
                                 EventSink& sink) {
  if (!command.has_configure_access()) return InvalidField("command", "not an access command");
  if (command.aggregate_id() != kAccessPolicyId) {
    return InvalidField("aggregate_id",
                        absl::StrCat("the access policy's id is '", kAccessPolicyId, "'"));
  }
  v1::AccessPolicy next = command.configure_access().policy();
  next.clear_update_time();
  next.clear_updated_by();
  next.clear_version();
  if (absl::Status s = ValidateAccessPolicy(next); !s.ok()) return s;
  const v1::AccessPolicy none;
  std::vector<std::string> changes = AccessPolicyChanges(current ? *current : none, next);
  // Applying what is in force changes nothing; the first apply always
  // records itself (it closes the open policy, even when empty).
  if (changes.empty() && current != nullptr) return absl::OkStatus();
  auto* configured = sink.Add().mutable_access_configured();
  *configured->mutable_policy() = std::move(next);
  for (auto& change : changes) configured->add_changes(std::move(change));
  return absl::OkStatus();
}

void EvolveAccessState(v1::AccessPolicy& policy, const v1::EventEnvelope& event) {
  if (event.has_access_configured()) policy = event.access_configured().policy();
  policy.set_version(event.aggregate_version());
  *policy.mutable_update_time() = event.occur_time();
  policy.set_updated_by(event.actor());
}

}  // namespace leadflow::domain
