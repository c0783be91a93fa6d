#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "leadflow/v1/access.pb.h"

namespace leadflow::config {

// Reads roles, teams and users from YAML text ("access: {roles: [...],
// teams: [...], users: [...]}", the format of examples/access/seed.yaml)
// into `policy`. INVALID_ARGUMENT naming the line and the key at fault as
// a path ("line 9: access.roles[1].grants[0].scope: ..."); never throws.
// What the server checks of a policy (domain::ValidateAccessPolicy) is not
// checked here.
absl::Status ReadAccessYaml(absl::string_view text, v1::AccessPolicy* policy);

// Whether the YAML text's top-level key is "access" (and not "pipelines"),
// for `leadflow apply -f`, which takes either.
bool IsAccessYaml(absl::string_view text);

}  // namespace leadflow::config
