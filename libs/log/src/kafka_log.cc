#include "leadflow/log/kafka_log.h"

#include <librdkafka/rdkafka.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace leadflow::log {
namespace {

int Millis(absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); }

// How often a retriable transaction step is tried before giving up.
constexpr int kTxnAttempts = 10;

absl::Status FromKafka(rd_kafka_resp_err_t err, absl::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(what, ": ", rd_kafka_err2str(err)));
}

// Takes ownership of `error`. Retriable errors are UNAVAILABLE (try again);
// fatal ones INTERNAL (the producer is unusable; restart).
absl::Status FromKafka(rd_kafka_error_t* error, absl::string_view what) {
  if (error == nullptr) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", rd_kafka_error_string(error));
  const bool fatal = rd_kafka_error_is_fatal(error);
  rd_kafka_error_destroy(error);
  return fatal ? absl::InternalError(message) : absl::UnavailableError(message);
}

absl::Status SetAll(rd_kafka_conf_t* conf,
                    const std::vector<std::pair<std::string, std::string>>& settings) {
  char error[512];
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat("kafka config ", key, ": ", error));
    }
  }
  return absl::OkStatus();
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

absl::Status CreateMissingTopics(rd_kafka_t* rk, const std::vector<TopicSpec>& topics,
                                 int replication_factor, absl::Duration timeout) {
  if (topics.empty()) return absl::OkStatus();
  char error[512];
  std::vector<rd_kafka_NewTopic_t*> new_topics;
  for (const auto& spec : topics) {
    new_topics.push_back(rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions,
                                               replication_factor, error, sizeof(error)));
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

class KafkaReader final : public LogReader {
 public:
  KafkaReader(rd_kafka_t* consumer, std::string topic, std::vector<int64_t> next)
      : consumer_(consumer), topic_(std::move(topic)), next_(std::move(next)) {
    queue_ = rd_kafka_queue_get_consumer(consumer_);
  }
  ~KafkaReader() override {
    rd_kafka_queue_destroy(queue_);
    rd_kafka_consumer_close(consumer_);
    rd_kafka_destroy(consumer_);
  }

  absl::Status Assign() {
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(next_.size()));
    for (size_t p = 0; p < next_.size(); ++p) {
      rd_kafka_topic_partition_list_add(list, topic_.c_str(), static_cast<int32_t>(p))->offset =
          next_[p];
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(consumer_, list);
    rd_kafka_topic_partition_list_destroy(list);
    return FromKafka(err, absl::StrCat("assigning ", topic_));
  }

  absl::StatusOr<std::vector<Record>> Poll(size_t max_records, absl::Duration timeout) override {
    // Wait for the first record only, then take what is ready: a batch call
    // with a timeout would wait for a full batch.
    std::vector<rd_kafka_message_t*> messages(max_records);
    rd_kafka_message_t* first = rd_kafka_consume_queue(queue_, Millis(timeout));
    if (first == nullptr) return std::vector<Record>();
    messages[0] = first;
    ssize_t rest = 0;
    if (max_records > 1) {
      rest = rd_kafka_consume_batch_queue(queue_, 0, messages.data() + 1, max_records - 1);
      if (rest < 0) rest = 0;
    }
    const ssize_t n = rest + 1;
    std::vector<Record> out;
    out.reserve(static_cast<size_t>(n));
    absl::Status status = absl::OkStatus();
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = messages[i];
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        Record& r = out.emplace_back();
        r.topic = topic_;
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
          for (size_t h = 0; rd_kafka_header_get_all(headers, h, &name, &value, &size) ==
                             RD_KAFKA_RESP_ERR_NO_ERROR;
               ++h) {
            r.headers.push_back({name, std::string(static_cast<const char*>(value), size)});
          }
        }
        next_[m->partition] = m->offset + 1;
      } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        // Broker trouble is retried by librdkafka; say so and go on.
        std::fprintf(stderr, "leadflow: kafka reader %s: %s\n", topic_.c_str(),
                     rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
    }
    return out;
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
    // librdkafka moves the position past transaction markers it skipped.
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic_.c_str(), partition);
    int64_t position = next_[partition];
    if (rd_kafka_position(consumer_, list) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        list->elems[0].offset >= 0) {
      position = std::max(position, list->elems[0].offset);
    }
    rd_kafka_topic_partition_list_destroy(list);
    return position;
  }

 private:
  rd_kafka_t* consumer_;
  rd_kafka_queue_t* queue_ = nullptr;
  const std::string topic_;
  std::vector<int64_t> next_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaLog>> KafkaLog::Open(store::Database* db, Options options) {
  std::unique_ptr<KafkaLog> log(new KafkaLog(db, std::move(options)));
  const Options& o = log->options_;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  absl::Status configured = SetAll(conf, {{"bootstrap.servers", o.bootstrap_servers},
                                          {"enable.idempotence", "true"},
                                          {"transactional.id", o.transactional_id},
                                          {"linger.ms", "2"},
                                          // Recover within a second when a broker comes back.
                                          {"reconnect.backoff.max.ms", "1000"},
                                          {"log_level", "3"},
                                          {"transaction.timeout.ms", "60000"}});
  if (!configured.ok()) {
    rd_kafka_conf_destroy(conf);
    return configured;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  char error[512];
  log->producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (log->producer_ == nullptr)
    return absl::InternalError(absl::StrCat("kafka producer: ", error));

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
}

int32_t KafkaLog::PartitionCount(absl::string_view topic) const {
  auto it = partitions_.find(topic);
  return it == partitions_.end() ? 0 : it->second;
}

absl::StatusOr<std::vector<Position>> KafkaLog::Append(std::vector<OutgoingRecord> records) {
  rocksdb::WriteBatch none;
  return AppendWithState(std::move(records), &none, nullptr);
}

absl::StatusOr<std::vector<Position>> KafkaLog::AppendWithState(std::vector<OutgoingRecord> records,
                                                                rocksdb::WriteBatch* local_state,
                                                                const BeforeWrite& before_write) {
  for (const auto& record : records) {
    if (PartitionCount(record.topic) == 0) {
      return absl::NotFoundError(absl::StrCat("unknown topic ", record.topic));
    }
  }
  std::vector<DeliverySlot> slots(records.size());
  std::vector<Position> positions;
  {
    absl::MutexLock lock(&txn_mu_);
    if (!records.empty()) {
      if (absl::Status s =
              FromKafka(rd_kafka_begin_transaction(producer_), "beginning transaction");
          !s.ok()) {
        return s;
      }
      // Aborting makes the transaction's records invisible to
      // read_committed readers; a retriable failure to abort is retried.
      auto abort = [this](absl::Status why) {
        for (int attempt = 0; attempt < kTxnAttempts; ++attempt) {
          rd_kafka_error_t* error = rd_kafka_abort_transaction(producer_, Millis(options_.timeout));
          if (error == nullptr) return why;
          if (!rd_kafka_error_is_retriable(error)) return FromKafka(error, "aborting transaction");
          rd_kafka_error_destroy(error);
        }
        return absl::InternalError("aborting transaction: gave up after retries");
      };
      for (size_t i = 0; i < records.size(); ++i) {
        OutgoingRecord& record = records[i];
        rd_kafka_headers_t* headers = rd_kafka_headers_new(record.headers.size());
        for (const auto& h : record.headers) {
          rd_kafka_header_add(headers, h.key.data(), static_cast<ssize_t>(h.key.size()),
                              h.value.data(), static_cast<ssize_t>(h.value.size()));
        }
        const int32_t partition = PartitionForKey(record.key, PartitionCount(record.topic));
        rd_kafka_resp_err_t err;
        while (true) {
// librdkafka's RD_KAFKA_V_* macros are C casts.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
          err = rd_kafka_producev(
              producer_, RD_KAFKA_V_TOPIC(record.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
              RD_KAFKA_V_KEY(record.key.data(), record.key.size()),
              RD_KAFKA_V_VALUE(record.value.data(), record.value.size()),
              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
              RD_KAFKA_V_TIMESTAMP(record.timestamp_ms), RD_KAFKA_V_OPAQUE(&slots[i]),
              RD_KAFKA_V_END);
#pragma GCC diagnostic pop
          if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
          rd_kafka_poll(producer_, 10);
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          rd_kafka_headers_destroy(headers);
          return abort(FromKafka(err, absl::StrCat("producing to ", record.topic)));
        }
      }
      // The transaction's offsets are known once every record is acknowledged.
      rd_kafka_flush(producer_, Millis(options_.timeout));
      for (size_t i = 0; i < slots.size(); ++i) {
        if (slots[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          return abort(FromKafka(slots[i].err, absl::StrCat("delivering to ", records[i].topic)));
        }
        positions.push_back({records[i].topic, slots[i].partition, slots[i].offset});
      }
      if (before_write) before_write(positions, local_state);
      // A retriable commit error leaves the outcome open (the commit may
      // have happened): commit again, never produce again. Only an error
      // that requires an abort means nothing was written.
      for (int attempt = 0;; ++attempt) {
        rd_kafka_error_t* error = rd_kafka_commit_transaction(producer_, Millis(options_.timeout));
        if (error == nullptr) break;
        if (rd_kafka_error_txn_requires_abort(error)) {
          return abort(FromKafka(error, "committing transaction"));
        }
        if (!rd_kafka_error_is_retriable(error) || attempt + 1 == kTxnAttempts) {
          // Fatal, or still open after every retry: the caller must not
          // assume either outcome.
          return absl::InternalError(absl::StrCat("committing transaction, outcome unknown: ",
                                                  FromKafka(error, "commit").message()));
        }
        rd_kafka_error_destroy(error);
      }
    } else if (before_write) {
      before_write(positions, local_state);
    }
  }
  if (local_state->Count() > 0) {
    if (db_ == nullptr)
      return absl::FailedPreconditionError("kafka log opened without local state");
    if (absl::Status s = db_->Write(local_state); !s.ok()) return s;
  }
  return positions;
}

absl::StatusOr<std::unique_ptr<LogReader>> KafkaLog::OpenReader(
    absl::string_view topic, const std::vector<int64_t>& start) const {
  const int32_t partitions = PartitionCount(topic);
  if (partitions == 0) return absl::NotFoundError(absl::StrCat("unknown topic ", topic));
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  absl::Status configured = SetAll(conf, {{"bootstrap.servers", options_.bootstrap_servers},
                                          {"group.id", absl::StrCat("leadflow-reader-", topic)},
                                          {"enable.auto.commit", "false"},
                                          {"enable.auto.offset.store", "false"},
                                          {"isolation.level", "read_committed"},
                                          {"fetch.wait.max.ms", "10"},
                                          {"reconnect.backoff.max.ms", "1000"},
                                          {"log_level", "3"}});
  if (!configured.ok()) {
    rd_kafka_conf_destroy(conf);
    return configured;
  }
  char error[512];
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
  if (consumer == nullptr) return absl::InternalError(absl::StrCat("kafka consumer: ", error));
  std::vector<int64_t> next(partitions, 0);
  for (size_t p = 0; p < start.size() && p < next.size(); ++p) next[p] = start[p];
  auto reader = std::make_unique<KafkaReader>(consumer, std::string(topic), std::move(next));
  if (absl::Status s = reader->Assign(); !s.ok()) return s;
  return reader;
}

int64_t KafkaLog::EndOffset(absl::string_view topic, int32_t partition) const {
  int64_t low = 0;
  int64_t high = 0;
  if (rd_kafka_query_watermark_offsets(producer_, std::string(topic).c_str(), partition, &low,
                                       &high, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return 0;
  }
  return high;
}

}  // namespace leadflow::log
