#include "leadflow/processors/intake_processor.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "leadflow/base/derived_id.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/channel_event_rules.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/identity.h"
#include "leadflow/domain/lead_aggregate.h"
#include "leadflow/domain/pipelines.h"
#include "leadflow/processors/command_processor.h"
#include "leadflow/processors/command_record.h"
#include "leadflow/processors/dead_letter.h"
#include "leadflow/storage/v1/storage.pb.h"
#include "leadflow/v1/commands.pb.h"

namespace leadflow::processors {
namespace {

std::string SeenKey(absl::string_view event_id) { return absl::StrCat("intake/seen/", event_id); }
std::string IdentityKey(absl::string_view key) { return absl::StrCat("intake/identity/", key); }
std::string LeadKeysKey(absl::string_view lead_id) {
  return absl::StrCat("intake/lead-keys/", lead_id);
}

// "phone" of "phone:+7…": the kind of contact point a key is of.
absl::string_view KindOf(absl::string_view identity_key) {
  return identity_key.substr(0, identity_key.find(':'));
}

// A command from the API (CreateLead of a person with a phone, email or
// messenger) rather than a channel event: the gateway marks it by type.
bool IsCommandRecord(const log::Record& record) {
  return record.HeaderValue("ce_type") == "leadflow.v1.Command";
}

}  // namespace

absl::Status IntakeProcessor::Restore(const log::Record& record, ProcessorTransaction& txn) {
  storage::v1::IntakeResolution resolution;
  LEADFLOW_RETURN_IF_ERROR(ParseProto(record.value, &resolution, "intake changelog record"));
  return Apply(resolution, txn);
}

absl::StatusOr<std::optional<std::vector<std::string>>> IntakeProcessor::KnownKeysOf(
    ProcessorTransaction& txn, const std::string& lead_id) const {
  LEADFLOW_ASSIGN_OR_RETURN(auto stored, txn.Get(store::Keyspace::kState, LeadKeysKey(lead_id)));
  if (!stored.has_value()) return std::optional<std::vector<std::string>>();
  storage::v1::LeadIdentityKeys known;
  LEADFLOW_RETURN_IF_ERROR(ParseProto(*stored, &known, "lead identity keys"));
  return std::optional<std::vector<std::string>>(
      std::vector<std::string>(known.keys().begin(), known.keys().end()));
}

absl::StatusOr<std::vector<std::string>> IntakeProcessor::HeldKeysOf(
    ProcessorTransaction& txn, const std::string& lead_id, const v1::Lead* projected) const {
  LEADFLOW_ASSIGN_OR_RETURN(auto known, KnownKeysOf(txn, lead_id));
  if (known.has_value()) return *std::move(known);
  std::optional<v1::Lead> read;
  if (projected == nullptr) {
    LEADFLOW_ASSIGN_OR_RETURN(read, leads_->Get(lead_id));
    if (!read.has_value()) return std::vector<std::string>();
    projected = &*read;
  }
  return std::vector<std::string>(projected->identity_keys().begin(),
                                  projected->identity_keys().end());
}

absl::Status IntakeProcessor::Apply(const storage::v1::IntakeResolution& resolution,
                                    ProcessorTransaction& txn) const {
  const store::Keyspace state = store::Keyspace::kState;
  const std::string& lead_id = resolution.lead_id();
  txn.Put(state, SeenKey(resolution.event_id()), lead_id);
  for (const auto& key : resolution.claimed_identity_keys()) {
    txn.Put(state, IdentityKey(key), lead_id);
  }
  for (const auto& key : resolution.released_identity_keys()) {
    LEADFLOW_ASSIGN_OR_RETURN(auto claim, txn.Get(state, IdentityKey(key)));
    if (claim.has_value() && *claim == lead_id) txn.Delete(state, IdentityKey(key));
  }
  // Most resolutions attach a channel event to a lead and change no keys.
  if (lead_id.empty() ||
      (resolution.claimed_identity_keys_size() == 0 &&
       resolution.released_identity_keys_size() == 0 && !resolution.new_lead())) {
    return absl::OkStatus();
  }
  std::optional<std::vector<std::string>> known;
  if (resolution.new_lead()) {
    known.emplace();
  } else {
    LEADFLOW_ASSIGN_OR_RETURN(known, KnownKeysOf(txn, lead_id));
    // A lead made before the resolver kept its keys: the read model knows.
    if (!known.has_value()) return absl::OkStatus();
  }
  storage::v1::LeadIdentityKeys record;
  for (const auto& key : *known) {
    const auto& released = resolution.released_identity_keys();
    if (std::find(released.begin(), released.end(), key) == released.end()) record.add_keys(key);
  }
  for (const auto& key : resolution.claimed_identity_keys()) {
    if (std::find(record.keys().begin(), record.keys().end(), key) == record.keys().end()) {
      record.add_keys(key);
    }
  }
  txn.Put(state, LeadKeysKey(lead_id), SerializeDeterministic(record));
  return absl::OkStatus();
}

absl::Status IntakeProcessor::Resolve(const storage::v1::IntakeResolution& resolution,
                                      ProcessorTransaction& txn) const {
  LEADFLOW_RETURN_IF_ERROR(Apply(resolution, txn));
  if (txn.keeps_changelogs()) {
    log::OutgoingRecord changelog;
    changelog.topic = std::string(log::kIntakeStateTopic);
    changelog.key = resolution.event_id();
    changelog.value = SerializeDeterministic(resolution);
    txn.Emit(std::move(changelog));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ChannelEvent> DecodeChannelEvent(const log::Record& record) {
  v1::ChannelEvent event;
  if (absl::StartsWith(record.HeaderValue("content-type"), "application/json")) {
    LEADFLOW_RETURN_IF_ERROR(FromJson(record.value, &event));
  } else {
    LEADFLOW_RETURN_IF_ERROR(ParseProto(record.value, &event, "record value"));
  }
  return event;
}

IntakeProcessor::IntakeProcessor(const LeadReadModel* leads, const ItemReadModel* clients,
                                 domain::DomainConfig config, int32_t partitions)
    : leads_(leads), clients_(clients), config_(std::move(config)), partitions_(partitions) {}

absl::StatusOr<std::optional<std::pair<std::string, std::string>>> IntakeProcessor::FindOpenLead(
    ProcessorTransaction& txn, const std::vector<std::string>& keys, absl::string_view except,
    std::vector<ClosedClaim>* closed) {
  for (const auto& key : keys) {
    auto is_open = [this, &key, &txn](const std::string& lead_id,
                                      const std::optional<v1::Lead>& lead) -> absl::StatusOr<bool> {
      // Not projected yet: it was created moments ago, so it is open.
      if (!lead.has_value()) return true;
      if (domain::IsTerminal(lead->status_semantic())) return false;
      // A key the lead gave up since (its phone changed) is no match.
      LEADFLOW_ASSIGN_OR_RETURN(const auto held, HeldKeysOf(txn, lead_id, &*lead));
      return std::find(held.begin(), held.end(), key) != held.end();
    };
    LEADFLOW_ASSIGN_OR_RETURN(auto own, txn.Get(store::Keyspace::kState, IdentityKey(key)));
    if (own.has_value() && *own != except) {
      LEADFLOW_ASSIGN_OR_RETURN(std::optional<v1::Lead> lead, NewestLead(txn, *own));
      LEADFLOW_ASSIGN_OR_RETURN(bool open, is_open(*own, lead));
      if (open) return std::optional<std::pair<std::string, std::string>>({*own, key});
      if (closed != nullptr && lead.has_value() && domain::IsTerminal(lead->status_semantic())) {
        closed->push_back({key, *own, *std::move(lead)});
      }
    }
    // A page at a time: a number shared by thousands of closed leads (a
    // switchboard) is not read into memory whole, and the first open lead
    // ends the search.
    constexpr size_t kPage = 64;
    std::string after;
    while (true) {
      LEADFLOW_ASSIGN_OR_RETURN(auto indexed, leads_->FindByIdentity(key, after, kPage));
      for (const auto& lead_id : indexed) {
        if (lead_id == except) continue;
        LEADFLOW_ASSIGN_OR_RETURN(std::optional<v1::Lead> lead, NewestLead(txn, lead_id));
        LEADFLOW_ASSIGN_OR_RETURN(bool open, is_open(lead_id, lead));
        if (open) return std::optional<std::pair<std::string, std::string>>({lead_id, key});
      }
      if (indexed.size() < kPage) break;
      after = indexed.back();
    }
  }
  return std::optional<std::pair<std::string, std::string>>();
}

absl::StatusOr<std::optional<v1::Lead>> IntakeProcessor::NewestLead(
    ProcessorTransaction& txn, const std::string& lead_id) const {
  LEADFLOW_ASSIGN_OR_RETURN(auto decided, LoadAggregateState(txn, "lead", lead_id));
  std::optional<v1::Lead> lead;
  if (decided.has_value() && decided->has_lead()) lead = std::move(*decided->mutable_lead());
  // Deciding inline, this instance holds every lead's state, current.
  if (lead.has_value() && decider_ != nullptr) return lead;
  LEADFLOW_ASSIGN_OR_RETURN(auto projected, leads_->Get(lead_id));
  if (projected.has_value() && (!lead.has_value() || projected->version() > lead->version())) {
    return projected;
  }
  return lead;
}

absl::StatusOr<std::optional<v1::ClientMatch>> IntakeProcessor::ClaimedClientOf(
    ProcessorTransaction& txn, const std::vector<ClosedClaim>& closed) const {
  for (const ClosedClaim& claim : closed) {
    const v1::Lead& lead = claim.lead;
    if (lead.contact_id().empty() && lead.company_id().empty()) continue;
    // A key the lead gave up since (its phone changed) is no match.
    LEADFLOW_ASSIGN_OR_RETURN(const auto held, HeldKeysOf(txn, claim.lead_id, &lead));
    if (std::find(held.begin(), held.end(), claim.key) == held.end()) continue;
    v1::ClientMatch match;
    match.set_contact_id(lead.contact_id());
    match.set_company_id(lead.company_id());
    match.set_responsible_id(lead.responsible_id());
    match.set_matched_on(std::string(KindOf(claim.key)));
    return std::optional<v1::ClientMatch>(std::move(match));
  }
  return std::optional<v1::ClientMatch>();
}

absl::StatusOr<v1::ClientMatch> IntakeProcessor::ClientOf(ProcessorTransaction& txn,
                                                          const std::vector<ClosedClaim>& closed,
                                                          const v1::Lead& described) const {
  LEADFLOW_ASSIGN_OR_RETURN(auto claimed, ClaimedClientOf(txn, closed));
  if (claimed.has_value()) return *std::move(claimed);
  return clients_->FindClient(described);
}

absl::Status IntakeProcessor::Process(const std::vector<log::Record>& batch,
                                      ProcessorTransaction& txn) {
  const store::Keyspace state = store::Keyspace::kState;
  if (decider_ != nullptr) decider_->Begin();
  // As the command processor does per batch: pipeline changes apply to
  // what is decided after their event is projected here.
  decide_config_ = config_;
  LEADFLOW_ASSIGN_OR_RETURN(decide_config_.pipelines, clients_->Pipelines());
  for (const auto& record : batch) {
    if (IsCommandRecord(record)) {
      LEADFLOW_RETURN_IF_ERROR(ProcessCommand(record, txn));
      continue;
    }
    absl::StatusOr<v1::ChannelEvent> decoded = DecodeChannelEvent(record);
    absl::StatusOr<v1::ChannelEvent> event =
        decoded.ok() ? domain::NormalizeChannelEvent(*decoded, config_) : decoded.status();
    if (!event.ok()) {
      txn.Emit(DeadLetter(record, Name(), event.status().message()));
      ++dead_letters_;
      continue;
    }
    const std::string routing_key = domain::IntakeRoutingKey(*event);
    if (log::PartitionForKey(routing_key, partitions_) != record.partition) {
      txn.Emit(ForwardedRecord(record, routing_key));
      ++forwarded_;
      continue;
    }
    LEADFLOW_ASSIGN_OR_RETURN(auto seen, txn.Get(state, SeenKey(event->id())));
    if (seen.has_value()) continue;
    if (!event->has_occur_time()) {
      *event->mutable_occur_time() = ToTimestamp(absl::FromUnixMillis(record.timestamp_ms));
    }
    v1::Lead described = domain::LeadFromChannelEvent(*event);
    const std::vector<std::string> keys = domain::LeadIdentityKeys(described);
    std::vector<ClosedClaim> closed;
    LEADFLOW_ASSIGN_OR_RETURN(auto open_lead, FindOpenLead(txn, keys, "", &closed));
    std::optional<std::string> existing;
    if (open_lead.has_value()) existing = open_lead->first;

    v1::Command command;
    command.set_command_id(absl::StrCat("intake:", event->id()));
    command.set_aggregate_id(existing.has_value() ? *existing : DeriveId("ld", event->id()));
    *command.mutable_issue_time() = event->occur_time();
    command.set_actor("intake");
    command.set_causation_id(event->id());
    command.set_correlation_id(event->id());
    if (existing.has_value()) {
      *command.mutable_record_communication()->mutable_channel_event() = *event;
    } else {
      LEADFLOW_ASSIGN_OR_RETURN(v1::ClientMatch client, ClientOf(txn, closed, described));
      *command.mutable_create_lead()->mutable_lead() = std::move(described);
      *command.mutable_create_lead()->mutable_origin() = *event;
      if (!client.matched_on().empty()) {
        *command.mutable_create_lead()->mutable_client() = std::move(client);
      }
    }
    storage::v1::IntakeResolution resolution;
    resolution.set_event_id(event->id());
    resolution.set_lead_id(command.aggregate_id());
    // A new lead takes every key; a known one only the keys no lead has yet.
    for (const auto& key : keys) {
      if (existing.has_value()) {
        LEADFLOW_ASSIGN_OR_RETURN(auto mapped, txn.Get(state, IdentityKey(key)));
        if (mapped.has_value()) continue;
      }
      resolution.add_claimed_identity_keys(key);
    }
    resolution.set_new_lead(!existing.has_value());
    LEADFLOW_RETURN_IF_ERROR(Resolve(resolution, txn));
    if (decider_ == nullptr) {
      txn.Emit(CommandRecord(command, "leadflow/intake"));
      continue;
    }
    LEADFLOW_ASSIGN_OR_RETURN(v1::CommandOutcome outcome,
                              DecideAndApply(command, decide_config_, txn));
    if (outcome.code() != 0) {
      // Kept where the command processor keeps a refusal, by command id.
      txn.Put(state, CommandProcessor::OutcomeKey(command.command_id()),
              SerializeDeterministic(outcome));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> PersonKeysOf(const v1::Command& command,
                                                      const domain::DomainConfig& config,
                                                      const LeadReadModel& leads) {
  if (command.has_reopen_lead()) {
    LEADFLOW_ASSIGN_OR_RETURN(auto lead, leads.Get(command.aggregate_id()));
    if (!lead.has_value()) return std::vector<std::string>();
    return std::vector<std::string>(lead->identity_keys().begin(), lead->identity_keys().end());
  }
  v1::Lead points;
  if (command.has_create_lead()) {
    points = command.create_lead().lead();
  } else if (command.has_update_lead()) {
    const v1::UpdateLead& update = command.update_lead();
    for (const auto& path : update.update_mask().paths()) {
      if (path == "phones") *points.mutable_phones() = update.lead().phones();
      if (path == "emails") *points.mutable_emails() = update.lead().emails();
      if (path == "messengers") *points.mutable_messengers() = update.lead().messengers();
    }
  } else {
    return std::vector<std::string>();
  }
  if (!domain::NormalizeLead(&points, "lead.", config).ok()) return std::vector<std::string>();
  return domain::LeadIdentityKeys(points);
}

absl::Status IntakeProcessor::ProcessCommand(const log::Record& record, ProcessorTransaction& txn) {
  v1::Command command;
  absl::Status parsed = ParseProto(record.value, &command, "record value");
  if (parsed.ok() &&
      ((!command.has_create_lead() && !command.has_update_lead() && !command.has_reopen_lead()) ||
       command.command_id().empty())) {
    parsed = domain::InvalidField(
        "command", "intake takes CreateLead, UpdateLead and ReopenLead commands with an id only");
  }
  if (!parsed.ok()) {
    txn.Emit(DeadLetter(record, Name(), parsed.message()));
    ++dead_letters_;
    return absl::OkStatus();
  }
  // The gateway keyed it by the person's first identity key.
  LEADFLOW_ASSIGN_OR_RETURN(const std::vector<std::string> keys,
                            PersonKeysOf(command, config_, *leads_));
  if (!keys.empty() && log::PartitionForKey(keys.front(), partitions_) != record.partition) {
    txn.Emit(ForwardedRecord(record, keys.front()));
    ++forwarded_;
    return absl::OkStatus();
  }
  const store::Keyspace state = store::Keyspace::kState;
  LEADFLOW_ASSIGN_OR_RETURN(auto seen, txn.Get(state, SeenKey(command.command_id())));
  // A command seen before (a retry) is answered again as it was: only its
  // first pass resolves the person.
  bool other_lead = false;
  if (!seen.has_value() && !keys.empty()) {
    std::vector<ClosedClaim> closed;
    LEADFLOW_ASSIGN_OR_RETURN(auto open_lead,
                              FindOpenLead(txn, keys, command.aggregate_id(), &closed));
    if (open_lead.has_value()) {
      other_lead = true;
      v1::PersonOpenLead* open =
          command.has_create_lead()   ? command.mutable_create_lead()->mutable_open_lead()
          : command.has_update_lead() ? command.mutable_update_lead()->mutable_open_lead()
                                      : command.mutable_reopen_lead()->mutable_open_lead();
      open->set_lead_id(open_lead->first);
      open->set_identity_key(open_lead->second);
    } else if (command.has_create_lead() && command.create_lead().client().matched_on().empty()) {
      // The gateway matched no client in the read models; a conversion
      // they have not caught up with may have made one.
      LEADFLOW_ASSIGN_OR_RETURN(auto client, ClaimedClientOf(txn, closed));
      if (client.has_value()) *command.mutable_create_lead()->mutable_client() = *std::move(client);
    }
  }
  bool claims = false;
  if (decider_ != nullptr) {
    // Intake's runner holds the command processor's writer lock: deciding
    // here keeps one writer per aggregate.
    LEADFLOW_ASSIGN_OR_RETURN(
        claims,
        decider_->Answer(command, absl::FromUnixMillis(record.timestamp_ms), decide_config_, txn));
  } else {
    // The command processor decides it. A new lead's keys are claimed only
    // if it will be created (the rules are pure, the same there); an
    // update's or a reopen's unless another open lead holds them, before
    // the aggregate has decided (docs/architecture.md, "Known limits").
    claims = command.has_create_lead() ? domain::Decide(nullptr, command, decide_config_).ok()
                                       : !other_lead;
    txn.Emit(CommandRecord(command, "leadflow/api"));
  }
  if (seen.has_value()) return absl::OkStatus();
  storage::v1::IntakeResolution resolution;
  resolution.set_event_id(command.command_id());
  if (claims) {
    resolution.set_lead_id(command.aggregate_id());
    resolution.set_new_lead(command.has_create_lead());
    for (const auto& key : keys) resolution.add_claimed_identity_keys(key);
    if (command.has_update_lead()) {
      // The lead gives up its keys of the kinds the update replaced that
      // are not among the new ones.
      std::vector<std::string> replaced;
      for (const auto& path : command.update_lead().update_mask().paths()) {
        if (path == "phones") replaced.push_back("phone");
        if (path == "emails") replaced.push_back("email");
        if (path == "messengers") replaced.push_back("messenger");
      }
      LEADFLOW_ASSIGN_OR_RETURN(const auto held, HeldKeysOf(txn, command.aggregate_id()));
      for (const auto& key : held) {
        const bool kind_replaced =
            std::find(replaced.begin(), replaced.end(), KindOf(key)) != replaced.end();
        if (kind_replaced && std::find(keys.begin(), keys.end(), key) == keys.end()) {
          resolution.add_released_identity_keys(key);
        }
      }
    }
  }
  return Resolve(resolution, txn);
}

void IntakeProcessor::AfterCommit(int32_t partition, int64_t next_offset,
                                  const std::vector<log::Position>& outputs) {
  if (decider_ != nullptr) decider_->Publish();
}

}  // namespace leadflow::processors
