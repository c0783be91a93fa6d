#include "leadflow/domain/aggregate.h"

#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "aggregates.h"
#include "event_sink.h"
#include "leadflow/base/derived_id.h"
#include "leadflow/domain/access_policy.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/input_limits.h"
#include "leadflow/domain/lead_aggregate.h"

namespace leadflow::domain {
namespace {

struct Collection {
  absl::string_view type;
  absl::string_view collection;
};
constexpr std::array<Collection, 9> kCollections = {{{"lead", "leads"},
                                                     {"contact", "contacts"},
                                                     {"company", "companies"},
                                                     {"deal", "deals"},
                                                     {"activity", "activities"},
                                                     {"pipeline", "pipelines"},
                                                     {"team", "teams"},
                                                     {"api_key", "apiKeys"},
                                                     {"access", "access"}}};

// The state of the command's aggregate type within `current`, or nullptr.
template <typename T>
const T* StateOf(const v1::AggregateState* current, bool (v1::AggregateState::*has)() const,
                 const T& (v1::AggregateState::*get)() const) {
  if (current == nullptr || !(current->*has)()) return nullptr;
  return &(current->*get)();
}

}  // namespace

EventSink::EventSink(absl::string_view aggregate_type, int64_t base_version,
                     const v1::Command& command)
    : aggregate_type_(aggregate_type), command_(command), base_version_(base_version) {}

v1::EventEnvelope& EventSink::Add() {
  v1::EventEnvelope& e = events_.emplace_back();
  const int64_t index = static_cast<int64_t>(events_.size());
  e.set_event_id(DeriveId("ev", command_.command_id(), absl::StrCat(index)));
  e.set_aggregate_type(aggregate_type_);
  e.set_aggregate_id(command_.aggregate_id());
  e.set_aggregate_version(base_version_ + index);
  *e.mutable_occur_time() = command_.issue_time();
  e.set_causation_id(command_.causation_id().empty() ? command_.command_id()
                                                     : command_.causation_id());
  e.set_correlation_id(command_.correlation_id().empty() ? command_.command_id()
                                                         : command_.correlation_id());
  e.set_actor(command_.actor());
  if (command_.has_robot()) *e.mutable_robot() = command_.robot();
  return e;
}

std::vector<v1::EventEnvelope> EventSink::Finish() {
  for (auto& e : events_) e.set_type(EventTypeName(e));
  return std::move(events_);
}

absl::string_view AggregateTypeOf(const v1::Command& command) {
  const int number = static_cast<int>(command.command_case());
  if (number == 0) return "";
  if (number < 30) return "lead";
  if (number < 40) return "contact";
  if (number < 50) return "company";
  if (number < 60) return "deal";
  if (number < 70) return "activity";
  if (number < 80) return "pipeline";
  if (number < 90) return "team";
  if (number < 92) return "api_key";
  return "access";
}

absl::string_view AggregateTypeOf(const v1::AggregateState& state) {
  switch (state.state_case()) {
    case v1::AggregateState::kLead:
      return "lead";
    case v1::AggregateState::kContact:
      return "contact";
    case v1::AggregateState::kCompany:
      return "company";
    case v1::AggregateState::kDeal:
      return "deal";
    case v1::AggregateState::kActivity:
      return "activity";
    case v1::AggregateState::kPipeline:
      return "pipeline";
    case v1::AggregateState::kTeam:
      return "team";
    case v1::AggregateState::kApiKey:
      return "api_key";
    case v1::AggregateState::kAccessPolicy:
      return "access";
    case v1::AggregateState::STATE_NOT_SET:
      break;
  }
  return "";
}

int64_t VersionOf(const v1::AggregateState& state) {
  switch (state.state_case()) {
    case v1::AggregateState::kLead:
      return state.lead().version();
    case v1::AggregateState::kContact:
      return state.contact().version();
    case v1::AggregateState::kCompany:
      return state.company().version();
    case v1::AggregateState::kDeal:
      return state.deal().version();
    case v1::AggregateState::kActivity:
      return state.activity().version();
    case v1::AggregateState::kPipeline:
      return state.pipeline().version();
    case v1::AggregateState::kTeam:
      return state.team().version();
    case v1::AggregateState::kApiKey:
      return state.api_key().version();
    case v1::AggregateState::kAccessPolicy:
      return state.access_policy().version();
    case v1::AggregateState::STATE_NOT_SET:
      break;
  }
  return 0;
}

std::string IdOf(const v1::AggregateState& state) {
  switch (state.state_case()) {
    case v1::AggregateState::kLead:
      return state.lead().lead_id();
    case v1::AggregateState::kContact:
      return state.contact().contact_id();
    case v1::AggregateState::kCompany:
      return state.company().company_id();
    case v1::AggregateState::kDeal:
      return state.deal().deal_id();
    case v1::AggregateState::kActivity:
      return state.activity().activity_id();
    case v1::AggregateState::kPipeline:
      return state.pipeline().pipeline_id();
    case v1::AggregateState::kTeam:
      return state.team().team_id();
    case v1::AggregateState::kApiKey:
      return state.api_key().api_key_id();
    case v1::AggregateState::kAccessPolicy:
      return std::string(kAccessPolicyId);
    case v1::AggregateState::STATE_NOT_SET:
      break;
  }
  return "";
}

std::string ResourceName(absl::string_view aggregate_type, absl::string_view aggregate_id) {
  for (const auto& c : kCollections) {
    if (c.type == aggregate_type) return absl::StrCat(c.collection, "/", aggregate_id);
  }
  return absl::StrCat(aggregate_type, "/", aggregate_id);
}

absl::StatusOr<std::pair<std::string, std::string>> ParseResourceName(absl::string_view name,
                                                                      absl::string_view field) {
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(name, absl::MaxSplits('/', 1));
  for (const auto& c : kCollections) {
    if (c.collection != parts.first) continue;
    absl::Status id_ok =
        c.type == "lead" ? CheckLeadId(parts.second, field) : CheckAggregateId(parts.second, field);
    if (c.type == "pipeline" && parts.second == kLeadPipelineId) id_ok = absl::OkStatus();
    if (!id_ok.ok()) return id_ok;
    return std::make_pair(std::string(c.type), std::string(parts.second));
  }
  return InvalidField(field, absl::StrCat("'", name,
                                          "' is not a resource name such as leads/{id}, "
                                          "contacts/{id}, companies/{id}, deals/{id}, "
                                          "activities/{id} or pipelines/{id}"));
}

absl::Status CheckAggregateId(absl::string_view id, absl::string_view field) {
  if (id.empty()) return InvalidField(field, "required");
  if (id.size() > 80) return InvalidField(field, "longer than 80 characters");
  for (char c : id) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-')) {
      return InvalidField(field, absl::StrCat("'", id, "' may hold only a-z, 0-9 and '-'"));
    }
  }
  return absl::OkStatus();
}

std::string EventTypeName(const v1::EventEnvelope& event) {
  const auto* field = v1::EventEnvelope::descriptor()->FindFieldByNumber(event.payload_case());
  if (field == nullptr) return "";
  return field->message_type()->full_name();
}

absl::StatusOr<std::vector<v1::EventEnvelope>> Decide(const v1::AggregateState* current,
                                                      const v1::Command& command,
                                                      const DomainConfig& config) {
  if (command.command_id().empty()) return InvalidField("command_id", "required");
  if (absl::Status limits = CheckCommandLimits(command); !limits.ok()) return limits;
  const absl::string_view type = AggregateTypeOf(command);
  if (type.empty()) return InvalidField("command", "required");
  absl::Status id_ok = type == "lead" ? CheckLeadId(command.aggregate_id(), "aggregate_id")
                                      : CheckAggregateId(command.aggregate_id(), "aggregate_id");
  if (type == "pipeline" && command.aggregate_id() == kLeadPipelineId) id_ok = absl::OkStatus();
  if (!id_ok.ok()) return id_ok;
  if (current != nullptr && AggregateTypeOf(*current) != type) {
    return FieldError(absl::StatusCode::kFailedPrecondition, "aggregate_id",
                      absl::StrCat("'", command.aggregate_id(), "' is a ",
                                   AggregateTypeOf(*current), ", not a ", type));
  }
  const int case_number = static_cast<int>(command.command_case());
  // Creating cases: create_lead, create_contact, create_company,
  // create_deal, plan_activity; configure_pipeline creates or replaces.
  const bool creates =
      case_number == v1::Command::kCreateLead || case_number == v1::Command::kCreateContact ||
      case_number == v1::Command::kCreateCompany || case_number == v1::Command::kCreateDeal ||
      case_number == v1::Command::kPlanActivity || case_number == v1::Command::kIssueApiKey;
  // Configure creates or replaces; the built-in default deal pipeline may
  // be removed without being configured (the pipeline rules check).
  // A team's first pick starts its turns.
  const bool upserts = case_number == v1::Command::kConfigurePipeline ||
                       case_number == v1::Command::kRemovePipeline ||
                       case_number == v1::Command::kPickTeamMember ||
                       case_number == v1::Command::kConfigureAccess;
  if (creates && current != nullptr) {
    return FieldError(absl::StatusCode::kAlreadyExists, "aggregate_id",
                      absl::StrCat(type, " ", command.aggregate_id(), " already exists"));
  }
  if (!creates && !upserts && current == nullptr) {
    return FieldError(absl::StatusCode::kNotFound, "name",
                      absl::StrCat(type, " ", command.aggregate_id(), " does not exist"));
  }
  const int64_t version = current == nullptr ? 0 : VersionOf(*current);
  if (command.has_expected_version() && command.expected_version() != version) {
    return FieldError(
        absl::StatusCode::kAborted, "expected_version",
        absl::StrCat(type, " is at version ", version, ", not ", command.expected_version()));
  }
  EventSink sink(type, version, command);
  absl::Status status;
  if (type == "lead") {
    status = DecideLeadCommand(
        StateOf(current, &v1::AggregateState::has_lead, &v1::AggregateState::lead), command, config,
        sink);
  } else if (type == "contact") {
    status = DecideContactCommand(
        StateOf(current, &v1::AggregateState::has_contact, &v1::AggregateState::contact), command,
        config, sink);
  } else if (type == "company") {
    status = DecideCompanyCommand(
        StateOf(current, &v1::AggregateState::has_company, &v1::AggregateState::company), command,
        config, sink);
  } else if (type == "deal") {
    status = DecideDealCommand(
        StateOf(current, &v1::AggregateState::has_deal, &v1::AggregateState::deal), command, config,
        sink);
  } else if (type == "activity") {
    status = DecideActivityCommand(
        StateOf(current, &v1::AggregateState::has_activity, &v1::AggregateState::activity), command,
        sink);
  } else if (type == "pipeline") {
    status = DecidePipelineCommand(
        StateOf(current, &v1::AggregateState::has_pipeline, &v1::AggregateState::pipeline), command,
        sink);
  } else if (type == "team") {
    status = DecideTeamCommand(
        StateOf(current, &v1::AggregateState::has_team, &v1::AggregateState::team), command, sink);
  } else if (type == "api_key") {
    status = DecideApiKeyCommand(
        StateOf(current, &v1::AggregateState::has_api_key, &v1::AggregateState::api_key), command,
        sink);
  } else {
    status = DecideAccessCommand(StateOf(current, &v1::AggregateState::has_access_policy,
                                         &v1::AggregateState::access_policy),
                                 command, sink);
  }
  if (!status.ok()) return status;
  return sink.Finish();
}

v1::AggregateState Evolve(v1::AggregateState state, const v1::EventEnvelope& event) {
  const absl::string_view type = event.aggregate_type();
  if (type == "lead") {
    EvolveLeadState(*state.mutable_lead(), event);
  } else if (type == "contact") {
    EvolveContactState(*state.mutable_contact(), event);
  } else if (type == "company") {
    EvolveCompanyState(*state.mutable_company(), event);
  } else if (type == "deal") {
    EvolveDealState(*state.mutable_deal(), event);
  } else if (type == "activity") {
    EvolveActivityState(*state.mutable_activity(), event);
  } else if (type == "pipeline") {
    EvolvePipelineState(*state.mutable_pipeline(), event);
  } else if (type == "team") {
    EvolveTeamState(*state.mutable_team(), event);
  } else if (type == "api_key") {
    EvolveApiKeyState(*state.mutable_api_key(), event);
  } else if (type == "access") {
    EvolveAccessState(*state.mutable_access_policy(), event);
  }
  return state;
}

}  // namespace leadflow::domain
