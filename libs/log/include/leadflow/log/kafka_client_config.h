#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace leadflow::log {

// librdkafka settings an operator gives every Kafka client of leadflowd:
// security (security.protocol, sasl.*, ssl.*) and tuning. Kept in a file so
// that secrets stay off the command line and out of `ps`.
using KafkaClientSettings = std::vector<std::pair<std::string, std::string>>;

// Reads `path`: one `key=value` per line (spaces around both trimmed), `#`
// or `!` starting a comment line, blank lines ignored. INVALID_ARGUMENT
// naming the file and line for a line without `=`, a property librdkafka
// does not know, a value it refuses (the value itself shown only when the
// key is not a secret), a key given twice, or a key leadflowd sets itself
// (bootstrap.servers, transactional.id, group.id, isolation.level, ...: the
// flag to use instead is named when there is one).
absl::StatusOr<KafkaClientSettings> ReadKafkaClientConfig(const std::string& path);

// True for keys whose values are secrets (passwords, private keys, client
// secrets): their values are never put into a message or a log line.
bool IsSecretKafkaSetting(absl::string_view key);

}  // namespace leadflow::log
