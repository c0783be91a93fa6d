#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "leadflow/log/kafka_client_config.h"
#include "leadflow/log/log.h"
#include "leadflow/store/state_store.h"

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_conf_s rd_kafka_conf_t;

namespace leadflow::log {

// The Kafka engine (librdkafka). Appends go through one idempotent,
// transactional producer, and each Append / AppendWithState lands whole in
// one Kafka transaction, so readers (isolation.level=read_committed) see all
// of its records or none. Readers are consumers with a manual assignment.
//
// Group commit: a transaction costs several broker round trips, so appends
// that arrive while one is running wait, and the next transaction carries
// all of them (the first in line leads it). When such a shared transaction
// aborts, each of its appends is redone alone, so one that cannot succeed
// (a record too large, a member fenced by a rebalance) fails by itself. An
// append redone so has its `complete` and `before_write` called again, with
// the positions of the retry; the local batch then holds the writes of both
// calls in order, so a hook must write the same keys whatever the positions
// (the later value wins).
//
// Group readers are consumer-group members; AppendWithState sends their
// input offsets to the transaction (consume-process-produce), so outputs
// and input progress commit together, and a member fenced by a rebalance
// cannot commit. The local state batch is written after the commit; a
// crash in between leaves local state behind Kafka, which ProcessorRunner
// repairs by replaying the processor's changelog topics from its local
// checkpoint before it takes the partition again.
class KafkaLog final : public Log {
 public:
  struct Options {
    std::string bootstrap_servers;
    std::vector<TopicSpec> topics;
    // Unique per running instance; a new producer with the same id fences
    // the old one (a restarted instance takes over cleanly).
    std::string transactional_id = "leadflowd";
    int replication_factor = 1;
    absl::Duration timeout = absl::Seconds(30);
    // A member that stops heartbeating this long loses its partitions.
    absl::Duration session_timeout = absl::Seconds(10);
    // The broker aborts a transaction left open this long (a producer that
    // died mid-transaction); read_committed readers wait on it until then.
    absl::Duration transaction_timeout = absl::Seconds(10);
    // The largest record the brokers take (their message.max.bytes; the
    // producer's too). A bigger one is refused before it is sent, as
    // unwritable (IsUnwritable).
    size_t max_record_bytes = 1000000;
    // Added to every client's settings (security, tuning): what
    // ReadKafkaClientConfig read from --kafka-config.
    KafkaClientSettings client_settings;
  };

  // Connects, checks (or creates, through the admin API) the topics, and
  // initialises transactions. `db` may be nullptr when no caller uses
  // AppendWithState with local state.
  static absl::StatusOr<std::unique_ptr<KafkaLog>> Open(store::StateStore* db, Options options);
  ~KafkaLog() override;

  std::string EngineName() const override { return "kafka"; }
  bool KeepsChangelogs() const override { return true; }
  absl::Status Health() const override;
  // The latest transaction's trouble (brokers away, the producer fenced),
  // until one commits; records refused as unwritable are not trouble.
  absl::Status Readiness() const override;
  int32_t PartitionCount(absl::string_view topic) const override;
  using Log::Append;
  absl::StatusOr<std::vector<Position>> Append(std::vector<OutgoingRecord> records,
                                               absl::Time deadline) override;
  absl::StatusOr<std::vector<Position>> AppendWithState(std::vector<OutgoingRecord> records,
                                                        store::StateBatch* local_state,
                                                        const BeforeWrite& before_write,
                                                        const InputProgress* input) override;
  absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(
      absl::string_view topic, const std::vector<int64_t>& start) const override;
  absl::StatusOr<std::unique_ptr<LogReader>> OpenPartitionReader(absl::string_view topic,
                                                                 int32_t partition,
                                                                 int64_t offset) const override;
  absl::StatusOr<std::unique_ptr<GroupReader>> OpenGroupReader(
      absl::string_view topic, absl::string_view group, RebalanceListener* listener) override;
  // The partition's high watermark. Kafka counts transaction markers as
  // offsets, so it can be ahead of the last record by one per transaction.
  absl::StatusOr<int64_t> EndOffset(absl::string_view topic, int32_t partition) const override;

  // Counts since Open, to see how well appends group.
  struct TransactionStats {
    int64_t transactions = 0;   // committed, shared or alone
    int64_t appends = 0;        // appends those carried
    int64_t retried_alone = 0;  // shared transactions that aborted and were redone append by append
  };
  TransactionStats Stats() const;

  // librdkafka's own statistics of one client of this process (its
  // statistics.interval.ms JSON, every 5 s unless --kafka-config says
  // otherwise; 0 turns them off), as last reported.
  struct ClientStatistics {
    std::string type;                                  // producer | consumer
    double queue_messages = 0;                         // msg_cnt: waiting in the client's queues
    double queue_bytes = 0;                            // msg_size
    double tx_messages = 0;                            // txmsgs: produced, all time
    double rx_messages = 0;                            // rxmsgs: fetched, all time
    double tx_errors = 0;                              // txerrs: failed requests
    std::map<std::string, double> broker_rtt_seconds;  // by broker name: average round trip
  };
  // By client name ("rdkafka#producer-1"), every client of the process.
  static std::map<std::string, ClientStatistics> ClientStatisticsSnapshot();

 private:
  // One append waiting in line for a transaction.
  struct Writer;

  KafkaLog(store::StateStore* db, Options options) : db_(db), options_(std::move(options)) {}

  absl::StatusOr<rd_kafka_t*> NewConsumer(
      absl::string_view group, const std::vector<std::pair<std::string, std::string>>& extra,
      void (*configure)(rd_kafka_conf_t*, void*), void* opaque) const;
  absl::StatusOr<std::unique_ptr<LogReader>> OpenManualReader(
      absl::string_view topic, std::vector<int64_t> next, std::vector<int32_t> partitions) const;
  // Waits in line with `self` (records or input to commit), leading the
  // transaction when first in line; `self`'s outcome.
  // Waits in line for a transaction that carries `self`; gives up at
  // self.deadline if no transaction has taken it by then.
  absl::Status JoinGroupCommit(Writer& self);
  absl::StatusOr<std::vector<Position>> AppendUntil(std::vector<OutgoingRecord> records,
                                                    store::StateBatch* local_state,
                                                    const BeforeWrite& before_write,
                                                    const InputProgress* input,
                                                    absl::Time deadline);
  // Runs the transactions of the group `writers` (the queue's front, led by
  // the caller) and sets each writer's outcome.
  void RunGroup(const std::vector<Writer*>& writers) ABSL_EXCLUSIVE_LOCKS_REQUIRED(txn_mu_);
  // One transaction carrying `writers` (each with records or input). Sets
  // *aborted when it failed and was cleanly aborted: nothing of it visible,
  // the producer ready for the next one.
  absl::Status Transact(const std::vector<Writer*>& writers, bool* aborted)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(txn_mu_);
  absl::Status Produce(OutgoingRecord& record, void* slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(txn_mu_);
  // Produces `record` with `producer` (its delivery report gets `opaque`).
  absl::Status ProduceWith(rd_kafka_t* producer, OutgoingRecord& record, void* opaque);
  // One record through the plain (idempotent, non-transactional) producer,
  // waiting for its acknowledgement.
  absl::StatusOr<std::vector<Position>> AppendOne(OutgoingRecord& record, absl::Time deadline);
  // Keeps a write's outcome for Readiness (unwritable records aside).
  void RememberWrite(const absl::Status& status);
  // Stats: one transaction committed, carrying `appends` appends.
  void CountCommitted(int64_t appends);
  // Returns `why` once the transaction is aborted (and sets *aborted, when
  // given), else the error that kept it from aborting.
  absl::Status Abort(absl::Status why, bool* aborted) ABSL_EXCLUSIVE_LOCKS_REQUIRED(txn_mu_);
  // Commits the open transaction, retrying what may be retried. On an
  // unknown outcome the transaction stays open (commit_pending_) and the
  // next transaction finishes it first, so the producer never stays stuck.
  // *aborted as for Abort, when the commit turned into an abort.
  absl::Status Commit(bool* aborted) ABSL_EXCLUSIVE_LOCKS_REQUIRED(txn_mu_);

  store::StateStore* const db_;
  const Options options_;
  std::map<std::string, int32_t, std::less<>> partitions_;
  // Connected to librdkafka's mock cluster (leadflow-dev-broker), whose
  // fetches wait differently (see kMockFetchWait).
  bool mock_cluster_ = false;
  // Appends with records or input in line; the front one leads the
  // transaction of all of them. Never held with txn_mu_, so that appends
  // join the line while a transaction runs.
  absl::Mutex queue_mu_;
  std::deque<Writer*> queue_ ABSL_GUARDED_BY(queue_mu_);
  // The producer's transaction state: held by the leader of a group only.
  absl::Mutex txn_mu_;
  rd_kafka_t* producer_ = nullptr;
  // For appends of a single record with nothing beside it (Append).
  rd_kafka_t* plain_producer_ = nullptr;
  bool commit_pending_ ABSL_GUARDED_BY(txn_mu_) = false;
  // Delivery slots of transactions that returned with reports still due
  // (an abort timed out); freed once nothing is in flight.
  std::vector<std::shared_ptr<void>> in_flight_slots_ ABSL_GUARDED_BY(txn_mu_);
  mutable absl::Mutex stats_mu_;
  TransactionStats stats_ ABSL_GUARDED_BY(stats_mu_);
  absl::Status last_write_ ABSL_GUARDED_BY(stats_mu_);
};

}  // namespace leadflow::log
