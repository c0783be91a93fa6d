#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "leadflow/api/authenticator.h"
#include "leadflow/base/clock.h"
#include "leadflow/domain/domain_config.h"
#include "leadflow/log/log.h"
#include "leadflow/processors/activity_counters.h"
#include "leadflow/processors/command_outcomes.h"
#include "leadflow/processors/crm_projection.h"
#include "leadflow/processors/item_read_model.h"
#include "leadflow/processors/lead_read_model.h"
#include "leadflow/processors/timeline_read_model.h"
#include "leadflow/store/state_store.h"
#include "leadflow/v1/service.pb.h"

namespace leadflow::api {

// What the services share. Everything pointed to outlives the services.
struct ServiceContext {
  log::Log* log = nullptr;
  const store::StateStore* db = nullptr;
  const processors::LeadReadModel* leads = nullptr;
  const processors::ItemReadModel* items = nullptr;
  const processors::ActivityCounters* counters = nullptr;
  const processors::CrmProjection* projection = nullptr;
  const processors::TimelineReadModel* timeline = nullptr;
  const processors::ReportReadModel* reports = nullptr;
  processors::CommandOutcomes* outcomes = nullptr;
  const Clock* clock = nullptr;
  // Region and supervisors; pipelines come from `items`.
  domain::DomainConfig config;
  // Who each call comes from.
  const Authenticator* auth = nullptr;
  // Where "today" of the counters ends.
  absl::TimeZone time_zone = absl::UTCTimeZone();
  // Its name (reports default to it).
  std::string time_zone_name = "UTC";
  // How long a command may take to be applied before the call gives up
  // (the command stays on the log and is applied later).
  absl::Duration command_timeout = absl::Seconds(10);
  // Processor progress, for AdminService.
  std::function<v1::ServerStatus()> server_status;
};

}  // namespace leadflow::api
