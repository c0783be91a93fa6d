#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "leadflow/domain/domain_config.h"
#include "leadflow/processors/command_processor.h"
#include "leadflow/processors/item_read_model.h"
#include "leadflow/processors/lead_read_model.h"
#include "leadflow/processors/processor.h"
#include "leadflow/v1/channel_event.pb.h"

namespace leadflow::storage::v1 {
class IntakeResolution;
}

namespace leadflow::processors {

// Turns channel events into lead commands. Intake is keyed by the person's
// identity, so one person's events meet this resolver in order. For each:
//  - undecodable or invalid → dead-letter topic with the reason;
//  - on another partition than its person's (a producer whose partitioner
//    is not murmur2, such as kcat's and librdkafka's default) → forwarded
//    there, so one person's events never meet two resolvers;
//  - an id seen before → nothing (idempotent);
//  - a phone/email/handle of an open lead → RecordCommunication on it;
//  - otherwise → CreateLead with an id derived from the event id.
// CreateLead from the API for a person with a phone, email or messenger
// comes here too (a leadflow.v1.Command record, keyed by the person's first
// identity key), so that every new lead claims its person's identities
// through this one writer: when the person has an open lead, the command
// carries it (CreateLead.open_lead) and is refused ALREADY_EXISTS; else the
// new lead claims the keys before any later event of the person is read.
// State (keyspace `state`): intake/seen/<event id> → lead id and
// intake/identity/<key> → lead id; the read model is asked too, for leads
// created elsewhere (gRPC, other partitions) and for their status. Each
// resolution is also written to leadflow.intake-state.v1, the changelog the
// state of a partition is rebuilt from.
class IntakeProcessor final : public Processor {
 public:
  // `clients`: where contacts and companies are found, to mark a new lead
  // from a known client as a repeat lead.
  // `partitions`: of the intake topic, to check each event is on its
  // person's partition.
  IntakeProcessor(const LeadReadModel* leads, const ItemReadModel* clients,
                  domain::DomainConfig config, int32_t partitions);

  std::string Name() const override { return "intake"; }
  std::string InputTopic() const override { return std::string(log::kIntakeTopic); }
  store::Keyspace StateKeyspace() const override { return store::Keyspace::kState; }
  absl::Status Process(const std::vector<log::Record>& batch, ProcessorTransaction& txn) override;
  std::vector<std::string> ChangelogTopics() const override {
    return {std::string(log::kIntakeStateTopic)};
  }
  absl::Status Restore(const log::Record& record, ProcessorTransaction& txn) override;
  void AfterCommit(int32_t partition, int64_t next_offset,
                   const std::vector<log::Position>& outputs) override;

  // Dead letters written since start.
  int64_t dead_letters() const { return dead_letters_.load(); }
  // Events forwarded to their person's partition since start.
  int64_t forwarded() const { return forwarded_.load(); }

  // On a single instance (the embedded engine, which holds every partition)
  // intake decides the command it makes for a channel event at once, in its
  // own unit (DecideAndApply), instead of appending it to the commands topic
  // for the command processor: one log hop, one record and one stored
  // outcome less per channel event, and the lead is there when intake's
  // unit commits. Its runner must then share the command processor's writer
  // lock (ProcessorRunner::ShareWriterLock). On Kafka intake and the
  // aggregates are partitioned by different keys, so the hop stays.
  // The API's CreateLead and UpdateLead commands are answered as the command processor
  // answers them, their outcomes handed to `outcomes` after each commit.
  void DecideInline(CommandOutcomes* outcomes) {
    decider_ = std::make_unique<CommandDecider>(outcomes);
  }

 private:
  absl::Status Apply(const storage::v1::IntakeResolution& resolution,
                     ProcessorTransaction& txn) const;
  // Apply, and the changelog record of it where the log keeps changelogs.
  absl::Status Resolve(const storage::v1::IntakeResolution& resolution,
                       ProcessorTransaction& txn) const;
  // The keys the resolver knows `lead_id` holds; nullopt for a lead made
  // before it kept them (the read model knows).
  absl::StatusOr<std::optional<std::vector<std::string>>> KnownKeysOf(
      ProcessorTransaction& txn, const std::string& lead_id) const;
  // The keys `lead_id` holds: the resolver's record, current; else (a lead
  // made before it kept one) the read model's, `projected` when the caller
  // has read it already, which may lag.
  absl::StatusOr<std::vector<std::string>> HeldKeysOf(ProcessorTransaction& txn,
                                                      const std::string& lead_id,
                                                      const v1::Lead* projected = nullptr) const;
  // A key of the person claimed by a lead that is closed (converted,
  // junk), as FindOpenLead read it.
  struct ClosedClaim {
    std::string key;
    std::string lead_id;
    v1::Lead lead;
  };
  // The person's open lead and the identity key that found it, if any,
  // other than `except` (the lead a command is for: its own keys are no
  // other lead's). `closed`, when given, gets the person's claims held by
  // closed leads, in key order, for ClaimedClientOf.
  absl::StatusOr<std::optional<std::pair<std::string, std::string>>> FindOpenLead(
      ProcessorTransaction& txn, const std::vector<std::string>& keys,
      absl::string_view except = "", std::vector<ClosedClaim>* closed = nullptr);
  // The lead as the newer of its deciding state (the command processor's,
  // current where this instance decides the lead's commands; on Kafka
  // elsewhere as far as restore or the warm standby brought it) and the
  // read model has it, by version: a lead converted or closed a moment ago
  // is closed, however far the projection lags. nullopt: neither has it
  // (created a moment ago).
  absl::StatusOr<std::optional<v1::Lead>> NewestLead(ProcessorTransaction& txn,
                                                     const std::string& lead_id) const;
  // The client (contact and/or company) of a closed lead the person's keys
  // are claimed by — one converted, or one made for a known client — as
  // NewestLead read it, not the read models alone: a request right after a
  // conversion finds the new contact however far the projection and the
  // follow-ups lag. nullopt when no such lead has a client.
  absl::StatusOr<std::optional<v1::ClientMatch>> ClaimedClientOf(
      ProcessorTransaction& txn, const std::vector<ClosedClaim>& closed) const;
  // ClaimedClientOf, else the read models' match (a client made some other
  // way: by hand, by import).
  absl::StatusOr<v1::ClientMatch> ClientOf(ProcessorTransaction& txn,
                                           const std::vector<ClosedClaim>& closed,
                                           const v1::Lead& described) const;
  absl::Status ProcessCommand(const log::Record& record, ProcessorTransaction& txn);

  const LeadReadModel* leads_;
  const ItemReadModel* clients_;
  const domain::DomainConfig config_;
  // Set when intake decides inline.
  std::unique_ptr<CommandDecider> decider_;
  // config_ with the pipelines of the batch in flight.
  domain::DomainConfig decide_config_;
  std::atomic<int64_t> dead_letters_{0};
  std::atomic<int64_t> forwarded_{0};
  const int32_t partitions_;
};

// Decodes a channel event record: protobuf by default, protobuf's JSON
// mapping when its content-type header says application/json.
absl::StatusOr<v1::ChannelEvent> DecodeChannelEvent(const log::Record& record);

// The identity keys of the person a lead command is about, which route it
// to the person's resolver: a CreateLead's, those an UpdateLead gives its
// lead (its mask names phones, emails or messengers), and for a ReopenLead
// those the lead holds (from `leads`). Empty for any other command, and for
// contact points that do not normalise (the command is refused where it
// is decided).
absl::StatusOr<std::vector<std::string>> PersonKeysOf(const v1::Command& command,
                                                      const domain::DomainConfig& config,
                                                      const LeadReadModel& leads);

}  // namespace leadflow::processors
