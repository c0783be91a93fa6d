// Deals: one sale, moving through the stages of its own pipeline.

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "aggregates.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/pipelines.h"

namespace leadflow::domain {
namespace {

constexpr std::initializer_list<absl::string_view> kDealUpdatable = {
    "title",      "opportunity", "responsible_id", "contact_id",
    "company_id", "comments",    "custom_fields"};

absl::Status CheckDealFields(const v1::Deal& deal, const google::protobuf::FieldMask* mask) {
  auto named = [mask](absl::string_view path) {
    if (mask == nullptr) return true;
    for (const auto& p : mask->paths()) {
      if (p == path) return true;
    }
    return false;
  };
  if (named("title") && absl::StripAsciiWhitespace(deal.title()).empty()) {
    return InvalidField("deal.title", "required");
  }
  if (named("opportunity") && deal.has_opportunity()) {
    LEADFLOW_RETURN_IF_ERROR(CheckMoney(deal.opportunity(), "deal.opportunity"));
  }
  LEADFLOW_RETURN_IF_ERROR(CheckResponsible(deal.responsible_id(), "deal.responsible_id"));
  if (!v1::LeadSource_IsValid(deal.source())) {
    return InvalidField("deal.source", absl::StrCat("unknown source ", deal.source()));
  }
  if (!deal.contact_id().empty()) {
    LEADFLOW_RETURN_IF_ERROR(CheckAggregateId(deal.contact_id(), "deal.contact_id"));
  }
  if (!deal.company_id().empty()) {
    LEADFLOW_RETURN_IF_ERROR(CheckAggregateId(deal.company_id(), "deal.company_id"));
  }
  return absl::OkStatus();
}

absl::Status CheckOpenDeal(const v1::Deal& deal, absl::string_view field) {
  if (IsTerminal(deal.stage_semantic())) {
    return FieldError(absl::StatusCode::kFailedPrecondition, field,
                      absl::StrCat("deal ", deal.deal_id(), " is closed (", deal.stage_id(),
                                   "): won and lost deals stay as they are"));
  }
  return absl::OkStatus();
}

absl::Status DecideCreate(const v1::Command& command, const DomainConfig& config, EventSink& sink) {
  const auto& create = command.create_deal();
  v1::Deal deal = create.deal();
  for (auto clear :
       {&v1::Deal::clear_name, &v1::Deal::clear_deal_id, &v1::Deal::clear_version,
        &v1::Deal::clear_stage_id, &v1::Deal::clear_stage_semantic, &v1::Deal::clear_close_time,
        &v1::Deal::clear_create_time, &v1::Deal::clear_update_time}) {
    (deal.*clear)();
  }
  if (deal.pipeline_id().empty()) deal.set_pipeline_id(std::string(kDefaultDealPipelineId));
  LEADFLOW_RETURN_IF_ERROR(CheckDealFields(deal, nullptr));
  if (!deal.source_lead_id().empty()) {
    LEADFLOW_RETURN_IF_ERROR(CheckAggregateId(deal.source_lead_id(), "deal.source_lead_id"));
  }
  const v1::Pipeline* pipeline = config.pipelines.FindDeal(deal.pipeline_id());
  if (pipeline == nullptr || pipeline->removed()) {
    if (!create.decided_by_conversion() || create.stage_id().empty()) {
      return InvalidField("deal.pipeline_id",
                          absl::StrCat("no deal pipeline '", deal.pipeline_id(), "'"));
    }
    // The conversion that decided this deal already closed its lead: the
    // deal is made where it said, whatever became of the pipeline since.
    const v1::PipelineStage* stage =
        pipeline == nullptr ? nullptr : FindStage(*pipeline, create.stage_id());
    deal.set_stage_id(create.stage_id());
    deal.set_stage_semantic(stage == nullptr ? v1::STATUS_SEMANTIC_IN_PROGRESS : stage->semantic());
  } else {
    const v1::PipelineStage* stage =
        create.stage_id().empty() ? &pipeline->stages(0) : FindStage(*pipeline, create.stage_id());
    if (stage == nullptr) {
      return InvalidField("stage_id", absl::StrCat("'", create.stage_id(), "' is not a stage of ",
                                                   "pipeline ", deal.pipeline_id()));
    }
    if (stage->semantic() != v1::STATUS_SEMANTIC_IN_PROGRESS) {
      return InvalidField("stage_id", "a deal starts in an in-progress stage");
    }
    if (stage != &pipeline->stages(0)) {
      // The first stage is where deals start, even when named (a
      // conversion's deal names it); a later one asks what it asks.
      LEADFLOW_RETURN_IF_ERROR(CheckRequiredFields(deal, stage->required_fields(),
                                                   absl::StrCat("stage ", stage->stage_id())));
    }
    deal.set_stage_id(stage->stage_id());
    deal.set_stage_semantic(stage->semantic());
  }
  deal.set_deal_id(command.aggregate_id());
  deal.set_name(ResourceName("deal", command.aggregate_id()));
  *sink.Add().mutable_deal_created()->mutable_deal() = std::move(deal);
  return absl::OkStatus();
}

absl::Status DecideMove(const v1::Deal& current, const v1::Command& command,
                        const DomainConfig& config, EventSink& sink) {
  const std::string& to = command.move_deal().stage_id();
  if (to.empty()) return InvalidField("stage_id", "required");
  const v1::Pipeline* pipeline = config.pipelines.FindDeal(current.pipeline_id());
  const v1::PipelineStage* target = pipeline == nullptr ? nullptr : FindStage(*pipeline, to);
  // A trigger's move is sent for every deal pipeline that has the trigger
  // (robots.h): another pipeline's trigger is not this deal's business, even
  // where stage ids are alike.
  if (command.move_deal().only_forward() &&
      (target == nullptr ||
       (command.has_robot() && command.robot().pipeline_id() != current.pipeline_id()))) {
    return absl::OkStatus();
  }
  if (target == nullptr) {
    return InvalidField(
        "stage_id", absl::StrCat("'", to, "' is not a stage of pipeline ", current.pipeline_id(),
                                 ": a deal moves only within its pipeline"));
  }
  if (to == current.stage_id()) return absl::OkStatus();
  if (command.move_deal().only_forward() && !MovesForward(*pipeline, current.stage_id(), to)) {
    return absl::OkStatus();
  }
  LEADFLOW_RETURN_IF_ERROR(CheckOpenDeal(current, "stage_id"));
  LEADFLOW_RETURN_IF_ERROR(
      CheckRequiredFields(current, target->required_fields(), absl::StrCat("stage ", to)));
  LEADFLOW_RETURN_IF_ERROR(CheckRequiredActivities(*target, command.move_deal().item_activities(),
                                                   absl::StrCat("stage ", to)));
  auto* changed = sink.Add().mutable_deal_stage_changed();
  changed->set_from_stage_id(current.stage_id());
  changed->set_to_stage_id(to);
  changed->set_semantic(target->semantic());
  return absl::OkStatus();
}

}  // namespace

absl::Status DecideDealCommand(const v1::Deal* current, const v1::Command& command,
                               const DomainConfig& config, EventSink& sink) {
  switch (command.command_case()) {
    case v1::Command::kCreateDeal:
      return DecideCreate(command, config, sink);
    case v1::Command::kUpdateDeal: {
      const auto& update = command.update_deal();
      LEADFLOW_RETURN_IF_ERROR(CheckUpdateMask(update.update_mask(), kDealUpdatable));
      LEADFLOW_RETURN_IF_ERROR(CheckOpenDeal(*current, "deal"));
      v1::Deal changes;
      MergeMasked(update.deal(), update.update_mask(), &changes);
      LEADFLOW_RETURN_IF_ERROR(CheckDealFields(changes, &update.update_mask()));
      auto* updated = sink.Add().mutable_deal_updated();
      *updated->mutable_deal() = std::move(changes);
      *updated->mutable_update_mask() = update.update_mask();
      return absl::OkStatus();
    }
    case v1::Command::kMoveDeal:
      return DecideMove(*current, command, config, sink);
    case v1::Command::kNotifyAboutDeal:
      return DecideNotify(current->responsible_id(), command.notify_about_deal(), sink);
    default:
      return InvalidField("command", "not a deal command");
  }
}

void EvolveDealState(v1::Deal& deal, const v1::EventEnvelope& event) {
  if (event.has_deal_created()) {
    deal = event.deal_created().deal();
    *deal.mutable_create_time() = event.occur_time();
  } else if (event.has_deal_updated()) {
    MergeMasked(event.deal_updated().deal(), event.deal_updated().update_mask(), &deal);
  } else if (event.has_deal_stage_changed()) {
    deal.set_stage_id(event.deal_stage_changed().to_stage_id());
    deal.set_stage_semantic(event.deal_stage_changed().semantic());
    if (IsTerminal(deal.stage_semantic())) *deal.mutable_close_time() = event.occur_time();
  }
  deal.set_version(event.aggregate_version());
  *deal.mutable_update_time() = event.occur_time();
}

}  // namespace leadflow::domain
