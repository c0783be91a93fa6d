// `leadflow api-keys`, `access`, `whoami`: credentials and the access policy.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <type_traits>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "commands.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/config/access_yaml.h"
#include "leadflow/config/enum_names.h"
#include "leadflow/config/pipelines_yaml.h"
#include "leadflow/tls/grpc_tls.h"
#include "leadflow/v1/reports.grpc.pb.h"
#include "leadflow/v1/service.grpc.pb.h"

namespace leadflow::cli {
namespace {

struct AccessArgs {
  std::string principal, name, reason;
  std::vector<std::string> roles;
  bool act_for_others = false;
  bool show_revoked = false;
};

}  // namespace

void AddAccessCommands(CLI::App& app, const Common& common, int& rc) {
  // Lives as long as the command line it is parsed from: the process.
  AccessArgs& args = *new AccessArgs();
  auto* keys = app.add_subcommand("api-keys", "Service credentials (the administrator's)");
  keys->require_subcommand(1);
  auto* create =
      keys->add_subcommand("create", "Issue an API key; prints it once (only its hash is kept)");
  create->add_option("--principal", args.principal, "Who the key acts as")->required();
  create->add_option("--role", args.roles, "A role of the principal (repeatable)");
  create->add_flag("--act-for-others", args.act_for_others,
                   "May name another actor (an integration recording the operator of a call)");
  create->callback([&args, &common, &rc] {
    v1::CreateApiKeyRequest request;
    request.set_principal(args.principal);
    for (const auto& role : args.roles) request.add_roles(role);
    request.set_act_for_others(args.act_for_others);
    rc = Unary(*StubOf<v1::AccessService>(common), &v1::AccessService::Stub::CreateApiKey, request,
               common.timeout);
  });
  auto* list = keys->add_subcommand("list", "API keys, one JSON object per line");
  list->add_flag("--show-revoked", args.show_revoked, "Revoked keys too");
  list->callback([&args, &common, &rc] {
    v1::ListApiKeysRequest request;
    request.set_show_revoked(args.show_revoked);
    rc = Call(*StubOf<v1::AccessService>(common), &v1::AccessService::Stub::ListApiKeys, request,
              common.timeout, [](const v1::ListApiKeysResponse& response) {
                return PrintEach(response.api_keys());
              });
  });
  auto* revoke = keys->add_subcommand("revoke", "Refuse an API key from now on");
  revoke->add_option("id", args.name, "Key id (or apiKeys/{id})")->required();
  revoke->add_option("--reason", args.reason, "Why (kept in its event)");
  revoke->callback([&args, &common, &rc] {
    v1::RevokeApiKeyRequest request;
    request.set_name(NameIn("apiKeys", args.name));
    request.set_reason(args.reason);
    rc = Unary(*StubOf<v1::AccessService>(common), &v1::AccessService::Stub::RevokeApiKey, request,
               common.timeout);
  });
  auto* access = app.add_subcommand("access", "Roles, teams and users (apply with `apply -f`)");
  access->require_subcommand(1);
  access->add_subcommand("show", "The access policy in force, as JSON")->callback([&common, &rc] {
    rc = Unary(*StubOf<v1::AccessService>(common), &v1::AccessService::Stub::GetAccessPolicy,
               v1::GetAccessPolicyRequest(), common.timeout);
  });
  auto* whoami = app.add_subcommand("whoami", "Who the server takes the caller for");
  whoami->callback([&common, &rc] {
    rc = Unary(*StubOf<v1::AccessService>(common), &v1::AccessService::Stub::GetCaller,
               v1::GetCallerRequest(), common.timeout);
  });
}

}  // namespace leadflow::cli
