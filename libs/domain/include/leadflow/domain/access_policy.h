#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "leadflow/domain/principal.h"
#include "leadflow/v1/access.pb.h"
#include "leadflow/v1/commands.pb.h"
#include "leadflow/v1/crm.pb.h"

namespace leadflow::domain {

// Who may do what (the "access" aggregate's policy: roles, teams, users).
// Every rule of access lives here; the API only passes the principal, the
// policy in force and the item.

// The aggregate id of the one access policy.
inline constexpr absl::string_view kAccessPolicyId = "policy";

// What a check is about: an item as it is (or, for a create, as it would
// be made).
struct AccessTarget {
  v1::AccessItem item = v1::ACCESS_ITEM_UNSPECIFIED;
  // Deals: the pipeline; empty reads as "default".
  std::string deal_pipeline_id;
  // Empty: nobody is responsible.
  std::string responsible_id;
  // For refusals ("leads/ld-1"); empty for an item being created.
  std::string name;
  // A create: an item nobody is responsible for counts as the
  // principal's own.
  bool creating = false;
};

// A policy never applied (version 0) lets every principal do everything,
// so a server upgraded from before roles behaves as it did.
bool IsOpen(const v1::AccessPolicy& policy);

// The principal's roles: its credential's, then the policy's user entry.
std::vector<std::string> RolesOf(const v1::AccessPolicy& policy, const Principal& principal);

// The widest scope the principal's roles grant for `action` on `item`
// (deals: in `deal_pipeline_id`). ALL for administrators and under an open
// policy.
v1::AccessScope ScopeFor(const v1::AccessPolicy& policy, const Principal& principal,
                         v1::AccessAction action, v1::AccessItem item,
                         absl::string_view deal_pipeline_id);

// Whether the principal may do `action` on `target`.
bool Permits(const v1::AccessPolicy& policy, const Principal& principal, v1::AccessAction action,
             const AccessTarget& target);
// The same as a status: PERMISSION_DENIED naming the principal, the
// action, the item and the scope its roles grant.
absl::Status Permit(const v1::AccessPolicy& policy, const Principal& principal,
                    v1::AccessAction action, const AccessTarget& target);

// A responsible's counters (their activities due and overdue, their leads
// and deals without activity) count items of theirs: readable when the
// principal may read a lead, deal or activity of that responsible.
// PERMISSION_DENIED naming both otherwise.
absl::Status PermitCounters(const v1::AccessPolicy& policy, const Principal& principal,
                            absl::string_view responsible_id);

// The target an item's state describes (lead, contact, company, deal,
// activity); item UNSPECIFIED for other aggregates.
AccessTarget TargetOf(const v1::AggregateState& state);
AccessTarget TargetOf(const v1::Lead& lead);

// The items a command touches, as the read model has them (null: not
// there).
struct CommandItems {
  // The command's own aggregate.
  const v1::AggregateState* current = nullptr;
  // MergeLeadInto: the lead kept.
  const v1::AggregateState* merge_target = nullptr;
  // PlanActivity: the lead or deal the activity is for.
  const v1::AggregateState* activity_owner = nullptr;
};

// What a command needs: its action on its item (as it is for a change; as
// the command would make it for a create), and on the other items it
// touches: a merge `merge` on the lead kept too, a conversion `create` on
// the deal (in its pipeline, with its responsible) and on a new contact or
// company, a planned activity `update` on its owner. A change of an item
// the read model does not have is judged as an item nobody is responsible
// for (only scope all reaches it). OK for commands access does not govern
// here (credentials and the policy itself need the administrator role;
// team picks are the robots').
absl::Status PermitCommand(const v1::AccessPolicy& policy, const Principal& principal,
                           const v1::Command& command, const CommandItems& items);

// What the principal may do, one line per item type (and per deal
// pipeline the policy names): "deal[services]: read=team create=team ...".
std::vector<std::string> RightsOf(const v1::AccessPolicy& policy, const Principal& principal);

// Checks a policy before it is applied: names (1-80 of a-z, A-Z, 0-9, '.',
// '_', '@', '-'), no repeats, no role named "administrator", every user's
// role defined, every grant's item and scope set, a pipeline only on deal
// grants, configure only with scope all or none, and bounds on counts.
// INVALID_ARGUMENT naming the field ("policy.roles[1].grants[0].scope").
absl::Status ValidateAccessPolicy(const v1::AccessPolicy& policy);

// What `next` changes of `current`, one line each ("role manager:
// added", "team services: members changed"); empty when nothing does.
// Only roles, teams and users count.
std::vector<std::string> AccessPolicyChanges(const v1::AccessPolicy& current,
                                             const v1::AccessPolicy& next);

// "read", "create", …; "lead", "deal", …; "none", "own", "team", "all".
absl::string_view AccessActionName(v1::AccessAction action);
absl::string_view AccessItemName(v1::AccessItem item);
absl::string_view AccessScopeName(v1::AccessScope scope);

}  // namespace leadflow::domain
