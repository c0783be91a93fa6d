#include "leadflow/tls/grpc_tls.h"

#include <catch2/catch.hpp>

namespace leadflow::tls {
namespace {

TEST_CASE("loopback addresses are told from the rest") {
  for (const char* listen : {"127.0.0.1:50051", "127.0.0.1:0", "127.1.2.3:80", "localhost:50051",
                             "LOCALHOST:1", "[::1]:50051"}) {
    INFO(listen);
    CHECK(IsLoopback(listen));
  }
  for (const char* listen :
       {"0.0.0.0:50051", "[::]:50051", "10.0.0.5:50051", "192.168.1.2:1", "127.0.0.1.example.com:1",
        "128.0.0.1:1", "127.0.0.256:1", "example.com:50051", ":50051"}) {
    INFO(listen);
    CHECK_FALSE(IsLoopback(listen));
  }
}

TEST_CASE("plaintext is served on loopback only, unless allowed") {
  CHECK(ServerCredentialsFor("127.0.0.1:0", {}).ok());
  auto refused = ServerCredentialsFor("0.0.0.0:50051", {});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(refused.status().message().find("--allow-plaintext") != std::string::npos);
  ServerTls allowed;
  allowed.allow_plaintext = true;
  CHECK(ServerCredentialsFor("0.0.0.0:50051", allowed).ok());
}

TEST_CASE("TLS flags go together") {
  ServerTls cert_only;
  cert_only.cert_file = "server.pem";
  CHECK(ServerCredentialsFor("127.0.0.1:0", cert_only).status().message().find("--tls-key") !=
        std::string::npos);
  ServerTls ca_only;
  ca_only.client_ca_file = "ca.pem";
  CHECK(ServerCredentialsFor("127.0.0.1:0", ca_only)
            .status()
            .message()
            .find("--tls-client-ca needs --tls-cert") != std::string::npos);
  ClientTls client_cert_only;
  client_cert_only.cert_file = "client.pem";
  CHECK_FALSE(ChannelTo("127.0.0.1:1", client_cert_only).ok());
  CHECK(ChannelTo("127.0.0.1:1", {}).ok());
}

}  // namespace
}  // namespace leadflow::tls
