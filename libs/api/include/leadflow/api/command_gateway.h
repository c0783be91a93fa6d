#pragma once

#include <grpcpp/server_context.h>

#include <string>

#include "absl/status/statusor.h"
#include "leadflow/api/caller_access.h"
#include "leadflow/api/service_context.h"
#include "leadflow/domain/principal.h"
#include "leadflow/v1/commands.pb.h"

namespace leadflow::api {

// How every service hands a change to the single writer and reads its own
// writes: shared by LeadService, CrmService and PipelineService.
class CommandGateway {
 public:
  explicit CommandGateway(const ServiceContext* context) : context_(context) {}

  // Stamps the command (issue time from the clock, actor the principal's
  // unless it may act for the one the request names), checks the
  // principal's rights (PERMISSION_DENIED), appends it to the commands topic and waits
  // for its outcome. A refusal comes back as its status, with every field it names; a command not
  // applied within the call's deadline as UNAVAILABLE (it stays on the log:
  // retrying with the same request_id returns its outcome). A refusal that
  // names the aggregate ("name") is told as naming `name_field`, the
  // request field that named it (e.g. "lead.name", "merged").
  // `ctx` may be null (leadflowd's own commands): no client deadline.
  absl::StatusOr<v1::CommandOutcome> Submit(const grpc::ServerContext* ctx,
                                            const domain::Principal& principal, v1::Command command,
                                            absl::string_view name_field = "name") const;
  // Waits until the read models have applied `position` (when set) and
  // what the consistency token names (INVALID_ARGUMENT naming
  // consistency_token when it is not one; DEADLINE_EXCEEDED saying what is
  // missing when the call's deadline comes first).
  absl::Status AwaitPosition(const grpc::ServerContext* ctx, const v1::LogPosition& position,
                             bool has_position, absl::string_view consistency_token = "") const;
  // The consistency token of a command's reply: its last event's position;
  // for a command that changed nothing, the events topic's end now (what
  // the decision was made on is before it).
  std::string TokenFor(const v1::CommandOutcome& outcome) const;
  // The pipelines in force now.
  absl::StatusOr<domain::PipelineSet> Pipelines() const { return context_->items->Pipelines(); }
  // What the caller may read (the access policy in force now).
  absl::StatusOr<CallerAccess> AccessOf(const domain::Principal& principal) const {
    return CallerAccess::For(principal, *context_->items, *context_->leads);
  }

  // A command id: from the client's request id when given (retries are then
  // idempotent), otherwise fresh.
  static std::string CommandId(absl::string_view aggregate_id, absl::string_view request_id);
  // A fresh id for a new aggregate ("<kind>-<hex>"), or one derived from the
  // request id so a retried create makes one.
  static std::string NewId(absl::string_view kind, absl::string_view request_id);
  static absl::Status CheckRequestId(absl::string_view request_id);
  // The id in a resource name, which must name an item of `type`
  // ("lead" for "leads/{id}"); refusals name `field`.
  static absl::StatusOr<std::string> IdFromName(absl::string_view name, absl::string_view type,
                                                absl::string_view field);
  // The skeleton of a change to an existing item, from a request with
  // request_id, actor and (where it has one) expected_version.
  template <typename Request>
  static absl::StatusOr<v1::Command> ChangeCommand(const Request& request, absl::string_view name,
                                                   absl::string_view type, absl::string_view field);
  // The deadline of a call: the client's, capped at `cap`.
  static absl::Time CallDeadline(const grpc::ServerContext* ctx, absl::Duration cap);

 private:
  // PERMISSION_DENIED unless the principal's roles grant the command's
  // action on its item as the read model has it now
  // (domain::PermitCommand).
  absl::Status Authorize(const domain::Principal& principal, const v1::Command& command) const;
  // FAILED_PRECONDITION naming the field when the command links to a
  // contact or company that does not exist.
  absl::Status CheckLinks(const grpc::ServerContext* ctx, const v1::Command& command) const;
  // Whether the read model has the item, waiting briefly for the
  // projection to read what the event log holds now when it has not.
  absl::StatusOr<bool> ItemExists(absl::string_view type, const std::string& id,
                                  absl::Time deadline) const;

  const ServiceContext* context_;
};

namespace internal {
template <typename T, typename = void>
struct HasExpectedVersion : std::false_type {};
template <typename T>
struct HasExpectedVersion<T, std::void_t<decltype(std::declval<T>().has_expected_version())>>
    : std::true_type {};
}  // namespace internal

template <typename Request>
absl::StatusOr<v1::Command> CommandGateway::ChangeCommand(const Request& request,
                                                          absl::string_view name,
                                                          absl::string_view type,
                                                          absl::string_view field) {
  absl::StatusOr<std::string> id = IdFromName(name, type, field);
  if (!id.ok()) return id.status();
  if (absl::Status s = CheckRequestId(request.request_id()); !s.ok()) return s;
  v1::Command command;
  command.set_command_id(CommandId(*id, request.request_id()));
  command.set_aggregate_id(*std::move(id));
  command.set_actor(request.actor());
  if constexpr (internal::HasExpectedVersion<Request>::value) {
    if (request.has_expected_version()) command.set_expected_version(request.expected_version());
  }
  return command;
}

}  // namespace leadflow::api
