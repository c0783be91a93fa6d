#pragma once

#include <string>
#include <vector>

#include "leadflow/v1/access.pb.h"

namespace leadflow::testing {

// Adds a grant to `role`; no actions: every action.
v1::AccessGrant* AddGrant(v1::AccessRole* role, v1::AccessItem item, v1::AccessScope scope,
                          const std::vector<v1::AccessAction>& actions = {},
                          const std::string& deal_pipeline_id = "");

// The seed roles of ../shared/DOMAIN.md "Access" (as examples/access/seed.yaml,
// abridged): first-line (leads: read, create, update, move, all), services-team
// (deals of pipeline "services", team; contacts: read, all), manager (every
// item type, own), supervisor (every item type, all); team "services" of olga
// and ivan; users fedor, olga, ivan, boris, sveta holding one role each.
// Version 0: set one to make it applied.
v1::AccessPolicy SeedAccessPolicy();

}  // namespace leadflow::testing
