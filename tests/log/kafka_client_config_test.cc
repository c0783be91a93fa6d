#include "leadflow/log/kafka_client_config.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "support/server_process.h"

namespace leadflow::log {
namespace {

std::string Write(const testing::TempDir& dir, const std::string& text) {
  const std::string path = dir.Sub("kafka.conf");
  std::ofstream(path) << text;
  return path;
}

TEST_CASE("kafka client settings: key=value lines, comments and blanks skipped, spaces trimmed") {
  testing::TempDir dir;
  auto settings = ReadKafkaClientConfig(Write(
      dir, "# a comment\n! another\n\n  client.id = lf one \nsocket.keepalive.enable=true\n"));
  REQUIRE(settings.ok());
  REQUIRE(settings->size() == 2);
  CHECK((*settings)[0] == std::pair<std::string, std::string>("client.id", "lf one"));
  CHECK((*settings)[1] == std::pair<std::string, std::string>("socket.keepalive.enable", "true"));
}

TEST_CASE("kafka client settings: every refusal names the file and the line") {
  testing::TempDir dir;
  const auto refusal = [&](const std::string& text) {
    auto settings = ReadKafkaClientConfig(Write(dir, text));
    REQUIRE_FALSE(settings.ok());
    CHECK(settings.status().code() == absl::StatusCode::kInvalidArgument);
    return std::string(settings.status().message());
  };
  CHECK(refusal("client.id=a\nnonsense\n").find("kafka.conf, line 2: expected key=value") !=
        std::string::npos);
  CHECK(refusal("group.id=mine\n").find("line 1: group.id is set by leadflowd itself") !=
        std::string::npos);
  CHECK(refusal("bootstrap.servers=x:1\n").find("(use --kafka-brokers)") != std::string::npos);
  CHECK(refusal("no.such.thing=1\n").find("line 1: no.such.thing") != std::string::npos);
  CHECK(refusal("client.id=a\nclient.id=b\n").find("line 2: client.id is given twice") !=
        std::string::npos);
  CHECK(refusal("socket.timeout.ms=many\n").find("socket.timeout.ms") != std::string::npos);
  CHECK_FALSE(ReadKafkaClientConfig(dir.Sub("absent.conf")).ok());
}

TEST_CASE("kafka client settings: secrets are known as secrets") {
  for (const char* key :
       {"sasl.password", "ssl.key.password", "ssl.keystore.password",
        "sasl.oauthbearer.client.secret", "ssl.key.pem", "sasl.oauthbearer.config"}) {
    INFO(key);
    CHECK(IsSecretKafkaSetting(key));
  }
  for (const char* key : {"security.protocol", "sasl.username", "ssl.ca.location", "client.id"}) {
    INFO(key);
    CHECK_FALSE(IsSecretKafkaSetting(key));
  }
}

}  // namespace
}  // namespace leadflow::log
