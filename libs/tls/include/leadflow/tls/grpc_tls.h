#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace leadflow::tls {

// How leadflowd serves gRPC: TLS with a certificate and key (PEM files),
// optionally requiring client certificates signed by `client_ca_file`
// (mTLS, for service-to-service). Without TLS it serves plaintext only on a
// loopback address, unless `allow_plaintext` says otherwise.
struct ServerTls {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  bool allow_plaintext = false;
};

// True when `listen` ("host:port", "[::1]:port") names a loopback address:
// 127.0.0.0/8, ::1 or localhost. A wildcard (0.0.0.0, [::]) is not one.
bool IsLoopback(absl::string_view listen);

// The credentials to serve `listen` with, or INVALID_ARGUMENT naming the
// flag that is wrong (a certificate without its key, a client CA without a
// certificate, plaintext on a non-loopback address) or the file that
// cannot be read or holds no PEM. Key material is never put in a message.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    absl::string_view listen, const ServerTls& tls);

// The principal of a call that came over mutual TLS: the common name of the
// client certificate the server verified. nullopt for plaintext, TLS
// without a client certificate, or a certificate without a common name.
std::optional<std::string> PeerPrincipal(const grpc::ServerContext& ctx);

// What a client connects with. TLS when any field is set: `ca_file` holds
// the roots that sign the server's certificate (empty: the system's),
// `cert_file` and `key_file` the client's own certificate (mTLS), and
// `server_name` the name to check the certificate against when it differs
// from the target's host.
struct ClientTls {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;

  bool enabled() const {
    return !ca_file.empty() || !cert_file.empty() || !key_file.empty() || !server_name.empty();
  }
};

// A channel to `target`, plaintext or TLS as `tls` says, sending
// `authorization: Bearer <bearer_token>` with every call when the token is
// set (an API key or a JWT); INVALID_ARGUMENT naming a file that cannot be
// read, or a certificate without its key.
absl::StatusOr<std::shared_ptr<grpc::Channel>> ChannelTo(const std::string& target,
                                                         const ClientTls& tls,
                                                         const std::string& bearer_token = "");

}  // namespace leadflow::tls
