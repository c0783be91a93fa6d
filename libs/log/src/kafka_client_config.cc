#include "leadflow/log/kafka_client_config.h"

#include <librdkafka/rdkafka.h>

#include <fstream>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace leadflow::log {
namespace {

// Settings that carry leadflow's guarantees (exactly once, its consumer
// groups, its timeouts): changing them from a file would break those
// silently. The value names the flag that sets it, if any.
const std::map<std::string, std::string, std::less<>>& ManagedSettings() {
  static const auto* managed = new std::map<std::string, std::string, std::less<>>{
      {"bootstrap.servers", "--kafka-brokers"},
      {"metadata.broker.list", "--kafka-brokers"},
      {"transactional.id", "--kafka-transactional-id"},
      {"session.timeout.ms", "--kafka-session-timeout-ms"},
      {"transaction.timeout.ms", "--kafka-transaction-timeout-ms"},
      {"message.max.bytes", "--kafka-max-record-bytes"},
      {"enable.idempotence", ""},
      {"isolation.level", ""},
      {"group.id", ""},
      {"group.instance.id", ""},
      {"enable.auto.commit", ""},
      {"enable.auto.offset.store", ""},
      {"auto.offset.reset", ""},
      {"heartbeat.interval.ms", ""},
      {"max.poll.interval.ms", ""},
      {"partition.assignment.strategy", ""},
      {"enable.partition.eof", ""},
      {"message.timeout.ms", ""},
  };
  return *managed;
}

}  // namespace

bool IsSecretKafkaSetting(absl::string_view key) {
  const std::string lower = absl::AsciiStrToLower(key);
  return absl::StrContains(lower, "password") || absl::StrContains(lower, "secret") ||
         absl::StrContains(lower, "key.pem") || absl::StrContains(lower, "token") ||
         absl::StrContains(lower, "jaas") || lower == "sasl.oauthbearer.config";
}

absl::StatusOr<KafkaClientSettings> ReadKafkaClientConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return absl::InvalidArgumentError(absl::StrCat("--kafka-config ", path, ": cannot be read"));
  KafkaClientSettings settings;
  // Each property is tried on a scratch configuration, so an unknown key or
  // a refused value is reported with its line, before any client starts.
  rd_kafka_conf_t* scratch = rd_kafka_conf_new();
  std::string line;
  int number = 0;
  absl::Status status;
  while (status.ok() && std::getline(in, line)) {
    ++number;
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text.front() == '#' || text.front() == '!') continue;
    const std::string where = absl::StrCat("--kafka-config ", path, ", line ", number);
    const size_t equals = text.find('=');
    if (equals == absl::string_view::npos) {
      status = absl::InvalidArgumentError(absl::StrCat(where, ": expected key=value"));
      break;
    }
    const std::string key(absl::StripAsciiWhitespace(text.substr(0, equals)));
    const std::string value(absl::StripAsciiWhitespace(text.substr(equals + 1)));
    if (auto managed = ManagedSettings().find(key); managed != ManagedSettings().end()) {
      status = absl::InvalidArgumentError(absl::StrCat(
          where, ": ", key, " is set by leadflowd itself",
          managed->second.empty() ? "" : absl::StrCat(" (use ", managed->second, ")")));
      break;
    }
    for (const auto& [seen, unused] : settings) {
      if (seen == key) {
        status = absl::InvalidArgumentError(absl::StrCat(where, ": ", key, " is given twice"));
      }
    }
    if (!status.ok()) break;
    char error[512] = {};
    if (rd_kafka_conf_set(scratch, key.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      status = absl::InvalidArgumentError(
          absl::StrCat(where, ": ", key, ": ",
                       IsSecretKafkaSetting(key) ? "value refused (not shown: a secret)" : error));
      break;
    }
    settings.emplace_back(key, value);
  }
  rd_kafka_conf_destroy(scratch);
  if (!status.ok()) return status;
  return settings;
}

}  // namespace leadflow::log
