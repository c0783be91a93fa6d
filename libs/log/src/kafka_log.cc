#include "leadflow/log/kafka_log.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/functional/function_ref.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "leadflow/base/logger.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/metrics/registry.h"

namespace leadflow::log {
namespace {

int Millis(absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); }

// How long a broker may hold a fetch that finds nothing new. Kafka answers
// a waiting fetch as soon as a record is there, so on a real cluster this
// only paces idle consumers. librdkafka's mock cluster (leadflow-dev-broker,
// tests) holds every empty fetch for the whole wait, records produced
// meanwhile included, so there the wait is the delay of every hop from
// producer to consumer: it gets a short one (about 4% of a core more idle
// polling on the dev broker, for ~4 ms less per hop).
constexpr absl::Duration kFetchWait = absl::Milliseconds(10);
constexpr absl::Duration kMockFetchWait = absl::Milliseconds(2);

// librdkafka's mock cluster names itself so.
constexpr absl::string_view kMockClusterIdPrefix = "mockCluster";

// How often a retriable transaction step is tried before giving up.
constexpr int kTxnAttempts = 10;

// The canonical code of a Kafka error: UNAVAILABLE only for what may pass
// by retrying (brokers away, leaders moving, timeouts); what will fail the
// same way again is not, so clients do not retry it.
absl::StatusCode CodeOf(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return absl::StatusCode::kInvalidArgument;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return absl::StatusCode::kNotFound;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
      return absl::StatusCode::kPermissionDenied;
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
      return absl::StatusCode::kUnauthenticated;
    default:
      return absl::StatusCode::kUnavailable;
  }
}

// A record the broker refuses as it is is unwritable: retrying it cannot
// help, and a processor takes its input out of the way (IsUnwritable).
absl::Status KafkaError(rd_kafka_resp_err_t err, absl::string_view message) {
  const absl::StatusCode code = CodeOf(err);
  absl::Status status(code, message);
  return code == absl::StatusCode::kInvalidArgument ? MarkUnwritable(std::move(status)) : status;
}

absl::Status FromKafka(rd_kafka_resp_err_t err, absl::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return KafkaError(err, absl::StrCat(what, ": ", rd_kafka_err2str(err)));
}

// Takes ownership of `error`. Fatal errors are INTERNAL (the producer is
// unusable; restart); the others as their code says (CodeOf).
absl::Status FromKafka(rd_kafka_error_t* error, absl::string_view what) {
  if (error == nullptr) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", rd_kafka_error_string(error));
  const bool fatal = rd_kafka_error_is_fatal(error);
  const rd_kafka_resp_err_t err = rd_kafka_error_code(error);
  rd_kafka_error_destroy(error);
  return fatal ? absl::InternalError(message) : KafkaError(err, message);
}

// What a record weighs against the producer's message.max.bytes, as
// librdkafka counts it (key, value and headers).
size_t RecordBytes(const OutgoingRecord& record) {
  size_t bytes = record.key.size() + record.value.size();
  for (const auto& header : record.headers) bytes += header.key.size() + header.value.size();
  return bytes;
}

absl::Status SetAll(rd_kafka_conf_t* conf,
                    const std::vector<std::pair<std::string, std::string>>& settings) {
  char error[512];
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(
          absl::StrCat("kafka config ", key, ": ",
                       IsSecretKafkaSetting(key) ? "value refused (not shown: a secret)" : error));
    }
  }
  return absl::OkStatus();
}

// The last statistics of each client, filled by librdkafka's stats_cb on
// the thread that polls the client.
struct StatisticsStore {
  absl::Mutex mu;
  std::map<std::string, KafkaLog::ClientStatistics> by_client ABSL_GUARDED_BY(mu);
};
StatisticsStore& Statistics() {
  static auto* store = new StatisticsStore();
  return *store;
}

double NumberAt(const google::protobuf::Struct& object, const std::string& key) {
  auto it = object.fields().find(key);
  return it == object.fields().end() ? 0 : it->second.number_value();
}

int OnStatistics(rd_kafka_t* client, char* json, size_t json_len, void* /*opaque*/) {
  google::protobuf::Struct root;
  if (!FromJson(absl::string_view(json, json_len), &root).ok()) return 0;
  KafkaLog::ClientStatistics stats;
  auto type = root.fields().find("type");
  if (type != root.fields().end()) stats.type = type->second.string_value();
  stats.queue_messages = NumberAt(root, "msg_cnt");
  stats.queue_bytes = NumberAt(root, "msg_size");
  stats.tx_messages = NumberAt(root, "txmsgs");
  stats.rx_messages = NumberAt(root, "rxmsgs");
  auto brokers = root.fields().find("brokers");
  if (brokers != root.fields().end()) {
    for (const auto& [name, broker] : brokers->second.struct_value().fields()) {
      const auto& fields = broker.struct_value();
      stats.tx_errors += NumberAt(fields, "txerrs");
      // The bootstrap entry is no broker of the cluster.
      if (absl::StrContains(name, "bootstrap")) continue;
      auto rtt = fields.fields().find("rtt");
      if (rtt == fields.fields().end()) continue;
      stats.broker_rtt_seconds[name] = NumberAt(rtt->second.struct_value(), "avg") / 1e6;
    }
  }
  StatisticsStore& store = Statistics();
  absl::MutexLock lock(&store.mu);
  store.by_client[rd_kafka_name(client)] = std::move(stats);
  return 0;  // librdkafka frees `json`
}

// Where a produced record's delivery report lands.
struct DeliverySlot {
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__IN_PROGRESS;
  int32_t partition = -1;
  int64_t offset = -1;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* slot = static_cast<DeliverySlot*>(message->_private);
  slot->err = message->err;
  slot->partition = message->partition;
  slot->offset = message->offset;
}

// The delivery report of a record of the plain producer. Its writer may
// have stopped waiting (its deadline passed), so the report and the writer
// share it.
struct PlainDelivery {
  absl::Mutex mu;
  bool done ABSL_GUARDED_BY(mu) = false;
  rd_kafka_resp_err_t err ABSL_GUARDED_BY(mu) = RD_KAFKA_RESP_ERR__IN_PROGRESS;
  int32_t partition ABSL_GUARDED_BY(mu) = -1;
  int64_t offset ABSL_GUARDED_BY(mu) = -1;
};

void OnPlainDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* holder = static_cast<std::shared_ptr<PlainDelivery>*>(message->_private);
  {
    PlainDelivery& delivery = **holder;
    absl::MutexLock lock(&delivery.mu);
    delivery.err = message->err;
    delivery.partition = message->partition;
    delivery.offset = message->offset;
    delivery.done = true;
  }
  delete holder;
}

// The input offsets of one transaction, per consumer-group member: each
// member's go to the transaction in one send, with that member's group
// metadata (a member the group has moved on from cannot commit).
class GroupOffsets {
 public:
  struct Member {
    rd_kafka_t* consumer;
    std::string group;
    rd_kafka_topic_partition_list_t* offsets;
  };

  GroupOffsets() = default;
  GroupOffsets(const GroupOffsets&) = delete;
  GroupOffsets& operator=(const GroupOffsets&) = delete;
  ~GroupOffsets() {
    for (Member& member : members_) rd_kafka_topic_partition_list_destroy(member.offsets);
  }

  void Add(rd_kafka_t* consumer, const GroupReader& reader, int32_t partition, int64_t next) {
    auto it = std::find_if(members_.begin(), members_.end(),
                           [consumer](const Member& m) { return m.consumer == consumer; });
    if (it == members_.end()) {
      members_.push_back({consumer, reader.group(), rd_kafka_topic_partition_list_new(1)});
      it = members_.end() - 1;
    }
    const char* topic = reader.topic().c_str();
    rd_kafka_topic_partition_t* entry =
        rd_kafka_topic_partition_list_find(it->offsets, topic, partition);
    if (entry == nullptr) entry = rd_kafka_topic_partition_list_add(it->offsets, topic, partition);
    // Two appends of one partition in one transaction: the later in line
    // carries the later progress.
    entry->offset = next;
  }

  const std::vector<Member>& members() const { return members_; }

 private:
  std::vector<Member> members_;
};

absl::Status CreateMissingTopics(rd_kafka_t* rk, const std::vector<TopicSpec>& topics,
                                 int replication_factor, absl::Duration timeout) {
  if (topics.empty()) return absl::OkStatus();
  char error[512];
  std::vector<rd_kafka_NewTopic_t*> new_topics;
  for (const auto& spec : topics) {
    rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions,
                                                       replication_factor, error, sizeof(error));
    if (topic == nullptr) {
      rd_kafka_NewTopic_destroy_array(new_topics.data(), new_topics.size());
      return absl::InvalidArgumentError(absl::StrCat("topic ", spec.name, ": ", error));
    }
    switch (spec.retention) {
      case TopicSpec::Retention::kBrokerDefault:
        break;
      case TopicSpec::Retention::kForever:
        rd_kafka_NewTopic_set_config(topic, "retention.ms", "-1");
        break;
      case TopicSpec::Retention::kCompacted:
        rd_kafka_NewTopic_set_config(topic, "cleanup.policy", "compact");
        break;
    }
    new_topics.push_back(topic);
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(options, Millis(timeout), error, sizeof(error));
  rd_kafka_CreateTopics(rk, new_topics.data(), new_topics.size(), options, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, Millis(timeout) + 1000);
  absl::Status status = absl::OkStatus();
  if (event == nullptr) {
    status = absl::DeadlineExceededError("creating topics: no answer from the brokers");
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = absl::UnavailableError(
        absl::StrCat("creating topics: ", rd_kafka_event_error_string(event)));
  } else {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
    for (size_t i = 0; i < count && status.ok(); ++i) {
      const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        status = absl::UnavailableError(absl::StrCat("creating topic ",
                                                     rd_kafka_topic_result_name(results[i]), ": ",
                                                     rd_kafka_err2str(err)));
      }
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy_array(new_topics.data(), new_topics.size());
  return status;
}

// Partition counts of the topics the cluster has.
absl::StatusOr<std::map<std::string, int32_t, std::less<>>> TopicPartitions(
    rd_kafka_t* rk, absl::Duration timeout) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &metadata, Millis(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return FromKafka(err, "reading cluster metadata");
  std::map<std::string, int32_t, std::less<>> out;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (metadata->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      out[metadata->topics[i].topic] = metadata->topics[i].partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(metadata);
  return out;
}

// Copies a fetched message into a Record.
Record ToRecord(const std::string& topic, const rd_kafka_message_t* m) {
  Record r;
  r.topic = topic;
  r.partition = m->partition;
  r.offset = m->offset;
  r.timestamp_ms = rd_kafka_message_timestamp(m, nullptr);
  if (m->key != nullptr) r.key.assign(static_cast<const char*>(m->key), m->key_len);
  if (m->payload != nullptr) r.value.assign(static_cast<const char*>(m->payload), m->len);
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t h = 0;
         rd_kafka_header_get_all(headers, h, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++h) {
      r.headers.push_back({name, std::string(static_cast<const char*>(value), size)});
    }
  }
  return r;
}

// Waits up to `timeout` for the first message, then takes what is ready
// without waiting: a batch call with a timeout would wait for a full batch.
// `first` fetches the first message (consumer_poll serves rebalances).
template <typename FirstFn>
std::vector<rd_kafka_message_t*> PollMessages(rd_kafka_queue_t* queue, size_t max_records,
                                              FirstFn first) {
  std::vector<rd_kafka_message_t*> messages;
  rd_kafka_message_t* head = first();
  if (head == nullptr) return messages;
  messages.resize(max_records);
  messages[0] = head;
  ssize_t rest = 0;
  if (max_records > 1) {
    rest = rd_kafka_consume_batch_queue(queue, 0, messages.data() + 1, max_records - 1);
    if (rest < 0) rest = 0;
  }
  messages.resize(static_cast<size_t>(rest) + 1);
  return messages;
}

// Reports a fetch error that is not end-of-partition. librdkafka retries
// broker trouble on its own, so the reader goes on.
void ReportFetchError(const std::string& topic, const rd_kafka_message_t* m) {
  if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    logging::Warning("kafka", "fetch error",
                     {{"topic", topic}, {"error", rd_kafka_message_errstr(m)}});
  }
}

// Fetched messages as records, in order. `keep` decides per message; a kept
// one advances next[partition]. Fetch errors are reported; every message is
// freed.
std::vector<Record> TakeRecords(const std::string& topic,
                                const std::vector<rd_kafka_message_t*>& messages,
                                std::vector<int64_t>& next,
                                absl::FunctionRef<bool(const rd_kafka_message_t*)> keep) {
  std::vector<Record> out;
  for (rd_kafka_message_t* m : messages) {
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      ReportFetchError(topic, m);
    } else if (keep(m)) {
      out.push_back(ToRecord(topic, m));
      next[m->partition] = m->offset + 1;
    }
    rd_kafka_message_destroy(m);
  }
  return out;
}

// The fetch position of `partition` (past transaction markers librdkafka
// skipped), or `fallback` when it has none yet.
int64_t FetchPosition(rd_kafka_t* consumer, const std::string& topic, int32_t partition,
                      int64_t fallback) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
  int64_t position = fallback;
  if (rd_kafka_position(consumer, list) == RD_KAFKA_RESP_ERR_NO_ERROR &&
      list->elems[0].offset >= 0) {
    position = std::max(position, list->elems[0].offset);
  }
  rd_kafka_topic_partition_list_destroy(list);
  return position;
}

class KafkaReader final : public LogReader {
 public:
  KafkaReader(rd_kafka_t* consumer, std::string topic, std::vector<int64_t> next,
              std::vector<int32_t> partitions)
      : consumer_(consumer),
        topic_(std::move(topic)),
        next_(std::move(next)),
        partitions_(std::move(partitions)) {
    queue_ = rd_kafka_queue_get_consumer(consumer_);
  }
  ~KafkaReader() override {
    rd_kafka_queue_destroy(queue_);
    rd_kafka_consumer_close(consumer_);
    rd_kafka_destroy(consumer_);
  }

  absl::Status Assign() {
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size()));
    for (int32_t p : partitions_) {
      rd_kafka_topic_partition_list_add(list, topic_.c_str(), p)->offset = next_[p];
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(consumer_, list);
    rd_kafka_topic_partition_list_destroy(list);
    return FromKafka(err, absl::StrCat("assigning ", topic_));
  }

  absl::StatusOr<std::vector<Record>> Poll(size_t max_records, absl::Duration timeout) override {
    return TakeRecords(
        topic_,
        PollMessages(queue_, max_records,
                     [&] { return rd_kafka_consume_queue(queue_, Millis(timeout)); }),
        next_, [](const rd_kafka_message_t*) { return true; });
  }

  absl::Status Seek(int32_t partition, int64_t offset) override {
    if (partition < 0 || partition >= static_cast<int32_t>(next_.size())) {
      return absl::OutOfRangeError(absl::StrCat("topic ", topic_, " has no partition ", partition));
    }
    next_[partition] = offset;
    return Assign();  // a new assignment drops what was fetched ahead
  }

  int64_t Position(int32_t partition) const override {
    if (partition < 0 || partition >= static_cast<int32_t>(next_.size())) return 0;
    return FetchPosition(consumer_, topic_, partition, next_[partition]);
  }

 private:
  rd_kafka_t* consumer_;
  rd_kafka_queue_t* queue_ = nullptr;
  const std::string topic_;
  std::vector<int64_t> next_;
  const std::vector<int32_t> partitions_;
};

// A consumer-group member. Rebalances are served inside Poll (consumer_poll
// runs the callback on the polling thread), so the listener restores state
// on the same thread that processes.
class KafkaGroupReader final : public GroupReader {
 public:
  KafkaGroupReader(std::string topic, std::string group, int32_t partitions,
                   RebalanceListener* listener, absl::Duration timeout)
      : topic_(std::move(topic)),
        group_(std::move(group)),
        next_(partitions, 0),
        listener_(listener),
        timeout_(timeout) {}
  ~KafkaGroupReader() override {
    if (consumer_ == nullptr) return;
    rd_kafka_queue_destroy(queue_);
    rd_kafka_consumer_close(consumer_);  // leaves the group; revokes through the callback
    rd_kafka_destroy(consumer_);
  }

  absl::Status Subscribe(rd_kafka_t* consumer) {
    consumer_ = consumer;
    rd_kafka_poll_set_consumer(consumer_);
    queue_ = rd_kafka_queue_get_consumer(consumer_);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic_.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_, list);
    rd_kafka_topic_partition_list_destroy(list);
    return FromKafka(err, absl::StrCat("subscribing to ", topic_));
  }

  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    static_cast<KafkaGroupReader*>(opaque)->Rebalance(rk, err, partitions);
  }

  absl::StatusOr<std::vector<Record>> Poll(size_t max_records, absl::Duration timeout) override {
    // A rebalance inside the batch call may have taken a partition, or
    // given it back with a later start: a record fetched before that is
    // below where the partition now starts.
    return TakeRecords(
        topic_,
        PollMessages(queue_, max_records,
                     [&] { return rd_kafka_consumer_poll(consumer_, Millis(timeout)); }),
        next_, [this](const rd_kafka_message_t* m) {
          return Holds(m->partition) && m->offset >= next_[m->partition];
        });
  }

  absl::Status Seek(int32_t partition, int64_t offset) override {
    if (!Holds(partition)) {
      return absl::FailedPreconditionError(
          absl::StrCat(group_, " does not hold ", topic_, "/", partition));
    }
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic_.c_str(), partition)->offset = offset;
    absl::Status status = SeekTo(list);
    rd_kafka_topic_partition_list_destroy(list);
    return status;
  }

  int64_t Position(int32_t partition) const override {
    if (partition < 0 || partition >= static_cast<int32_t>(next_.size())) return 0;
    return FetchPosition(consumer_, topic_, partition, next_[partition]);
  }

  const std::string& group() const override { return group_; }
  const std::string& topic() const override { return topic_; }
  std::vector<int32_t> Assignment() const override {
    absl::MutexLock lock(&mu_);
    return assigned_;
  }

  rd_kafka_t* consumer() const { return consumer_; }

 private:
  bool Holds(int32_t partition) const {
    absl::MutexLock lock(&mu_);
    return std::binary_search(assigned_.begin(), assigned_.end(), partition);
  }

  void SetAssigned(std::vector<int32_t> partitions) {
    absl::MutexLock lock(&mu_);
    assigned_ = std::move(partitions);
  }

  absl::Status SeekTo(rd_kafka_topic_partition_list_t* list) {
    rd_kafka_error_t* error = rd_kafka_seek_partitions(consumer_, list, Millis(timeout_));
    if (error != nullptr) return FromKafka(error, absl::StrCat("seeking ", topic_));
    for (int i = 0; i < list->cnt; ++i) {
      if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return FromKafka(list->elems[i].err, absl::StrCat("seeking ", topic_));
      }
      next_[list->elems[i].partition] = std::max<int64_t>(list->elems[i].offset, 0);
    }
    return absl::OkStatus();
  }

  void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                 rd_kafka_topic_partition_list_t* partitions) {
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      std::vector<int32_t> taken;
      for (int i = 0; i < partitions->cnt; ++i) taken.push_back(partitions->elems[i].partition);
      std::sort(taken.begin(), taken.end());
      auto start = listener_->OnAssigned(taken);
      absl::Status status = start.status();
      if (status.ok()) {
        for (int i = 0; i < partitions->cnt; ++i) {
          const auto at =
              std::lower_bound(taken.begin(), taken.end(), partitions->elems[i].partition);
          partitions->elems[i].offset = (*start)[at - taken.begin()];
          next_[partitions->elems[i].partition] = partitions->elems[i].offset;
        }
        status = FromKafka(rd_kafka_assign(rk, partitions), "assigning");
      }
      if (!status.ok()) {
        // Only a stopping member gets here (the listener retries otherwise):
        // hold nothing, so the next rebalance hands the partitions on.
        logging::Warning("kafka", "not taking partitions",
                         {{"group", group_}, {"topic", topic_}, {"error", status.ToString()}});
        rd_kafka_assign(rk, nullptr);
        SetAssigned({});
        return;
      }
      SetAssigned(std::move(taken));
    } else {
      std::vector<int32_t> revoked = Assignment();
      SetAssigned({});
      if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) listener_->OnRevoked(revoked);
      rd_kafka_assign(rk, nullptr);
    }
  }

  const std::string topic_;
  const std::string group_;
  rd_kafka_t* consumer_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;
  std::vector<int64_t> next_;  // the polling thread's
  mutable absl::Mutex mu_;
  std::vector<int32_t> assigned_ ABSL_GUARDED_BY(mu_);
  RebalanceListener* const listener_;
  const absl::Duration timeout_;
};

}  // namespace

struct KafkaLog::Writer {
  std::vector<OutgoingRecord>* records = nullptr;
  store::StateBatch* local_state = nullptr;
  const BeforeWrite* before_write = nullptr;
  const InputProgress* input = nullptr;
  rd_kafka_t* consumer = nullptr;  // the input's group member
  // The caller's: it leaves the line then unless a transaction took it.
  absl::Time deadline = absl::InfiniteFuture();
  std::vector<Position> positions;
  absl::Status status;
  bool done = false;   // under queue_mu_
  bool taken = false;  // under queue_mu_: in a leader's transaction

  // Appends with neither records nor input need no transaction.
  bool transactional() const { return !records->empty() || input != nullptr; }
};

namespace {

// A producer with what every producer of leadflow's has, and `extra`.
absl::StatusOr<rd_kafka_t*> NewProducer(
    const KafkaLog::Options& o, const std::vector<std::pair<std::string, std::string>>& extra,
    void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*)) {
  std::vector<std::pair<std::string, std::string>> settings = {
      {"bootstrap.servers", o.bootstrap_servers},
      {"enable.idempotence", "true"},
      // Recover within a second when a broker comes back.
      {"reconnect.backoff.max.ms", "1000"},
      // A transaction is a chain of small requests, each waiting for the
      // last's answer; Nagle's algorithm would hold a request back behind
      // an unacknowledged one (up to the peer's 40 ms delayed ACK).
      {"socket.nagle.disable", "true"},
      {"log_level", "3"},
      {"statistics.interval.ms", "5000"},
      {"message.max.bytes", absl::StrCat(o.max_record_bytes)}};
  settings.insert(settings.end(), o.client_settings.begin(), o.client_settings.end());
  settings.insert(settings.end(), extra.begin(), extra.end());
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (absl::Status configured = SetAll(conf, settings); !configured.ok()) {
    rd_kafka_conf_destroy(conf);
    return configured;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_stats_cb(conf, OnStatistics);
  char error[512];
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (producer == nullptr) return absl::InternalError(absl::StrCat("kafka producer: ", error));
  return producer;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaLog>> KafkaLog::Open(store::StateStore* db, Options options) {
  std::unique_ptr<KafkaLog> log(new KafkaLog(db, std::move(options)));
  const Options& o = log->options_;
  LEADFLOW_ASSIGN_OR_RETURN(
      log->producer_,
      NewProducer(o,
                  {{"transactional.id", o.transactional_id},
                   {"linger.ms", "2"},
                   {"transaction.timeout.ms",
                    absl::StrCat(absl::ToInt64Milliseconds(o.transaction_timeout))}},
                  OnDelivery));
  // Appends of one record with nothing to commit beside it (a command or a
  // channel event from the API) need no transaction: an idempotent producer
  // writes each once, in one round trip instead of a transaction's four, and
  // keeps them out of the transactional producer's line.
  LEADFLOW_ASSIGN_OR_RETURN(
      log->plain_producer_,
      NewProducer(o,
                  {{"linger.ms", "0"},
                   {"message.timeout.ms", absl::StrCat(absl::ToInt64Milliseconds(o.timeout))}},
                  OnPlainDelivery));
  // Connected now, not at the first append: librdkafka connects lazily,
  // and the first append waited most of a second for the connection, the
  // metadata and the idempotent producer's id.
  const rd_kafka_metadata_t* plain_metadata = nullptr;
  if (rd_kafka_metadata(log->plain_producer_, 1, nullptr, &plain_metadata, Millis(o.timeout)) ==
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_metadata_destroy(plain_metadata);
  }

  auto existing = TopicPartitions(log->producer_, o.timeout);
  if (!existing.ok()) return existing.status();
  std::vector<TopicSpec> missing;
  for (const auto& spec : o.topics) {
    auto it = existing->find(spec.name);
    if (it == existing->end()) {
      missing.push_back(spec);
    } else if (it->second != spec.partitions) {
      return absl::FailedPreconditionError(
          absl::StrCat("topic ", spec.name, " has ", it->second, " partitions, not ",
                       spec.partitions, ": changing it would move keys between partitions"));
    }
  }
  if (absl::Status s =
          CreateMissingTopics(log->producer_, missing, o.replication_factor, o.timeout);
      !s.ok()) {
    return s;
  }
  for (const auto& spec : o.topics) log->partitions_[spec.name] = spec.partitions;
  if (char* cluster_id = rd_kafka_clusterid(log->producer_, Millis(o.timeout));
      cluster_id != nullptr) {
    log->mock_cluster_ = absl::StartsWith(cluster_id, kMockClusterIdPrefix);
    rd_kafka_mem_free(log->producer_, cluster_id);
  }
  if (absl::Status s = FromKafka(rd_kafka_init_transactions(log->producer_, Millis(o.timeout)),
                                 "initialising transactions");
      !s.ok()) {
    return s;
  }
  return log;
}

KafkaLog::~KafkaLog() {
  if (producer_ != nullptr) {
    rd_kafka_flush(producer_, 5000);
    rd_kafka_destroy(producer_);
  }
  if (plain_producer_ != nullptr) {
    rd_kafka_flush(plain_producer_, 5000);
    rd_kafka_destroy(plain_producer_);
  }
}

int32_t KafkaLog::PartitionCount(absl::string_view topic) const {
  auto it = partitions_.find(topic);
  return it == partitions_.end() ? 0 : it->second;
}

absl::StatusOr<std::vector<Position>> KafkaLog::Append(std::vector<OutgoingRecord> records,
                                                       absl::Time deadline) {
  if (records.size() == 1 && !records[0].complete && records[0].partition < 0) {
    return AppendOne(records[0], deadline);
  }
  return AppendUntil(std::move(records), nullptr, nullptr, nullptr, deadline);
}

absl::StatusOr<std::vector<Position>> KafkaLog::AppendOne(OutgoingRecord& record,
                                                          absl::Time deadline) {
  // A fenced instance takes no more appends, whichever producer would.
  LEADFLOW_RETURN_IF_ERROR(Health());
  const int32_t count = PartitionCount(record.topic);
  if (count == 0) return absl::NotFoundError(absl::StrCat("unknown topic ", record.topic));
  auto delivery = std::make_shared<PlainDelivery>();
  auto* holder = new std::shared_ptr<PlainDelivery>(delivery);
  if (absl::Status s = ProduceWith(plain_producer_, record, holder); !s.ok()) {
    delete holder;  // not queued: no report will come
    RememberWrite(s);
    return s;
  }
  const absl::Time until = std::min(deadline, absl::Now() + options_.timeout);
  while (true) {
    {
      absl::MutexLock lock(&delivery->mu);
      if (delivery->done) {
        absl::Status status =
            FromKafka(delivery->err, absl::StrCat("delivering to ", record.topic));
        RememberWrite(status);
        if (!status.ok()) return status;
        return std::vector<Position>{{record.topic, delivery->partition, delivery->offset}};
      }
    }
    if (absl::Now() > until) {
      absl::Status status =
          absl::UnavailableError(absl::StrCat("delivering to ", record.topic,
                                              ": no acknowledgement in time; it may or may not be "
                                              "written: retry it with the same id"));
      RememberWrite(status);
      return status;
    }
    // Serves delivery reports (of any thread's records) for a moment.
    rd_kafka_poll(plain_producer_, 1);
  }
}

void KafkaLog::RememberWrite(const absl::Status& status) {
  if (IsUnwritable(status)) return;
  absl::MutexLock lock(&stats_mu_);
  last_write_ = status;
}

absl::Status KafkaLog::Health() const {
  char reason[512] = {};
  const rd_kafka_resp_err_t err = rd_kafka_fatal_error(producer_, reason, sizeof(reason));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("kafka producer failed for good (", rd_kafka_err2name(err), "): ", reason));
}

absl::Status KafkaLog::Readiness() const {
  absl::MutexLock lock(&stats_mu_);
  return last_write_;
}

std::map<std::string, KafkaLog::ClientStatistics> KafkaLog::ClientStatisticsSnapshot() {
  StatisticsStore& store = Statistics();
  absl::MutexLock lock(&store.mu);
  return store.by_client;
}

KafkaLog::TransactionStats KafkaLog::Stats() const {
  absl::MutexLock lock(&stats_mu_);
  return stats_;
}

absl::Status KafkaLog::Commit(bool* aborted) {
  // A retriable commit error leaves the outcome open (the commit may have
  // happened): commit again, never produce again. Only an error that
  // requires an abort means nothing was written.
  for (int attempt = 0;; ++attempt) {
    rd_kafka_error_t* error = rd_kafka_commit_transaction(producer_, Millis(options_.timeout));
    if (error == nullptr) {
      commit_pending_ = false;
      return absl::OkStatus();
    }
    if (rd_kafka_error_txn_requires_abort(error)) {
      commit_pending_ = false;
      return Abort(FromKafka(error, "committing transaction"), aborted);
    }
    if (!rd_kafka_error_is_retriable(error) || attempt + 1 == kTxnAttempts) {
      // Fatal (the producer is unusable until leadflowd restarts), or still
      // open after every retry: the caller must not assume either outcome.
      commit_pending_ = !rd_kafka_error_is_fatal(error);
      return absl::InternalError(absl::StrCat("committing transaction, outcome unknown: ",
                                              FromKafka(error, "commit").message()));
    }
    rd_kafka_error_destroy(error);
  }
}

absl::Status KafkaLog::Abort(absl::Status why, bool* aborted) {
  // Aborting makes the transaction's records invisible to read_committed
  // readers; a retriable failure to abort is retried.
  absl::Status status = absl::InternalError("aborting transaction: gave up after retries");
  for (int attempt = 0; attempt < kTxnAttempts; ++attempt) {
    rd_kafka_error_t* error = rd_kafka_abort_transaction(producer_, Millis(options_.timeout));
    if (error == nullptr) {
      status = why;
      if (aborted != nullptr) *aborted = true;
      break;
    }
    if (!rd_kafka_error_is_retriable(error)) {
      status = FromKafka(error, "aborting transaction");
      break;
    }
    rd_kafka_error_destroy(error);
  }
  // The delivery reports of purged records write into Transact's slots:
  // serve every one before it returns and frees them.
  rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  const absl::Time deadline = absl::Now() + options_.timeout;
  while (rd_kafka_outq_len(producer_) > 0 && absl::Now() < deadline) rd_kafka_poll(producer_, 50);
  // Reports still due write into slots Transact keeps alive until they
  // come (in_flight_slots_); the writers are told to retry.
  return status;
}

absl::Status KafkaLog::Produce(OutgoingRecord& record, void* slot) {
  return ProduceWith(producer_, record, slot);
}

absl::Status KafkaLog::ProduceWith(rd_kafka_t* producer, OutgoingRecord& record, void* slot) {
  if (const size_t bytes = RecordBytes(record); bytes > options_.max_record_bytes) {
    // What librdkafka would refuse (MSG_SIZE_TOO_LARGE), said plainly. In a
    // transaction it aborts; RunGroup redoes the other appends without it.
    return MarkUnwritable(absl::InvalidArgumentError(absl::StrCat(
        "a record for ", record.topic, " of ", bytes, " bytes is too large: over the limit of ",
        options_.max_record_bytes, " bytes (the brokers' message.max.bytes)")));
  }
  rd_kafka_headers_t* headers = rd_kafka_headers_new(record.headers.size());
  for (const auto& h : record.headers) {
    rd_kafka_header_add(headers, h.key.data(), static_cast<ssize_t>(h.key.size()), h.value.data(),
                        static_cast<ssize_t>(h.value.size()));
  }
  const int32_t partition = record.partition >= 0
                                ? record.partition
                                : PartitionForKey(record.key, PartitionCount(record.topic));
  rd_kafka_resp_err_t err;
  while (true) {
// librdkafka's RD_KAFKA_V_* macros are C casts in GNU statement expressions.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wpedantic"
    err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(record.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(record.key.data(), record.key.size()),
        RD_KAFKA_V_VALUE(record.tombstone ? nullptr : record.value.data(), record.value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_TIMESTAMP(record.timestamp_ms), RD_KAFKA_V_OPAQUE(slot), RD_KAFKA_V_END);
#pragma GCC diagnostic pop
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
    rd_kafka_poll(producer, 10);
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_headers_destroy(headers);
    return FromKafka(err, absl::StrCat("producing to ", record.topic));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Position>> KafkaLog::AppendWithState(std::vector<OutgoingRecord> records,
                                                                store::StateBatch* local_state,
                                                                const BeforeWrite& before_write,
                                                                const InputProgress* input) {
  return AppendUntil(std::move(records), local_state, before_write, input, absl::InfiniteFuture());
}

absl::StatusOr<std::vector<Position>> KafkaLog::AppendUntil(std::vector<OutgoingRecord> records,
                                                            store::StateBatch* local_state,
                                                            const BeforeWrite& before_write,
                                                            const InputProgress* input,
                                                            absl::Time deadline) {
  for (const auto& record : records) {
    const int32_t count = PartitionCount(record.topic);
    if (count == 0) return absl::NotFoundError(absl::StrCat("unknown topic ", record.topic));
    if (record.partition >= count) {
      return absl::OutOfRangeError(
          absl::StrCat("topic ", record.topic, " has no partition ", record.partition));
    }
  }
  Writer self;
  self.records = &records;
  self.local_state = local_state;
  self.before_write = &before_write;
  self.input = input;
  self.deadline = deadline;
  self.positions.resize(records.size());
  if (input != nullptr) {
    const auto* group_reader = dynamic_cast<const KafkaGroupReader*>(input->reader);
    if (group_reader == nullptr) {
      return absl::InvalidArgumentError("input progress of a reader that is not a Kafka group's");
    }
    self.consumer = group_reader->consumer();
  }

  if (self.transactional()) {
    LEADFLOW_RETURN_IF_ERROR(JoinGroupCommit(self));
  } else if (before_write) {
    // Nothing for the producer: such a unit (a read model's batch) waits
    // for no transaction, and no open commit outcome is its business.
    before_write(self.positions, local_state);
  }
  if (local_state != nullptr && local_state->Count() > 0) {
    if (db_ == nullptr)
      return absl::FailedPreconditionError("kafka log opened without local state");
    LEADFLOW_RETURN_IF_ERROR(db_->Write(local_state));
  }
  return std::move(self.positions);
}

absl::Status KafkaLog::JoinGroupCommit(Writer& self) {
  std::vector<Writer*> group;
  {
    absl::MutexLock lock(&queue_mu_);
    queue_.push_back(&self);
    auto leads_or_done = [this, &self]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
      return self.done || queue_.front() == &self;
    };
    if (!queue_mu_.AwaitWithDeadline(absl::Condition(&leads_or_done), self.deadline) &&
        !self.taken) {
      // The caller has given up, and no transaction carries its records:
      // out of line, nothing appended, no thread held for it.
      queue_.erase(std::find(queue_.begin(), queue_.end(), &self));
      return absl::UnavailableError(
          "the log is not taking appends in time (brokers away or slow): nothing was appended; "
          "retry with the same id");
    }
    // Taken by a transaction already: its outcome is this append's.
    queue_mu_.Await(absl::Condition(&leads_or_done));
    // Leading: the transaction carries everything in line now. Whatever
    // comes later waits for the next one.
    if (!self.done) {
      group.assign(queue_.begin(), queue_.end());
      for (Writer* writer : group) writer->taken = true;
    }
  }
  if (!group.empty()) {
    {
      absl::MutexLock lock(&txn_mu_);
      RunGroup(group);
    }
    absl::Status trouble;
    for (const Writer* writer : group) {
      if (!writer->status.ok() && !IsUnwritable(writer->status)) trouble = writer->status;
    }
    RememberWrite(trouble);
    absl::MutexLock lock(&queue_mu_);
    for (size_t i = 0; i < group.size(); ++i) {
      queue_.front()->done = true;
      queue_.pop_front();
    }
  }
  return self.status;
}

void KafkaLog::RunGroup(const std::vector<Writer*>& writers) {
  if (commit_pending_) {
    // The last transaction's outcome is still open; its writers were told
    // so and will restore from the log whatever it turns out to be.
    if (absl::Status s = Commit(nullptr); !s.ok()) {
      for (Writer* writer : writers) writer->status = s;
      return;
    }
  }
  bool aborted = false;
  static metrics::Histogram& latency =
      metrics::DefaultRegistry()
          .AddHistogram("leadflow_kafka_transaction_seconds",
                        "Time of one Kafka transaction: produce, send offsets, commit.", {})
          .With({});
  const absl::Time start = absl::Now();
  absl::Status status = Transact(writers, &aborted);
  latency.ObserveDuration(absl::Now() - start);
  // An unknown or fatal outcome is every writer's: the records may be in.
  if (status.ok() || !aborted || writers.size() == 1) {
    for (Writer* writer : writers) writer->status = status;
    if (status.ok()) CountCommitted(static_cast<int64_t>(writers.size()));
    return;
  }
  // One writer's records or input can abort them all (a record the broker
  // refuses, a member fenced by a rebalance), and an error seldom says
  // whose: redo each alone, so that only the one that cannot succeed fails.
  {
    absl::MutexLock lock(&stats_mu_);
    ++stats_.retried_alone;
  }
  for (Writer* writer : writers) {
    if (commit_pending_) {
      if (absl::Status s = Commit(nullptr); !s.ok()) {
        writer->status = s;
        continue;
      }
    }
    writer->status = Transact({writer}, &aborted);
    if (writer->status.ok()) CountCommitted(1);
  }
}

void KafkaLog::CountCommitted(int64_t appends) {
  static metrics::Histogram& group = metrics::DefaultRegistry()
                                         .AddHistogram("leadflow_log_group_commit_appends",
                                                       "Appends written together by one group "
                                                       "commit (one fsync, one Kafka transaction).",
                                                       {}, metrics::SizeBuckets())
                                         .With({});
  group.Observe(static_cast<double>(appends));
  absl::MutexLock lock(&stats_mu_);
  ++stats_.transactions;
  stats_.appends += appends;
}

absl::Status KafkaLog::Transact(const std::vector<Writer*>& writers, bool* aborted) {
  *aborted = false;
  if (absl::Status s = FromKafka(rd_kafka_begin_transaction(producer_), "beginning transaction");
      !s.ok()) {
    return s;
  }
  // Delivery reports write into the slots; if any is still due when this
  // returns (an abort that timed out with brokers away), the slots are kept
  // until the producer has none in flight, never freed under it.
  if (rd_kafka_outq_len(producer_) == 0) in_flight_slots_.clear();
  auto owned_slots = std::make_shared<std::vector<std::vector<DeliverySlot>>>(writers.size());
  std::vector<std::vector<DeliverySlot>>& slots = *owned_slots;
  struct KeepWhileInFlight {
    rd_kafka_t* producer;
    std::vector<std::shared_ptr<void>>* kept;
    std::shared_ptr<void> slots;
    ~KeepWhileInFlight() {
      if (rd_kafka_outq_len(producer) > 0) kept->push_back(std::move(slots));
    }
  } keep{producer_, &in_flight_slots_, owned_slots};
  for (size_t w = 0; w < writers.size(); ++w) {
    slots[w].resize(writers[w]->records->size());
    // A writer redone alone completes its deferred records from scratch.
    writers[w]->positions.assign(writers[w]->records->size(), Position());
  }
  GroupOffsets offsets;
  for (Writer* writer : writers) {
    if (writer->input == nullptr) continue;
    offsets.Add(writer->consumer, *writer->input->reader, writer->input->partition,
                writer->input->next_offset);
  }
  // Every writer's records without a completer first; the deferred ones
  // once the first ones' offsets are known (every record acknowledged).
  for (int deferred = 0; deferred < 2; ++deferred) {
    bool any = false;
    for (size_t w = 0; w < writers.size(); ++w) {
      std::vector<OutgoingRecord>& records = *writers[w]->records;
      for (size_t i = 0; i < records.size(); ++i) {
        if (static_cast<bool>(records[i].complete) != (deferred == 1)) continue;
        if (deferred == 1) records[i].complete(writers[w]->positions, &records[i]);
        if (absl::Status s = Produce(records[i], &slots[w][i]); !s.ok()) {
          return Abort(s, aborted);
        }
        any = true;
      }
    }
    if (deferred == 0) {
      // The input offsets are known from the start: their round trips to
      // the coordinators (AddOffsetsToTxn, TxnOffsetCommit) overlap the
      // first records' registration with the transaction and delivery,
      // instead of following them.
      for (const GroupOffsets::Member& member : offsets.members()) {
        rd_kafka_consumer_group_metadata_t* metadata =
            rd_kafka_consumer_group_metadata(member.consumer);
        rd_kafka_error_t* error = rd_kafka_send_offsets_to_transaction(
            producer_, member.offsets, metadata, Millis(options_.timeout));
        rd_kafka_consumer_group_metadata_destroy(metadata);
        // Any failure here (the group moved on: fenced) leaves the
        // transaction to abort; the batch is redone by whoever holds it.
        if (error != nullptr) {
          return Abort(FromKafka(error, absl::StrCat("sending offsets of ", member.group,
                                                     " to the transaction")),
                       aborted);
        }
      }
    }
    if (!any) continue;
    rd_kafka_flush(producer_, Millis(options_.timeout));
    for (size_t w = 0; w < writers.size(); ++w) {
      const std::vector<OutgoingRecord>& records = *writers[w]->records;
      for (size_t i = 0; i < records.size(); ++i) {
        if (static_cast<bool>(records[i].complete) != (deferred == 1)) continue;
        const DeliverySlot& slot = slots[w][i];
        if (slot.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          return Abort(FromKafka(slot.err, absl::StrCat("delivering to ", records[i].topic)),
                       aborted);
        }
        writers[w]->positions[i] = {records[i].topic, slot.partition, slot.offset};
      }
    }
  }
  for (Writer* writer : writers) {
    if (*writer->before_write) (*writer->before_write)(writer->positions, writer->local_state);
  }
  return Commit(aborted);
}

absl::StatusOr<rd_kafka_t*> KafkaLog::NewConsumer(
    absl::string_view group, const std::vector<std::pair<std::string, std::string>>& extra,
    void (*configure)(rd_kafka_conf_t*, void*), void* opaque) const {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::vector<std::pair<std::string, std::string>> settings = {
      {"bootstrap.servers", options_.bootstrap_servers},
      {"group.id", std::string(group)},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"isolation.level", "read_committed"},
      {"auto.offset.reset", "earliest"},
      {"fetch.wait.max.ms",
       absl::StrCat(absl::ToInt64Milliseconds(mock_cluster_ ? kMockFetchWait : kFetchWait))},
      // See the producer's setting.
      {"socket.nagle.disable", "true"},
      {"reconnect.backoff.max.ms", "1000"},
      {"log_level", "3"},
      {"statistics.interval.ms", "5000"}};
  settings.insert(settings.end(), options_.client_settings.begin(), options_.client_settings.end());
  settings.insert(settings.end(), extra.begin(), extra.end());
  if (absl::Status configured = SetAll(conf, settings); !configured.ok()) {
    rd_kafka_conf_destroy(conf);
    return configured;
  }
  rd_kafka_conf_set_stats_cb(conf, OnStatistics);
  if (configure != nullptr) configure(conf, opaque);
  char error[512];
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
  if (consumer == nullptr) return absl::InternalError(absl::StrCat("kafka consumer: ", error));
  return consumer;
}

absl::StatusOr<std::unique_ptr<LogReader>> KafkaLog::OpenReader(
    absl::string_view topic, const std::vector<int64_t>& start) const {
  const int32_t partitions = PartitionCount(topic);
  if (partitions == 0) return absl::NotFoundError(absl::StrCat("unknown topic ", topic));
  std::vector<int64_t> next(partitions, 0);
  for (size_t p = 0; p < start.size() && p < next.size(); ++p) next[p] = start[p];
  std::vector<int32_t> all(partitions);
  for (int32_t p = 0; p < partitions; ++p) all[p] = p;
  return OpenManualReader(topic, std::move(next), std::move(all));
}

absl::StatusOr<std::unique_ptr<LogReader>> KafkaLog::OpenPartitionReader(absl::string_view topic,
                                                                         int32_t partition,
                                                                         int64_t offset) const {
  LEADFLOW_ASSIGN_OR_RETURN(const int32_t partitions, CheckPartition(*this, topic, partition));
  std::vector<int64_t> next(partitions, 0);
  next[partition] = offset;
  return OpenManualReader(topic, std::move(next), {partition});
}

absl::StatusOr<std::unique_ptr<LogReader>> KafkaLog::OpenManualReader(
    absl::string_view topic, std::vector<int64_t> next, std::vector<int32_t> partitions) const {
  // A manual assignment never joins the group; the id is only required.
  auto consumer = NewConsumer(absl::StrCat("leadflow-reader-", topic), {}, nullptr, nullptr);
  if (!consumer.ok()) return consumer.status();
  auto reader = std::make_unique<KafkaReader>(*consumer, std::string(topic), std::move(next),
                                              std::move(partitions));
  if (absl::Status s = reader->Assign(); !s.ok()) return s;
  return reader;
}

absl::StatusOr<std::unique_ptr<GroupReader>> KafkaLog::OpenGroupReader(
    absl::string_view topic, absl::string_view group, RebalanceListener* listener) {
  const int32_t partitions = PartitionCount(topic);
  if (partitions == 0) return absl::NotFoundError(absl::StrCat("unknown topic ", topic));
  auto reader = std::make_unique<KafkaGroupReader>(std::string(topic), std::string(group),
                                                   partitions, listener, options_.timeout);
  auto consumer = NewConsumer(
      group,
      {{"session.timeout.ms", absl::StrCat(absl::ToInt64Milliseconds(options_.session_timeout))},
       {"heartbeat.interval.ms",
        absl::StrCat(
            std::max<int64_t>(100, absl::ToInt64Milliseconds(options_.session_timeout) / 5))},
       // Restoring state inside the rebalance callback may take a while.
       {"max.poll.interval.ms", "600000"}},
      [](rd_kafka_conf_t* conf, void* opaque) {
        rd_kafka_conf_set_rebalance_cb(conf, KafkaGroupReader::OnRebalance);
        rd_kafka_conf_set_opaque(conf, opaque);
      },
      reader.get());
  if (!consumer.ok()) return consumer.status();
  if (absl::Status s = reader->Subscribe(*consumer); !s.ok()) return s;
  return reader;
}

absl::StatusOr<int64_t> KafkaLog::EndOffset(absl::string_view topic, int32_t partition) const {
  const std::string name(topic);
  int64_t low = 0;
  int64_t high = 0;
  rd_kafka_resp_err_t err =
      rd_kafka_query_watermark_offsets(producer_, name.c_str(), partition, &low, &high, 5000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // The query goes to the leader in the metadata cache, which an idle
    // producer does not refresh after a leader moves (librdkafka #2535):
    // refresh it, then ask once more.
    rd_kafka_topic_t* handle = rd_kafka_topic_new(producer_, name.c_str(), nullptr);
    const rd_kafka_metadata_t* metadata = nullptr;
    if (handle != nullptr &&
        rd_kafka_metadata(producer_, 0, handle, &metadata, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_metadata_destroy(metadata);
    }
    if (handle != nullptr) rd_kafka_topic_destroy(handle);
    err = rd_kafka_query_watermark_offsets(producer_, name.c_str(), partition, &low, &high, 5000);
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return FromKafka(err, absl::StrCat("end offset of ", topic, "/", partition));
  }
  return high;
}

}  // namespace leadflow::log
