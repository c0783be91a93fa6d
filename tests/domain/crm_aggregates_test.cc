// The CRM core in the pure domain: pipelines, required fields, conversion,
// repeat leads, merging, contacts, companies, deals and activities, through
// Decide / Evolve / FollowUpCommands.

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/follow_ups.h"
#include "leadflow/domain/list_filter.h"
#include "leadflow/domain/pipelines.h"
#include "leadflow/domain/team_turns.h"
#include "support/channel_events.h"
#include "support/proto_time.h"

namespace leadflow::domain {
namespace {

using testing::At;

using Fields = std::vector<std::string>;

const DomainConfig kConfig;

v1::Command Cmd(const std::string& id, const std::string& aggregate_id) {
  v1::Command command;
  command.set_command_id(id);
  command.set_aggregate_id(aggregate_id);
  command.set_actor("alice");
  *command.mutable_issue_time() = At(1700000000);
  return command;
}

std::vector<v1::EventEnvelope> Events(const v1::AggregateState* current, const v1::Command& command,
                                      const DomainConfig& config = kConfig) {
  auto events = Decide(current, command, config);
  INFO(events.status().ToString());
  REQUIRE(events.ok());
  return *events;
}

v1::AggregateState Fold(v1::AggregateState state, const std::vector<v1::EventEnvelope>& events) {
  for (const auto& e : events) state = Evolve(std::move(state), e);
  return state;
}

// Decides, then folds the events: the state after the command.
v1::AggregateState Apply(const v1::AggregateState* current, const v1::Command& command,
                         const DomainConfig& config = kConfig) {
  return Fold(current != nullptr ? *current : v1::AggregateState(),
              Events(current, command, config));
}

absl::Status Refusal(const v1::AggregateState* current, const v1::Command& command,
                     const DomainConfig& config = kConfig) {
  auto events = Decide(current, command, config);
  REQUIRE_FALSE(events.ok());
  return events.status();
}

// The command is refused with `code`, naming `field`.
void CheckRefused(const v1::AggregateState* current, const v1::Command& command,
                  absl::StatusCode code, const std::string& field,
                  const DomainConfig& config = kConfig) {
  absl::Status status = Refusal(current, command, config);
  INFO(status.ToString());
  CHECK(status.code() == code);
  CHECK(FieldOf(status) == field);
}

// --- pipelines -------------------------------------------------------------

v1::PipelineStage* AddStage(v1::Pipeline& pipeline, const std::string& id, const std::string& title,
                            v1::StatusSemantic semantic, const Fields& required = {}) {
  v1::PipelineStage* stage = pipeline.add_stages();
  stage->set_stage_id(id);
  stage->set_title(title);
  stage->set_semantic(semantic);
  for (const auto& field : required) stage->add_required_fields(field);
  return stage;
}

// A service firm's lead statuses: a proposal needs the budget and the
// service asked for; a conversion needs a surname and a contract number.
v1::Pipeline ServiceFirmPipeline() {
  v1::Pipeline pipeline;
  pipeline.set_pipeline_id("lead");
  pipeline.set_kind(v1::PIPELINE_KIND_LEAD);
  pipeline.set_title("Service leads");
  AddStage(pipeline, "NEW", "New", v1::STATUS_SEMANTIC_IN_PROGRESS);
  AddStage(pipeline, "QUALIFIED", "Qualified", v1::STATUS_SEMANTIC_IN_PROGRESS);
  AddStage(pipeline, "SEND_PROPOSAL", "Send proposal", v1::STATUS_SEMANTIC_IN_PROGRESS,
           {"opportunity", "custom_fields.service"});
  AddStage(pipeline, "CONSENT", "Consent", v1::STATUS_SEMANTIC_IN_PROGRESS);
  AddStage(pipeline, "CONVERTED", "Converted", v1::STATUS_SEMANTIC_SUCCESS);
  AddStage(pipeline, "JUNK", "Junk", v1::STATUS_SEMANTIC_FAILURE);
  pipeline.add_conversion_required_fields("last_name");
  pipeline.add_conversion_required_fields("custom_fields.contract");
  return pipeline;
}

// A deal pipeline whose invoice stage needs the amount and the client's INN.
v1::Pipeline RetailPipeline() {
  v1::Pipeline pipeline;
  pipeline.set_pipeline_id("retail");
  pipeline.set_kind(v1::PIPELINE_KIND_DEAL);
  pipeline.set_title("Retail");
  AddStage(pipeline, "NEW", "New", v1::STATUS_SEMANTIC_IN_PROGRESS);
  AddStage(pipeline, "QUALIFIED", "Qualified", v1::STATUS_SEMANTIC_IN_PROGRESS);
  AddStage(pipeline, "INVOICE", "Invoice", v1::STATUS_SEMANTIC_IN_PROGRESS,
           {"opportunity", "custom_fields.inn"});
  AddStage(pipeline, "WON", "Won", v1::STATUS_SEMANTIC_SUCCESS);
  AddStage(pipeline, "LOST", "Lost", v1::STATUS_SEMANTIC_FAILURE);
  return pipeline;
}

v1::Command Configure(const std::string& command_id, const v1::Pipeline& pipeline) {
  v1::Command command = Cmd(command_id, pipeline.pipeline_id());
  *command.mutable_configure_pipeline()->mutable_pipeline() = pipeline;
  return command;
}

// The config after configuring each pipeline through its aggregate, as the
// command processor keeps it.
DomainConfig Configured(const std::vector<v1::Pipeline>& pipelines) {
  DomainConfig config;
  for (const auto& pipeline : pipelines) {
    v1::AggregateState state =
        Apply(nullptr, Configure("configure-" + pipeline.pipeline_id(), pipeline), config);
    REQUIRE(state.has_pipeline());
    config.pipelines.Put(state.pipeline());
  }
  return config;
}

void CheckInvalidPipeline(const v1::Pipeline& pipeline, const std::string& field) {
  absl::Status status = ValidatePipeline(pipeline);
  INFO(status.ToString());
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(FieldOf(status) == field);
}

TEST_CASE("the built-in and the example pipelines are valid") {
  CHECK(ValidatePipeline(DefaultLeadPipeline()).ok());
  CHECK(ValidatePipeline(DefaultDealPipeline()).ok());
  CHECK(ValidatePipeline(ServiceFirmPipeline()).ok());
  CHECK(ValidatePipeline(RetailPipeline()).ok());
  const PipelineSet set;
  CHECK(set.lead().pipeline_id() == "lead");
  REQUIRE(set.FindDeal("default") != nullptr);
  CHECK(set.FindDeal("default")->stages(0).stage_id() == "NEW");
  CHECK(set.FindDeal("lead") == nullptr);
  CHECK(set.Find("lead") != nullptr);
  CHECK(set.FindDeal("retail") == nullptr);
}

TEST_CASE("ValidatePipeline refuses malformed pipelines naming the field") {
  v1::Pipeline kind = DefaultDealPipeline();
  kind.clear_kind();
  CheckInvalidPipeline(kind, "pipeline.kind");

  v1::Pipeline lead_id = DefaultLeadPipeline();
  lead_id.set_pipeline_id("leads");
  CheckInvalidPipeline(lead_id, "pipeline.pipeline_id");
  v1::Pipeline deal_named_lead = DefaultDealPipeline();
  deal_named_lead.set_pipeline_id("lead");
  CheckInvalidPipeline(deal_named_lead, "pipeline.pipeline_id");
  v1::Pipeline bad_deal_id = DefaultDealPipeline();
  bad_deal_id.set_pipeline_id("Retail Sales");
  CheckInvalidPipeline(bad_deal_id, "pipeline.pipeline_id");
  v1::Pipeline no_deal_id = DefaultDealPipeline();
  no_deal_id.clear_pipeline_id();
  CheckInvalidPipeline(no_deal_id, "pipeline.pipeline_id");

  v1::Pipeline no_title = DefaultDealPipeline();
  no_title.clear_title();
  CheckInvalidPipeline(no_title, "pipeline.title");
  v1::Pipeline no_stages = DefaultDealPipeline();
  no_stages.clear_stages();
  CheckInvalidPipeline(no_stages, "pipeline.stages");

  v1::Pipeline bad_stage_id = DefaultDealPipeline();
  bad_stage_id.mutable_stages(2)->set_stage_id("invoice");
  CheckInvalidPipeline(bad_stage_id, "pipeline.stages[2].stage_id");
  v1::Pipeline duplicate = DefaultDealPipeline();
  AddStage(duplicate, "INVOICE", "Invoice again", v1::STATUS_SEMANTIC_IN_PROGRESS);
  CheckInvalidPipeline(duplicate, "pipeline.stages[6].stage_id");
  v1::Pipeline stage_title = DefaultDealPipeline();
  stage_title.mutable_stages(1)->clear_title();
  CheckInvalidPipeline(stage_title, "pipeline.stages[1].title");
  v1::Pipeline semantic = DefaultDealPipeline();
  semantic.mutable_stages(3)->clear_semantic();
  CheckInvalidPipeline(semantic, "pipeline.stages[3].semantic");

  // Items start in the first stage: it must be in progress.
  v1::Pipeline first_won = DefaultDealPipeline();
  first_won.mutable_stages()->SwapElements(0, 4);
  CheckInvalidPipeline(first_won, "pipeline.stages[0].semantic");

  v1::Pipeline no_failure = DefaultDealPipeline();
  no_failure.mutable_stages()->DeleteSubrange(5, 1);
  CheckInvalidPipeline(no_failure, "pipeline.stages");
  CHECK_THAT(std::string(ValidatePipeline(no_failure).message()), Catch::Contains("failure stage"));
  v1::Pipeline no_success = DefaultDealPipeline();
  no_success.mutable_stages()->DeleteSubrange(4, 1);
  CheckInvalidPipeline(no_success, "pipeline.stages");
  CHECK_THAT(std::string(ValidatePipeline(no_success).message()), Catch::Contains("success stage"));
  v1::Pipeline lead_no_success = DefaultLeadPipeline();
  lead_no_success.mutable_stages()->DeleteSubrange(3, 1);
  CheckInvalidPipeline(lead_no_success, "pipeline.stages");

  // Required fields must be fields of the item a client can fill.
  v1::Pipeline unknown_field = ServiceFirmPipeline();
  unknown_field.mutable_stages(2)->add_required_fields("shoe_size");
  CheckInvalidPipeline(unknown_field, "pipeline.stages[2].required_fields[2]");
  v1::Pipeline output_only = DefaultLeadPipeline();
  output_only.mutable_stages(1)->add_required_fields("status_id");
  CheckInvalidPipeline(output_only, "pipeline.stages[1].required_fields[0]");
  v1::Pipeline lead_only_field = DefaultDealPipeline();
  lead_only_field.mutable_stages(2)->add_required_fields("phones");  // a deal has none
  CheckInvalidPipeline(lead_only_field, "pipeline.stages[2].required_fields[0]");
  v1::Pipeline no_key = DefaultLeadPipeline();
  no_key.mutable_stages(1)->add_required_fields("custom_fields.");
  CheckInvalidPipeline(no_key, "pipeline.stages[1].required_fields[0]");
  v1::Pipeline custom = DefaultDealPipeline();
  custom.mutable_stages(2)->add_required_fields("custom_fields.anything");
  custom.mutable_stages(2)->add_required_fields("opportunity");
  CHECK(ValidatePipeline(custom).ok());

  v1::Pipeline unknown_conversion = ServiceFirmPipeline();
  unknown_conversion.add_conversion_required_fields("deal_id");
  CheckInvalidPipeline(unknown_conversion, "pipeline.conversion_required_fields[2]");
  v1::Pipeline deal_conversion = DefaultDealPipeline();
  deal_conversion.add_conversion_required_fields("title");
  CheckInvalidPipeline(deal_conversion, "pipeline.conversion_required_fields");
}

TEST_CASE("DiffPipeline gives one line per difference and none for the same pipeline") {
  const v1::Pipeline before = DefaultDealPipeline();
  CHECK(DiffPipeline(before, before).empty());
  v1::Pipeline output_only = before;
  output_only.set_version(9);
  CHECK(DiffPipeline(before, output_only).empty());

  v1::Pipeline added = before;
  AddStage(added, "REFUND", "Refund", v1::STATUS_SEMANTIC_FAILURE);
  CHECK(DiffPipeline(before, added) == Fields{"stage REFUND 'Refund' failure added"});

  v1::Pipeline removed = before;
  removed.mutable_stages()->DeleteSubrange(1, 1);
  CHECK(DiffPipeline(before, removed) == Fields{"stage PREPARATION removed"});

  v1::Pipeline renamed = before;
  renamed.mutable_stages(0)->set_title("Fresh");
  CHECK(DiffPipeline(before, renamed) == Fields{"stage NEW: title 'New' → 'Fresh'"});

  v1::Pipeline semantic = before;
  semantic.mutable_stages(3)->set_semantic(v1::STATUS_SEMANTIC_SUCCESS);
  CHECK(DiffPipeline(before, semantic) ==
        Fields{"stage EXECUTING: EXECUTING 'In progress' in_progress → "
               "EXECUTING 'In progress' success"});

  v1::Pipeline required = before;
  required.mutable_stages(2)->add_required_fields("opportunity");
  required.mutable_stages(2)->add_required_fields("custom_fields.inn");
  CHECK(DiffPipeline(before, required) ==
        Fields{"stage INVOICE: required fields none → opportunity, custom_fields.inn"});
  CHECK(DiffPipeline(required, before) ==
        Fields{"stage INVOICE: required fields opportunity, custom_fields.inn → none"});

  v1::Pipeline reordered = before;
  reordered.mutable_stages()->SwapElements(1, 2);
  CHECK(DiffPipeline(before, reordered) ==
        Fields{"stage order NEW, PREPARATION, INVOICE, EXECUTING, WON, LOSE → "
               "NEW, INVOICE, PREPARATION, EXECUTING, WON, LOSE"});

  v1::Pipeline retitled = before;
  retitled.set_title("Retail");
  CHECK(DiffPipeline(before, retitled) == Fields{"title 'Sales' → 'Retail'"});

  v1::Pipeline conversion = DefaultLeadPipeline();
  conversion.add_conversion_required_fields("phones");
  CHECK(DiffPipeline(DefaultLeadPipeline(), conversion) ==
        Fields{"conversion required fields none → phones"});

  v1::Pipeline was_removed = before;
  was_removed.set_removed(true);
  CHECK(DiffPipeline(was_removed, before) == Fields{"restored"});

  v1::Pipeline several = before;
  several.mutable_stages(0)->set_title("Fresh");
  AddStage(several, "REFUND", "Refund", v1::STATUS_SEMANTIC_FAILURE);
  several.mutable_stages()->DeleteSubrange(1, 1);
  CHECK(DiffPipeline(before, several).size() == 3);
}

TEST_CASE("configuring a pipeline records it; the same pipeline again records nothing") {
  const v1::Pipeline retail = RetailPipeline();
  auto events = Events(nullptr, Configure("cfg-1", retail));
  REQUIRE(events.size() == 1);
  CHECK(events[0].type() == "leadflow.v1.PipelineConfigured");
  CHECK(events[0].aggregate_type() == "pipeline");
  CHECK(events[0].aggregate_id() == "retail");
  CHECK(events[0].aggregate_version() == 1);
  const v1::AggregateState state = Fold(v1::AggregateState(), events);
  REQUIRE(state.has_pipeline());
  CHECK(state.pipeline().version() == 1);
  CHECK(state.pipeline().stages_size() == 5);
  CHECK_FALSE(state.pipeline().removed());

  CHECK(Events(&state, Configure("cfg-2", retail)).empty());
  // Output-only fields sent along change nothing either.
  v1::Pipeline with_output = retail;
  with_output.set_version(42);
  with_output.set_removed(true);
  CHECK(Events(&state, Configure("cfg-3", with_output)).empty());

  // The id may be left to the aggregate; a different one is refused.
  v1::Pipeline retitled = retail;
  retitled.set_title("Retail sales");
  retitled.clear_pipeline_id();
  v1::Command replace = Configure("cfg-4", retitled);
  replace.set_aggregate_id("retail");
  const v1::AggregateState replaced = Apply(&state, replace);
  CHECK(replaced.pipeline().title() == "Retail sales");
  CHECK(replaced.pipeline().pipeline_id() == "retail");
  CHECK(replaced.pipeline().version() == 2);
  v1::Command other_id = Configure("cfg-5", retail);
  other_id.set_aggregate_id("wholesale");
  CheckRefused(nullptr, other_id, absl::StatusCode::kInvalidArgument, "pipeline.pipeline_id");

  // An invalid pipeline is refused as ValidatePipeline refuses it.
  v1::Pipeline invalid = retail;
  invalid.mutable_stages(0)->set_semantic(v1::STATUS_SEMANTIC_FAILURE);
  CheckRefused(&state, Configure("cfg-6", invalid), absl::StatusCode::kInvalidArgument,
               "pipeline.stages[0].semantic");
}

TEST_CASE("a pipeline's kind does not change") {
  const v1::AggregateState lead = Apply(nullptr, Configure("cfg-lead", ServiceFirmPipeline()));
  v1::Pipeline as_deal = ServiceFirmPipeline();
  as_deal.set_kind(v1::PIPELINE_KIND_DEAL);
  as_deal.clear_conversion_required_fields();
  CheckRefused(&lead, Configure("cfg-kind", as_deal), absl::StatusCode::kInvalidArgument,
               "pipeline.kind");

  const v1::AggregateState retail = Apply(nullptr, Configure("cfg-retail", RetailPipeline()));
  v1::Pipeline as_lead = RetailPipeline();
  as_lead.set_kind(v1::PIPELINE_KIND_LEAD);
  CheckRefused(&retail, Configure("cfg-kind", as_lead), absl::StatusCode::kInvalidArgument,
               "pipeline.kind");
}

TEST_CASE("removing pipelines: never the lead one; the built-in default without configuring") {
  v1::Command remove_lead = Cmd("rm-lead", "lead");
  remove_lead.mutable_remove_pipeline();
  CheckRefused(nullptr, remove_lead, absl::StatusCode::kFailedPrecondition, "name");
  const v1::AggregateState lead = Apply(nullptr, Configure("cfg-lead", DefaultLeadPipeline()));
  CheckRefused(&lead, remove_lead, absl::StatusCode::kFailedPrecondition, "name");

  v1::Command remove_default = Cmd("rm-default", "default");
  remove_default.mutable_remove_pipeline();
  auto events = Events(nullptr, remove_default);
  REQUIRE(events.size() == 1);
  CHECK(events[0].type() == "leadflow.v1.PipelineRemoved");
  const v1::AggregateState removed = Fold(v1::AggregateState(), events);
  REQUIRE(removed.has_pipeline());
  CHECK(removed.pipeline().removed());
  CHECK(removed.pipeline().pipeline_id() == "default");
  CHECK(removed.pipeline().kind() == v1::PIPELINE_KIND_DEAL);
  CHECK(removed.pipeline().stages_size() == DefaultDealPipeline().stages_size());
  CHECK(removed.pipeline().version() == 1);
  // Removing again changes nothing.
  CHECK(Events(&removed, remove_default).empty());

  v1::Command remove_unknown = Cmd("rm-unknown", "wholesale");
  remove_unknown.mutable_remove_pipeline();
  CheckRefused(nullptr, remove_unknown, absl::StatusCode::kNotFound, "name");

  // A configured deal pipeline: removed, then configured back.
  const v1::AggregateState retail = Apply(nullptr, Configure("cfg-retail", RetailPipeline()));
  v1::Command remove_retail = Cmd("rm-retail", "retail");
  remove_retail.mutable_remove_pipeline();
  const v1::AggregateState retail_removed = Apply(&retail, remove_retail);
  CHECK(retail_removed.pipeline().removed());
  CHECK(retail_removed.pipeline().version() == 2);
  CHECK(retail_removed.pipeline().stages_size() == 5);
  const v1::AggregateState restored =
      Apply(&retail_removed, Configure("cfg-retail-2", RetailPipeline()));
  CHECK_FALSE(restored.pipeline().removed());
  CHECK(restored.pipeline().version() == 3);
}

TEST_CASE("a removed deal pipeline takes no new deals or conversions") {
  DomainConfig config;
  v1::Command remove_default = Cmd("rm-default", "default");
  remove_default.mutable_remove_pipeline();
  config.pipelines.Put(Apply(nullptr, remove_default).pipeline());
  REQUIRE(config.pipelines.FindDeal("default") != nullptr);
  CHECK(config.pipelines.FindDeal("default")->removed());

  v1::Command deal = Cmd("c-deal", "d-1");
  deal.mutable_create_deal()->mutable_deal()->set_title("Order");
  CheckRefused(nullptr, deal, absl::StatusCode::kInvalidArgument, "deal.pipeline_id", config);

  v1::Command create = Cmd("c-lead", "lead-1");
  create.mutable_create_lead()->mutable_lead()->set_first_name("Ivan");
  const v1::AggregateState lead = Apply(nullptr, create, config);
  v1::Command convert = Cmd("c-convert", "lead-1");
  convert.mutable_convert_lead();
  CheckRefused(&lead, convert, absl::StatusCode::kInvalidArgument, "conversion.deal_pipeline_id",
               config);
}

// --- leads: required fields ---------------------------------------------------

v1::Command CreateLeadCommand(const std::string& lead_id) {
  v1::Command command = Cmd("create-" + lead_id, lead_id);
  auto* lead = command.mutable_create_lead()->mutable_lead();
  lead->set_first_name("Ivan");
  lead->set_last_name("Petrov");
  lead->add_phones()->set_number("8 (916) 123-45-67");
  lead->add_emails()->set_address("Ivan@Example.com");
  lead->set_responsible_id("alice");
  lead->set_source(v1::LEAD_SOURCE_MANUAL);
  lead->set_comments("wants a quote");
  return command;
}

v1::AggregateState CreatedLead(const std::string& lead_id = "lead-1",
                               const DomainConfig& config = kConfig) {
  return Apply(nullptr, CreateLeadCommand(lead_id), config);
}

v1::Command UpdateLeadCommand(const std::string& command_id, const std::string& lead_id,
                              const v1::Lead& values, const Fields& paths) {
  v1::Command command = Cmd(command_id, lead_id);
  *command.mutable_update_lead()->mutable_lead() = values;
  for (const auto& path : paths)
    command.mutable_update_lead()->mutable_update_mask()->add_paths(path);
  return command;
}

v1::Command ChangeStatus(const std::string& command_id, const std::string& lead_id,
                         const std::string& status_id) {
  v1::Command command = Cmd(command_id, lead_id);
  command.mutable_change_lead_status()->set_status_id(status_id);
  return command;
}

v1::Money Rub(int64_t amount_minor) {
  v1::Money money;
  money.set_currency_code("RUB");
  money.set_amount_minor(amount_minor);
  return money;
}

TEST_CASE("MissingFields and CheckRequiredFields name every empty required field") {
  v1::Lead lead;
  lead.set_first_name("Ivan");
  lead.set_title("   ");
  google::protobuf::RepeatedPtrField<std::string> required;
  for (const char* f :
       {"first_name", "title", "phones", "opportunity", "custom_fields.service", "source"}) {
    required.Add(f);
  }
  CHECK(MissingFields(lead, required) ==
        Fields{"title", "phones", "opportunity", "custom_fields.service", "source"});
  *lead.mutable_opportunity() = Rub(0);  // a zero amount is no amount
  (*lead.mutable_custom_fields())["service"] = " ";
  CHECK(MissingFields(lead, required) ==
        Fields{"title", "phones", "opportunity", "custom_fields.service", "source"});
  lead.set_title("Audit");
  lead.add_phones()->set_number("+79161234567");
  *lead.mutable_opportunity() = Rub(100);
  (*lead.mutable_custom_fields())["service"] = "audit";
  lead.set_source(v1::LEAD_SOURCE_CALL);
  CHECK(MissingFields(lead, required).empty());
  CHECK(CheckRequiredFields(lead, required, "status X").ok());

  lead.clear_phones();
  lead.clear_custom_fields();
  absl::Status status = CheckRequiredFields(lead, required, "status SEND_PROPOSAL");
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(FieldsOf(status) == Fields{"phones", "custom_fields.service"});
  CHECK(FieldOf(status) == "phones");
  CHECK_THAT(std::string(status.message()), Catch::Contains("status SEND_PROPOSAL"));
}

TEST_CASE("a lead enters a status only with the status's required fields filled") {
  const DomainConfig config = Configured({ServiceFirmPipeline()});
  CHECK(config.pipelines.lead().title() == "Service leads");
  const v1::AggregateState created = CreatedLead("lead-1", config);
  CHECK(created.lead().status_id() == "NEW");
  const v1::AggregateState qualified =
      Apply(&created, ChangeStatus("c-q", "lead-1", "QUALIFIED"), config);
  CHECK(qualified.lead().status_id() == "QUALIFIED");

  absl::Status status =
      Refusal(&qualified, ChangeStatus("c-p1", "lead-1", "SEND_PROPOSAL"), config);
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(FieldsOf(status) == Fields{"opportunity", "custom_fields.service"});

  // A zero amount is still no budget.
  v1::Lead values;
  *values.mutable_opportunity() = Rub(0);
  const v1::AggregateState zero =
      Apply(&qualified, UpdateLeadCommand("c-u0", "lead-1", values, {"opportunity"}), config);
  CHECK(FieldsOf(Refusal(&zero, ChangeStatus("c-p2", "lead-1", "SEND_PROPOSAL"), config)) ==
        Fields{"opportunity", "custom_fields.service"});

  *values.mutable_opportunity() = Rub(15000000);
  const v1::AggregateState budget =
      Apply(&zero, UpdateLeadCommand("c-u1", "lead-1", values, {"opportunity"}), config);
  status = Refusal(&budget, ChangeStatus("c-p3", "lead-1", "SEND_PROPOSAL"), config);
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(FieldsOf(status) == Fields{"custom_fields.service"});

  v1::Lead service;
  (*service.mutable_custom_fields())["service"] = "accounting audit";
  const v1::AggregateState both =
      Apply(&budget, UpdateLeadCommand("c-u2", "lead-1", service, {"custom_fields"}), config);
  auto events = Events(&both, ChangeStatus("c-p4", "lead-1", "SEND_PROPOSAL"), config);
  REQUIRE(events.size() == 1);
  CHECK(events[0].lead_status_changed().from_status_id() == "QUALIFIED");
  CHECK(events[0].lead_status_changed().to_status_id() == "SEND_PROPOSAL");
  CHECK(Fold(both, events).lead().status_id() == "SEND_PROPOSAL");

  // Statuses without requirements need nothing; the default pipeline has
  // no SEND_PROPOSAL.
  CHECK(Apply(&created, ChangeStatus("c-c", "lead-1", "CONSENT"), config).lead().status_id() ==
        "CONSENT");
  CheckRefused(&both, ChangeStatus("c-p5", "lead-1", "SEND_PROPOSAL"),
               absl::StatusCode::kInvalidArgument, "status_id");
  CheckRefused(&both, ChangeStatus("c-p6", "lead-1", "CONVERTED"),
               absl::StatusCode::kFailedPrecondition, "status_id", config);
}

TEST_CASE("a lead converts only with the conversion's required fields filled") {
  const DomainConfig config = Configured({ServiceFirmPipeline()});
  v1::Command create = Cmd("c-create", "lead-1");
  create.mutable_create_lead()->mutable_lead()->set_first_name("Ivan");
  create.mutable_create_lead()->mutable_lead()->add_phones()->set_number("+79161234567");
  const v1::AggregateState lead = Apply(nullptr, create, config);
  v1::Command convert = Cmd("c-convert", "lead-1");
  convert.mutable_convert_lead();

  absl::Status status = Refusal(&lead, convert, config);
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(FieldsOf(status) == Fields{"last_name", "custom_fields.contract"});

  v1::Lead values;
  values.set_last_name("Petrov");
  const v1::AggregateState named =
      Apply(&lead, UpdateLeadCommand("c-u1", "lead-1", values, {"last_name"}), config);
  status = Refusal(&named, convert, config);
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(FieldsOf(status) == Fields{"custom_fields.contract"});

  (*values.mutable_custom_fields())["contract"] = "2024/17";
  const v1::AggregateState ready =
      Apply(&named, UpdateLeadCommand("c-u2", "lead-1", values, {"custom_fields"}), config);
  const v1::AggregateState converted = Apply(&ready, convert, config);
  CHECK(converted.lead().status_id() == "CONVERTED");
  CHECK(converted.lead().status_semantic() == v1::STATUS_SEMANTIC_SUCCESS);
  // The default lead pipeline asks nothing.
  CHECK(Apply(&lead, convert).lead().status_semantic() == v1::STATUS_SEMANTIC_SUCCESS);
}

// --- conversion ------------------------------------------------------------------

v1::Command Convert(const std::string& lead_id = "lead-1") {
  v1::Command command = Cmd("c-convert", lead_id);
  command.set_correlation_id("corr-1");
  command.mutable_convert_lead();
  return command;
}

// The lead after the event, the event and its follow-up commands.
struct Conversion {
  v1::AggregateState lead;
  v1::EventEnvelope event;
  std::vector<v1::Command> follow_ups;
};

Conversion Converted(const v1::AggregateState& lead, const v1::Command& convert,
                     const DomainConfig& config = kConfig) {
  auto events = Events(&lead, convert, config);
  REQUIRE(events.size() == 1);
  REQUIRE(events[0].type() == "leadflow.v1.LeadConverted");
  return {Fold(lead, events), events[0], FollowUpCommands(events[0])};
}

// Each follow-up decided on empty state succeeds; the states by command id.
std::map<std::string, v1::AggregateState> Run(const std::vector<v1::Command>& commands,
                                              const DomainConfig& config = kConfig) {
  std::map<std::string, v1::AggregateState> states;
  for (const auto& command : commands) {
    INFO(command.command_id());
    states[command.command_id()] = Apply(nullptr, command, config);
  }
  return states;
}

TEST_CASE("converting a new person: a contact and a deal, made of the lead") {
  const v1::AggregateState lead = CreatedLead();
  const Conversion c = Converted(lead, Convert());
  const auto& converted = c.event.lead_converted();
  CHECK(converted.from_status_id() == "NEW");
  CHECK(converted.to_status_id() == "CONVERTED");
  CHECK(converted.creates_contact());
  CHECK_FALSE(converted.creates_company());
  CHECK(converted.contact_id() == "lead-1-contact");
  CHECK(converted.company_id().empty());
  CHECK(converted.deal_id() == "lead-1-deal");
  CHECK(converted.deal_pipeline_id() == "default");
  CHECK(converted.deal_stage_id() == "NEW");
  CHECK(converted.deal_title() == "Lead: Ivan Petrov");
  CHECK(converted.responsible_id() == "alice");
  CHECK(SerializeDeterministic(converted.lead()) == SerializeDeterministic(lead.lead()));

  const v1::Lead& after = c.lead.lead();
  CHECK(after.status_id() == "CONVERTED");
  CHECK(after.status_semantic() == v1::STATUS_SEMANTIC_SUCCESS);
  CHECK(after.contact_id() == "lead-1-contact");
  CHECK(after.company_id().empty());
  CHECK(after.deal_id() == "lead-1-deal");
  CHECK(after.version() == 2);

  // Converted is terminal: a second conversion is refused.
  v1::Command again = Convert();
  again.set_command_id("c-convert-2");
  CheckRefused(&c.lead, again, absl::StatusCode::kFailedPrecondition, "name");

  REQUIRE(c.follow_ups.size() == 2);
  const v1::Command& contact_cmd = c.follow_ups[0];
  CHECK(contact_cmd.command_id() == "convert:lead-1:contact");
  CHECK(contact_cmd.aggregate_id() == "lead-1-contact");
  CHECK(contact_cmd.causation_id() == c.event.event_id());
  CHECK(contact_cmd.correlation_id() == "corr-1");
  CHECK(contact_cmd.actor() == "alice");
  CHECK(contact_cmd.issue_time().seconds() == 1700000000);
  REQUIRE(contact_cmd.has_create_contact());
  const v1::Contact& contact = contact_cmd.create_contact().contact();
  CHECK(contact.first_name() == "Ivan");
  CHECK(contact.last_name() == "Petrov");
  REQUIRE(contact.phones_size() == 1);
  CHECK(contact.phones(0).number() == "+79161234567");
  REQUIRE(contact.emails_size() == 1);
  CHECK(contact.emails(0).address() == "ivan@example.com");
  CHECK(contact.company_ids_size() == 0);
  CHECK(contact.responsible_id() == "alice");
  CHECK(contact.source_lead_id() == "lead-1");

  const v1::Command& deal_cmd = c.follow_ups[1];
  CHECK(deal_cmd.command_id() == "convert:lead-1:deal");
  CHECK(deal_cmd.aggregate_id() == "lead-1-deal");
  REQUIRE(deal_cmd.has_create_deal());
  CHECK(deal_cmd.create_deal().stage_id() == "NEW");
  const v1::Deal& deal = deal_cmd.create_deal().deal();
  CHECK(deal.title() == "Lead: Ivan Petrov");
  CHECK(deal.pipeline_id() == "default");
  CHECK(deal.contact_id() == "lead-1-contact");
  CHECK(deal.company_id().empty());
  CHECK(deal.source_lead_id() == "lead-1");
  CHECK(deal.responsible_id() == "alice");
  CHECK(deal.comments() == "wants a quote");

  // Replaying the event gives the very same commands.
  const auto replayed = FollowUpCommands(c.event);
  REQUIRE(replayed.size() == c.follow_ups.size());
  for (size_t i = 0; i < replayed.size(); ++i) {
    CHECK(SerializeDeterministic(replayed[i]) == SerializeDeterministic(c.follow_ups[i]));
  }

  auto states = Run(c.follow_ups);
  const v1::Contact& made_contact = states["convert:lead-1:contact"].contact();
  CHECK(made_contact.contact_id() == "lead-1-contact");
  CHECK(made_contact.name() == "contacts/lead-1-contact");
  CHECK(made_contact.identity_keys_size() == 2);
  const v1::Deal& made_deal = states["convert:lead-1:deal"].deal();
  CHECK(made_deal.deal_id() == "lead-1-deal");
  CHECK(made_deal.stage_id() == "NEW");
  CHECK(made_deal.stage_semantic() == v1::STATUS_SEMANTIC_IN_PROGRESS);
  CHECK(made_deal.contact_id() == "lead-1-contact");
}

TEST_CASE("converting with create_company also creates the company, linked") {
  v1::Command create = CreateLeadCommand("lead-1");
  create.mutable_create_lead()->mutable_lead()->set_company_title("ООО Ромашка");
  *create.mutable_create_lead()->mutable_lead()->mutable_opportunity() = Rub(500000);
  (*create.mutable_create_lead()->mutable_lead()->mutable_custom_fields())["service"] = "audit";
  const v1::AggregateState lead = Apply(nullptr, create);
  v1::Command convert = Convert();
  convert.mutable_convert_lead()->set_create_company(true);
  convert.mutable_convert_lead()->set_deal_title("Audit 2024");
  convert.mutable_convert_lead()->set_responsible_id("bob");
  const Conversion c = Converted(lead, convert);
  const auto& converted = c.event.lead_converted();
  CHECK(converted.creates_contact());
  CHECK(converted.creates_company());
  CHECK(converted.contact_id() == "lead-1-contact");
  CHECK(converted.company_id() == "lead-1-company");
  CHECK(converted.deal_id() == "lead-1-deal");
  CHECK(converted.responsible_id() == "bob");
  CHECK(c.lead.lead().company_id() == "lead-1-company");
  CHECK(c.lead.lead().contact_id() == "lead-1-contact");
  CHECK(c.lead.lead().deal_id() == "lead-1-deal");

  REQUIRE(c.follow_ups.size() == 3);
  CHECK(c.follow_ups[0].command_id() == "convert:lead-1:contact");
  CHECK(c.follow_ups[1].command_id() == "convert:lead-1:company");
  CHECK(c.follow_ups[2].command_id() == "convert:lead-1:deal");
  const v1::Contact& contact = c.follow_ups[0].create_contact().contact();
  CHECK(contact.company_ids_size() == 1);
  CHECK(contact.company_ids(0) == "lead-1-company");
  CHECK(contact.responsible_id() == "bob");
  REQUIRE(c.follow_ups[1].has_create_company());
  CHECK(c.follow_ups[1].aggregate_id() == "lead-1-company");
  const v1::Company& company = c.follow_ups[1].create_company().company();
  CHECK(company.title() == "ООО Ромашка");
  REQUIRE(company.phones_size() == 1);
  CHECK(company.phones(0).number() == "+79161234567");
  CHECK(company.responsible_id() == "bob");
  CHECK(company.source_lead_id() == "lead-1");
  const v1::Deal& deal = c.follow_ups[2].create_deal().deal();
  CHECK(deal.title() == "Audit 2024");
  CHECK(deal.contact_id() == "lead-1-contact");
  CHECK(deal.company_id() == "lead-1-company");
  CHECK(deal.source_lead_id() == "lead-1");
  CHECK(deal.responsible_id() == "bob");
  CHECK(deal.opportunity().amount_minor() == 500000);
  CHECK(deal.custom_fields().at("service") == "audit");

  auto states = Run(c.follow_ups);
  CHECK(states["convert:lead-1:company"].company().company_id() == "lead-1-company");
  CHECK(states["convert:lead-1:company"].company().identity_keys(0) == "phone:+79161234567");
  CHECK(states["convert:lead-1:contact"].contact().company_ids(0) == "lead-1-company");
  CHECK(states["convert:lead-1:deal"].deal().company_id() == "lead-1-company");

  // No company title, no company.
  const v1::AggregateState untitled = CreatedLead();
  CheckRefused(&untitled, convert, absl::StatusCode::kFailedPrecondition, "company_title");
  // A known client gets a deal only.
  v1::Command known = convert;
  known.mutable_convert_lead()->set_contact_id("client-7");
  CheckRefused(&lead, known, absl::StatusCode::kInvalidArgument, "conversion.create_company");
}

TEST_CASE("converting for a known client creates the deal only") {
  const v1::AggregateState lead = CreatedLead();
  v1::Command for_contact = Convert();
  for_contact.mutable_convert_lead()->set_contact_id("client-7");
  Conversion c = Converted(lead, for_contact);
  CHECK_FALSE(c.event.lead_converted().creates_contact());
  CHECK_FALSE(c.event.lead_converted().creates_company());
  CHECK(c.event.lead_converted().contact_id() == "client-7");
  CHECK(c.lead.lead().contact_id() == "client-7");
  CHECK(c.lead.lead().deal_id() == "lead-1-deal");
  REQUIRE(c.follow_ups.size() == 1);
  CHECK(c.follow_ups[0].command_id() == "convert:lead-1:deal");
  CHECK(c.follow_ups[0].create_deal().deal().contact_id() == "client-7");
  Run(c.follow_ups);

  v1::Command for_company = Convert();
  for_company.mutable_convert_lead()->set_company_id("acme");
  c = Converted(lead, for_company);
  CHECK(c.event.lead_converted().contact_id().empty());
  CHECK(c.event.lead_converted().company_id() == "acme");
  REQUIRE(c.follow_ups.size() == 1);
  CHECK(c.follow_ups[0].create_deal().deal().company_id() == "acme");

  v1::Command bad = Convert();
  bad.mutable_convert_lead()->set_contact_id("Client 7");
  CheckRefused(&lead, bad, absl::StatusCode::kInvalidArgument, "conversion.contact_id");
  bad = Convert();
  bad.mutable_convert_lead()->set_company_id("ACME");
  CheckRefused(&lead, bad, absl::StatusCode::kInvalidArgument, "conversion.company_id");

  // A repeat lead converts for the client it matched.
  v1::Command repeat = CreateLeadCommand("lead-2");
  repeat.mutable_create_lead()->mutable_client()->set_contact_id("client-7");
  repeat.mutable_create_lead()->mutable_client()->set_company_id("acme");
  const v1::AggregateState repeat_lead = Apply(nullptr, repeat);
  c = Converted(repeat_lead, Convert("lead-2"));
  CHECK_FALSE(c.event.lead_converted().creates_contact());
  CHECK(c.event.lead_converted().contact_id() == "client-7");
  CHECK(c.event.lead_converted().company_id() == "acme");
  CHECK(c.event.lead_converted().deal_id() == "lead-2-deal");
  REQUIRE(c.follow_ups.size() == 1);
  const v1::Deal& deal = c.follow_ups[0].create_deal().deal();
  CHECK(deal.contact_id() == "client-7");
  CHECK(deal.company_id() == "acme");
  CHECK(deal.source_lead_id() == "lead-2");
}

TEST_CASE("conversion refuses unknown and non-deal pipelines; uses a configured one") {
  const v1::AggregateState lead = CreatedLead();
  for (const char* id : {"wholesale", "lead"}) {
    v1::Command convert = Convert();
    convert.mutable_convert_lead()->set_deal_pipeline_id(id);
    CheckRefused(&lead, convert, absl::StatusCode::kInvalidArgument, "conversion.deal_pipeline_id");
  }
  const DomainConfig config = Configured({RetailPipeline()});
  v1::Command convert = Convert();
  convert.mutable_convert_lead()->set_deal_pipeline_id("retail");
  const Conversion c = Converted(lead, convert, config);
  CHECK(c.event.lead_converted().deal_pipeline_id() == "retail");
  CHECK(c.event.lead_converted().deal_stage_id() == "NEW");
  auto states = Run(c.follow_ups, config);
  CHECK(states["convert:lead-1:deal"].deal().pipeline_id() == "retail");
}

TEST_CASE("a new contact needs a name, a phone, an email or a messenger handle") {
  v1::Command create = Cmd("c-create", "lead-1");
  create.mutable_create_lead()->mutable_lead()->set_company_title("Acme");
  const v1::AggregateState lead = Apply(nullptr, create);
  absl::Status status = Refusal(&lead, Convert());
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(FieldsOf(status) == Fields{"first_name", "phones", "emails", "messengers"});
  // A chat handle is enough to reach the person.
  v1::Command chat = Cmd("c-chat", "lead-1");
  auto* handle = chat.mutable_update_lead()->mutable_lead()->add_messengers();
  handle->set_channel("telegram");
  handle->set_handle("@acme");
  chat.mutable_update_lead()->mutable_update_mask()->add_paths("messengers");
  const v1::AggregateState reachable = Apply(&lead, chat);
  CHECK(Apply(&reachable, Convert()).lead().status_id() == "CONVERTED");
  // For a known client, nothing is needed of the lead.
  v1::Command known = Convert();
  known.mutable_convert_lead()->set_company_id("acme");
  CHECK(Apply(&lead, known).lead().status_id() == "CONVERTED");
}

TEST_CASE(
    "the deal of a conversion lands in the first stage even when that stage asks for fields") {
  v1::Pipeline strict = RetailPipeline();
  strict.mutable_stages(0)->add_required_fields("opportunity");
  const DomainConfig config = Configured({strict});
  const v1::AggregateState lead = CreatedLead("lead-1", config);
  v1::Command convert = Convert();
  convert.mutable_convert_lead()->set_deal_pipeline_id("retail");
  const Conversion c = Converted(lead, convert, config);
  auto states = Run(c.follow_ups, config);
  CHECK(states["convert:lead-1:deal"].deal().stage_id() == "NEW");
}

// --- repeat leads ----------------------------------------------------------------

TEST_CASE("a lead for a known client is a repeat lead and its responsible is told first") {
  v1::Command create = CreateLeadCommand("lead-1");
  create.mutable_create_lead()->mutable_lead()->clear_responsible_id();
  *create.mutable_create_lead()->mutable_origin() =
      testing::CallEvent("call-1", "+79161234567", "bob");
  auto* client = create.mutable_create_lead()->mutable_client();
  client->set_contact_id("client-7");
  client->set_company_id("acme");
  client->set_responsible_id("maria");
  client->set_matched_on("phone");
  auto events = Events(nullptr, create);
  REQUIRE(events.size() == 3);
  CHECK(events[0].type() == "leadflow.v1.LeadCreated");
  CHECK(events[1].type() == "leadflow.v1.CommunicationRecorded");
  CHECK(events[2].type() == "leadflow.v1.ResponsibleNotified");
  CHECK(events[2].responsible_notified().user_id() == "maria");
  CHECK(events[2].responsible_notified().priority());
  CHECK_THAT(events[2].responsible_notified().reason(), Catch::Contains("client-7"));
  const v1::Lead lead = Fold(v1::AggregateState(), events).lead();
  CHECK(lead.repeat());
  CHECK(lead.contact_id() == "client-7");
  CHECK(lead.company_id() == "acme");
  CHECK(lead.responsible_id() == "maria");
  CHECK(lead.version() == 3);

  // A lead with its own responsible keeps them; the client's is told, and
  // its own hears too that the lead has priority.
  v1::Command own = CreateLeadCommand("lead-2");
  *own.mutable_create_lead()->mutable_client() = *client;
  events = Events(nullptr, own);
  REQUIRE(events.size() == 3);
  CHECK(events[1].responsible_notified().user_id() == "maria");
  CHECK(events[2].responsible_notified().user_id() == "alice");
  CHECK(events[2].responsible_notified().priority());
  CHECK_THAT(events[2].responsible_notified().reason(), Catch::Contains("already a client"));
  CHECK(Fold(v1::AggregateState(), events).lead().responsible_id() == "alice");

  // A client with nobody responsible: linked; only the lead's own is told.
  v1::Command nobody = CreateLeadCommand("lead-3");
  nobody.mutable_create_lead()->mutable_client()->set_company_id("acme");
  events = Events(nullptr, nobody);
  REQUIRE(events.size() == 2);
  CHECK(events[1].responsible_notified().user_id() == "alice");
  CHECK(Fold(v1::AggregateState(), events).lead().repeat());
  CHECK(Fold(v1::AggregateState(), events).lead().company_id() == "acme");

  // No client, no repeat; repeat and links are output only.
  v1::Command fresh = CreateLeadCommand("lead-4");
  fresh.mutable_create_lead()->mutable_lead()->set_repeat(true);
  fresh.mutable_create_lead()->mutable_lead()->set_contact_id("client-7");
  const v1::Lead plain = Apply(nullptr, fresh).lead();
  CHECK_FALSE(plain.repeat());
  CHECK(plain.contact_id().empty());
}

// --- merging -------------------------------------------------------------------------

v1::Command MergeInto(const std::string& command_id, const std::string& lead_id,
                      const std::string& target) {
  v1::Command command = Cmd(command_id, lead_id);
  command.mutable_merge_lead_into()->set_target_lead_id(target);
  return command;
}

TEST_CASE("merging a lead into another closes it and points at the one kept") {
  const v1::AggregateState lead = CreatedLead();
  CheckRefused(&lead, MergeInto("c-m0", "lead-1", "lead-1"), absl::StatusCode::kInvalidArgument,
               "merged");
  CheckRefused(&lead, MergeInto("c-m0", "lead-1", "Lead 2"), absl::StatusCode::kInvalidArgument,
               "merged");

  auto events = Events(&lead, MergeInto("c-m1", "lead-1", "lead-2"));
  REQUIRE(events.size() == 1);
  CHECK(events[0].type() == "leadflow.v1.LeadMergedInto");
  const auto& merged_into = events[0].lead_merged_into();
  CHECK(merged_into.target_lead_id() == "lead-2");
  CHECK(merged_into.from_status_id() == "NEW");
  CHECK(merged_into.to_status_id() == "JUNK");
  CHECK(SerializeDeterministic(merged_into.lead()) == SerializeDeterministic(lead.lead()));
  const v1::AggregateState merged = Fold(lead, events);
  CHECK(merged.lead().status_id() == "JUNK");
  CHECK(merged.lead().status_semantic() == v1::STATUS_SEMANTIC_FAILURE);
  CHECK(merged.lead().junk_reason() == v1::JUNK_REASON_DUPLICATE);
  CHECK(merged.lead().merged_into_lead_id() == "lead-2");

  // Again into the same lead: nothing; into another: refused.
  CHECK(Events(&merged, MergeInto("c-m2", "lead-1", "lead-2")).empty());
  CheckRefused(&merged, MergeInto("c-m3", "lead-1", "lead-3"),
               absl::StatusCode::kFailedPrecondition, "merged");
  // A merged lead is not reopened, even by a supervisor.
  DomainConfig supervised;
  supervised.supervisors = {"alice"};
  v1::Command reopen = Cmd("c-reopen", "lead-1");
  reopen.mutable_reopen_lead()->set_reason("not a duplicate");
  CheckRefused(&merged, reopen, absl::StatusCode::kFailedPrecondition, "name", supervised);

  // A converted lead keeps its records.
  const v1::AggregateState converted = Apply(&lead, Convert());
  CheckRefused(&converted, MergeInto("c-m4", "lead-1", "lead-2"),
               absl::StatusCode::kFailedPrecondition, "merged");

  // The lead kept absorbs it.
  const auto follow_ups = FollowUpCommands(events[0]);
  REQUIRE(follow_ups.size() == 1);
  CHECK(follow_ups[0].command_id() == "merge:lead-1:absorb");
  CHECK(follow_ups[0].aggregate_id() == "lead-2");
  CHECK(follow_ups[0].causation_id() == events[0].event_id());
  REQUIRE(follow_ups[0].has_absorb_lead());
  CHECK(follow_ups[0].absorb_lead().source().lead_id() == "lead-1");
  // Other events cause nothing elsewhere.
  CHECK(FollowUpCommands(Events(nullptr, CreateLeadCommand("lead-9"))[0]).empty());
}

TEST_CASE("absorbing a merged lead takes in its contact points, names and communications") {
  // lead-1: Ivan Petrov, one communication.
  const v1::AggregateState created = CreatedLead();
  v1::Command record = Cmd("intake:call-9", "lead-1");
  *record.mutable_record_communication()->mutable_channel_event() =
      testing::CallEvent("call-9", "+79161234567");
  const v1::AggregateState source = Apply(&created, record);
  REQUIRE(source.lead().communication_count() == 1);

  // lead-2: a first name of its own, another phone, two communications.
  v1::Command create = Cmd("intake:call-1", "lead-2");
  *create.mutable_create_lead()->mutable_origin() = testing::CallEvent("call-1", "+74951234567");
  auto* target_lead = create.mutable_create_lead()->mutable_lead();
  target_lead->set_first_name("John");
  target_lead->add_phones()->set_number("+7 495 123-45-67");
  target_lead->set_responsible_id("bob");
  v1::AggregateState target = Apply(nullptr, create);
  v1::Command record2 = Cmd("intake:call-2", "lead-2");
  *record2.mutable_record_communication()->mutable_channel_event() =
      testing::CallEvent("call-2", "+74951234567");
  target = Apply(&target, record2);
  REQUIRE(target.lead().communication_count() == 2);

  auto merge_events = Events(&source, MergeInto("c-merge", "lead-1", "lead-2"));
  const auto follow_ups = FollowUpCommands(merge_events[0]);
  REQUIRE(follow_ups.size() == 1);
  auto events = Events(&target, follow_ups[0]);
  REQUIRE(events.size() == 1);
  CHECK(events[0].type() == "leadflow.v1.LeadAbsorbed");
  CHECK(events[0].lead_absorbed().source_lead_id() == "lead-1");
  const v1::Lead kept = Fold(target, events).lead();
  CHECK(kept.first_name() == "John");   // its own, kept
  CHECK(kept.last_name() == "Petrov");  // empty, filled
  CHECK(kept.comments() == "wants a quote");
  CHECK(kept.responsible_id() == "bob");
  REQUIRE(kept.phones_size() == 2);
  CHECK(kept.phones(0).number() == "+74951234567");
  CHECK(kept.phones(1).number() == "+79161234567");
  REQUIRE(kept.emails_size() == 1);
  CHECK(kept.emails(0).address() == "ivan@example.com");
  CHECK(kept.communication_count() == 3);
  CHECK(kept.merged_lead_ids_size() == 1);
  CHECK(kept.merged_lead_ids(0) == "lead-1");
  CHECK(kept.identity_keys_size() == 3);
  CHECK(kept.identity_keys(2) == "email:ivan@example.com");
  CHECK(kept.version() == target.lead().version() + 1);

  // The same source again (a replayed follow-up) changes nothing.
  const v1::AggregateState after = Fold(target, events);
  CHECK(Events(&after, follow_ups[0]).empty());
  v1::Command again = follow_ups[0];
  again.set_command_id("another-id");
  CHECK(Events(&after, again).empty());

  v1::Command self = Cmd("c-self", "lead-2");
  self.mutable_absorb_lead()->mutable_source()->set_lead_id("lead-2");
  CheckRefused(&after, self, absl::StatusCode::kInvalidArgument, "absorb_lead.source.lead_id");
}

// --- contacts and companies ------------------------------------------------------

v1::Command CreateContact(const std::string& id) {
  v1::Command command = Cmd("c-" + id, id);
  auto* contact = command.mutable_create_contact()->mutable_contact();
  contact->set_first_name("Anna");
  contact->set_last_name("Sidorova");
  contact->add_phones()->set_number("8 (495) 123-45-67");
  contact->add_phones()->set_number("+7 495 123 45 67");  // the same number
  contact->add_emails()->set_address(" Anna@Example.RU ");
  contact->add_identity_keys("phone:+70000000000");  // output only: ignored
  return command;
}

TEST_CASE("creating a contact normalises its contact points and keys it") {
  auto events = Events(nullptr, CreateContact("anna"));
  REQUIRE(events.size() == 1);
  CHECK(events[0].type() == "leadflow.v1.ContactCreated");
  CHECK(events[0].aggregate_type() == "contact");
  const v1::Contact contact = Fold(v1::AggregateState(), events).contact();
  CHECK(contact.contact_id() == "anna");
  CHECK(contact.name() == "contacts/anna");
  CHECK(contact.version() == 1);
  CHECK(contact.create_time().seconds() == 1700000000);
  REQUIRE(contact.phones_size() == 1);
  CHECK(contact.phones(0).number() == "+74951234567");
  CHECK(contact.emails(0).address() == "anna@example.ru");
  CHECK(contact.identity_keys_size() == 2);
  CHECK(contact.identity_keys(0) == "phone:+74951234567");
  CHECK(contact.identity_keys(1) == "email:anna@example.ru");

  // Another default region reads local numbers there.
  DomainConfig kz;
  kz.default_region = "KZ";
  v1::Command local = Cmd("c-kz", "aigul");
  local.mutable_create_contact()->mutable_contact()->add_phones()->set_number("8 (701) 123-45-67");
  CHECK(Apply(nullptr, local, kz).contact().phones(0).number() == "+77011234567");

  // A name, a phone or an email is enough; none is refused.
  v1::Command email_only = Cmd("c-e", "e");
  email_only.mutable_create_contact()->mutable_contact()->add_emails()->set_address("a@b.ru");
  CHECK(Apply(nullptr, email_only).contact().emails_size() == 1);
  v1::Command name_only = Cmd("c-n", "n");
  name_only.mutable_create_contact()->mutable_contact()->set_last_name("Sidorova");
  CHECK(Apply(nullptr, name_only).contact().last_name() == "Sidorova");
  v1::Command nothing = Cmd("c-0", "nobody");
  nothing.mutable_create_contact()->mutable_contact()->set_comments("who?");
  CheckRefused(nullptr, nothing, absl::StatusCode::kInvalidArgument, "contact.first_name");

  v1::Command bad_phone = CreateContact("anna");
  bad_phone.mutable_create_contact()->mutable_contact()->mutable_phones(1)->set_number("12");
  CheckRefused(nullptr, bad_phone, absl::StatusCode::kInvalidArgument, "contact.phones[1].number");
  v1::Command bad_email = CreateContact("anna");
  bad_email.mutable_create_contact()->mutable_contact()->mutable_emails(0)->set_address("anna@");
  CheckRefused(nullptr, bad_email, absl::StatusCode::kInvalidArgument, "contact.emails[0].address");
  v1::Command bad_company = CreateContact("anna");
  bad_company.mutable_create_contact()->mutable_contact()->add_company_ids("acme");
  bad_company.mutable_create_contact()->mutable_contact()->add_company_ids("ACME Ltd");
  CheckRefused(nullptr, bad_company, absl::StatusCode::kInvalidArgument, "contact.company_ids[1]");
  v1::Command messenger = CreateContact("anna");
  messenger.mutable_create_contact()->mutable_contact()->add_messengers()->set_channel("telegram");
  CheckRefused(nullptr, messenger, absl::StatusCode::kInvalidArgument, "contact.messengers[0]");
}

TEST_CASE("updating a contact sets the masked fields and refuses others by index") {
  const v1::AggregateState anna = Apply(nullptr, CreateContact("anna"));
  v1::Command update = Cmd("c-upd", "anna");
  auto* contact = update.mutable_update_contact()->mutable_contact();
  contact->add_phones()->set_number("8 916 123-45-67");
  contact->set_comments("prefers email");
  contact->set_first_name("not in the mask");
  update.mutable_update_contact()->mutable_update_mask()->add_paths("phones");
  update.mutable_update_contact()->mutable_update_mask()->add_paths("comments");
  const v1::Contact after = Apply(&anna, update).contact();
  CHECK(after.first_name() == "Anna");
  CHECK(after.comments() == "prefers email");
  REQUIRE(after.phones_size() == 1);
  CHECK(after.phones(0).number() == "+79161234567");
  CHECK(after.identity_keys(0) == "phone:+79161234567");
  CHECK(after.identity_keys(1) == "email:anna@example.ru");
  CHECK(after.version() == 2);

  v1::Command empty = Cmd("c-upd0", "anna");
  empty.mutable_update_contact();
  CheckRefused(&anna, empty, absl::StatusCode::kInvalidArgument, "update_mask");
  for (const char* path : {"contact_id", "identity_keys", "source_lead_id", "title"}) {
    INFO(path);
    v1::Command bad = Cmd("c-upd1", "anna");
    bad.mutable_update_contact()->mutable_update_mask()->add_paths("comments");
    bad.mutable_update_contact()->mutable_update_mask()->add_paths(path);
    CheckRefused(&anna, bad, absl::StatusCode::kInvalidArgument, "update_mask.paths[1]");
  }
  v1::Command bad_phone = Cmd("c-upd2", "anna");
  bad_phone.mutable_update_contact()->mutable_contact()->add_phones()->set_number("abc");
  bad_phone.mutable_update_contact()->mutable_update_mask()->add_paths("phones");
  CheckRefused(&anna, bad_phone, absl::StatusCode::kInvalidArgument, "contact.phones[0].number");
}

TEST_CASE("a company needs a title; its phones are normalised and keyed") {
  v1::Command create = Cmd("c-acme", "acme");
  auto* company = create.mutable_create_company()->mutable_company();
  company->set_title("ООО «Ромашка»");
  company->add_phones()->set_number("8 (495) 123-45-67");
  company->add_emails()->set_address("Office@Romashka.RU");
  company->mutable_requisites()->set_tax_id("7701234567");
  auto events = Events(nullptr, create);
  REQUIRE(events.size() == 1);
  CHECK(events[0].type() == "leadflow.v1.CompanyCreated");
  CHECK(events[0].aggregate_type() == "company");
  const v1::AggregateState acme = Fold(v1::AggregateState(), events);
  CHECK(acme.company().company_id() == "acme");
  CHECK(acme.company().name() == "companies/acme");
  CHECK(acme.company().phones(0).number() == "+74951234567");
  CHECK(acme.company().identity_keys_size() == 2);
  CHECK(acme.company().identity_keys(1) == "email:office@romashka.ru");
  CHECK(acme.company().requisites().tax_id() == "7701234567");

  v1::Command untitled = create;
  untitled.mutable_create_company()->mutable_company()->set_title("  ");
  CheckRefused(nullptr, untitled, absl::StatusCode::kInvalidArgument, "company.title");
  v1::Command bad_phone = create;
  bad_phone.mutable_create_company()->mutable_company()->mutable_phones(0)->set_number("0");
  CheckRefused(nullptr, bad_phone, absl::StatusCode::kInvalidArgument, "company.phones[0].number");

  v1::Command retitle = Cmd("c-t", "acme");
  retitle.mutable_update_company()->mutable_company()->set_title("ООО «Лютик»");
  retitle.mutable_update_company()->mutable_update_mask()->add_paths("title");
  CHECK(Apply(&acme, retitle).company().title() == "ООО «Лютик»");
  CHECK(Apply(&acme, retitle).company().phones_size() == 1);
  v1::Command clear_title = Cmd("c-t0", "acme");
  clear_title.mutable_update_company()->mutable_update_mask()->add_paths("title");
  CheckRefused(&acme, clear_title, absl::StatusCode::kInvalidArgument, "company.title");
  v1::Command bad_path = Cmd("c-t1", "acme");
  bad_path.mutable_update_company()->mutable_update_mask()->add_paths("company_ids");
  CheckRefused(&acme, bad_path, absl::StatusCode::kInvalidArgument, "update_mask.paths[0]");
}

// --- deals ---------------------------------------------------------------------------

v1::Command CreateDeal(const std::string& id, const std::string& pipeline_id = "",
                       const std::string& stage_id = "") {
  v1::Command command = Cmd("c-" + id, id);
  auto* create = command.mutable_create_deal();
  create->set_stage_id(stage_id);
  create->mutable_deal()->set_title("Office chairs");
  create->mutable_deal()->set_pipeline_id(pipeline_id);
  create->mutable_deal()->set_stage_id("WON");  // output only: ignored
  return command;
}

v1::Command MoveDeal(const std::string& command_id, const std::string& deal_id,
                     const std::string& stage_id, int64_t at = 1700000000) {
  v1::Command command = Cmd(command_id, deal_id);
  *command.mutable_issue_time() = At(at);
  command.mutable_move_deal()->set_stage_id(stage_id);
  return command;
}

TEST_CASE("a deal starts in its pipeline's first stage") {
  auto events = Events(nullptr, CreateDeal("d-1"));
  REQUIRE(events.size() == 1);
  CHECK(events[0].type() == "leadflow.v1.DealCreated");
  const v1::Deal deal = Fold(v1::AggregateState(), events).deal();
  CHECK(deal.deal_id() == "d-1");
  CHECK(deal.name() == "deals/d-1");
  CHECK(deal.pipeline_id() == "default");
  CHECK(deal.stage_id() == "NEW");
  CHECK(deal.stage_semantic() == v1::STATUS_SEMANTIC_IN_PROGRESS);
  CHECK(deal.version() == 1);
  CHECK_FALSE(deal.has_close_time());

  const DomainConfig config = Configured({RetailPipeline()});
  const v1::Deal qualified =
      Apply(nullptr, CreateDeal("d-2", "retail", "QUALIFIED"), config).deal();
  CHECK(qualified.pipeline_id() == "retail");
  CHECK(qualified.stage_id() == "QUALIFIED");

  // A stage of another pipeline, or a closing one, is not where it starts.
  CheckRefused(nullptr, CreateDeal("d-3", "", "QUALIFIED"), absl::StatusCode::kInvalidArgument,
               "stage_id", config);
  CheckRefused(nullptr, CreateDeal("d-3", "retail", "PREPARATION"),
               absl::StatusCode::kInvalidArgument, "stage_id", config);
  CheckRefused(nullptr, CreateDeal("d-3", "", "WON"), absl::StatusCode::kInvalidArgument,
               "stage_id");
  CheckRefused(nullptr, CreateDeal("d-3", "wholesale"), absl::StatusCode::kInvalidArgument,
               "deal.pipeline_id");
  CheckRefused(nullptr, CreateDeal("d-3", "lead"), absl::StatusCode::kInvalidArgument,
               "deal.pipeline_id");
  // A later stage asks what it asks.
  absl::Status status = Refusal(nullptr, CreateDeal("d-3", "retail", "INVOICE"), config);
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(FieldsOf(status) == Fields{"opportunity", "custom_fields.inn"});

  v1::Command untitled = CreateDeal("d-3");
  untitled.mutable_create_deal()->mutable_deal()->clear_title();
  CheckRefused(nullptr, untitled, absl::StatusCode::kInvalidArgument, "deal.title");
  v1::Command money = CreateDeal("d-3");
  *money.mutable_create_deal()->mutable_deal()->mutable_opportunity() = Rub(-1);
  CheckRefused(nullptr, money, absl::StatusCode::kInvalidArgument, "deal.opportunity.amount_minor");
  v1::Command contact = CreateDeal("d-3");
  contact.mutable_create_deal()->mutable_deal()->set_contact_id("Anna S");
  CheckRefused(nullptr, contact, absl::StatusCode::kInvalidArgument, "deal.contact_id");
}

TEST_CASE("a deal moves within its pipeline until it is won or lost") {
  const v1::AggregateState deal = Apply(nullptr, CreateDeal("d-1"));
  auto events = Events(&deal, MoveDeal("m-1", "d-1", "INVOICE"));
  REQUIRE(events.size() == 1);
  CHECK(events[0].type() == "leadflow.v1.DealStageChanged");
  CHECK(events[0].deal_stage_changed().from_stage_id() == "NEW");
  CHECK(events[0].deal_stage_changed().to_stage_id() == "INVOICE");
  CHECK(events[0].deal_stage_changed().semantic() == v1::STATUS_SEMANTIC_IN_PROGRESS);
  const v1::AggregateState invoice = Fold(deal, events);
  CHECK(invoice.deal().stage_id() == "INVOICE");
  CHECK(Events(&invoice, MoveDeal("m-2", "d-1", "INVOICE")).empty());
  CheckRefused(&invoice, MoveDeal("m-3", "d-1", ""), absl::StatusCode::kInvalidArgument,
               "stage_id");
  CheckRefused(&invoice, MoveDeal("m-3", "d-1", "QUALIFIED"), absl::StatusCode::kInvalidArgument,
               "stage_id");
  // Back is allowed while it is open.
  CHECK(Apply(&invoice, MoveDeal("m-4", "d-1", "PREPARATION")).deal().stage_id() == "PREPARATION");

  const v1::AggregateState won = Apply(&invoice, MoveDeal("m-5", "d-1", "WON", 1700500000));
  CHECK(won.deal().stage_id() == "WON");
  CHECK(won.deal().stage_semantic() == v1::STATUS_SEMANTIC_SUCCESS);
  CHECK(won.deal().close_time().seconds() == 1700500000);
  CheckRefused(&won, MoveDeal("m-6", "d-1", "NEW"), absl::StatusCode::kFailedPrecondition,
               "stage_id");
  CheckRefused(&won, MoveDeal("m-6", "d-1", "LOSE"), absl::StatusCode::kFailedPrecondition,
               "stage_id");
  v1::Command update = Cmd("u-1", "d-1");
  update.mutable_update_deal()->mutable_deal()->set_comments("late note");
  update.mutable_update_deal()->mutable_update_mask()->add_paths("comments");
  CheckRefused(&won, update, absl::StatusCode::kFailedPrecondition, "deal");

  const v1::AggregateState lost = Apply(&invoice, MoveDeal("m-7", "d-1", "LOSE", 1700600000));
  CHECK(lost.deal().stage_semantic() == v1::STATUS_SEMANTIC_FAILURE);
  CHECK(lost.deal().close_time().seconds() == 1700600000);
  CheckRefused(&lost, MoveDeal("m-8", "d-1", "EXECUTING"), absl::StatusCode::kFailedPrecondition,
               "stage_id");
  CheckRefused(&lost, update, absl::StatusCode::kFailedPrecondition, "deal");

  // An open deal takes the update.
  const v1::Deal updated = Apply(&invoice, update).deal();
  CHECK(updated.comments() == "late note");
  CHECK(updated.title() == "Office chairs");
  v1::Command bad_path = Cmd("u-2", "d-1");
  bad_path.mutable_update_deal()->mutable_update_mask()->add_paths("title");
  bad_path.mutable_update_deal()->mutable_update_mask()->add_paths("stage_id");
  CheckRefused(&invoice, bad_path, absl::StatusCode::kInvalidArgument, "update_mask.paths[1]");
  v1::Command pipeline = Cmd("u-3", "d-1");
  pipeline.mutable_update_deal()->mutable_update_mask()->add_paths("pipeline_id");
  CheckRefused(&invoice, pipeline, absl::StatusCode::kInvalidArgument, "update_mask.paths[0]");
  v1::Command untitled = Cmd("u-4", "d-1");
  untitled.mutable_update_deal()->mutable_update_mask()->add_paths("title");
  CheckRefused(&invoice, untitled, absl::StatusCode::kInvalidArgument, "deal.title");
}

TEST_CASE("a deal enters a stage only with the stage's required fields filled") {
  const DomainConfig config = Configured({RetailPipeline()});
  const v1::AggregateState deal = Apply(nullptr, CreateDeal("d-1", "retail"), config);
  absl::Status status = Refusal(&deal, MoveDeal("m-1", "d-1", "INVOICE"), config);
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(FieldsOf(status) == Fields{"opportunity", "custom_fields.inn"});

  v1::Command amount = Cmd("u-1", "d-1");
  *amount.mutable_update_deal()->mutable_deal()->mutable_opportunity() = Rub(990000);
  amount.mutable_update_deal()->mutable_update_mask()->add_paths("opportunity");
  const v1::AggregateState with_amount = Apply(&deal, amount, config);
  status = Refusal(&with_amount, MoveDeal("m-2", "d-1", "INVOICE"), config);
  CHECK(FieldsOf(status) == Fields{"custom_fields.inn"});

  v1::Command inn = Cmd("u-2", "d-1");
  (*inn.mutable_update_deal()->mutable_deal()->mutable_custom_fields())["inn"] = "7701234567";
  inn.mutable_update_deal()->mutable_update_mask()->add_paths("custom_fields");
  const v1::AggregateState ready = Apply(&with_amount, inn, config);
  CHECK(ready.deal().opportunity().amount_minor() == 990000);
  CHECK(Apply(&ready, MoveDeal("m-3", "d-1", "INVOICE"), config).deal().stage_id() == "INVOICE");
  // Stages without requirements ask nothing.
  CHECK(Apply(&deal, MoveDeal("m-4", "d-1", "WON"), config).deal().stage_id() == "WON");
}

// --- activities ----------------------------------------------------------------------

v1::Command Plan(const std::string& id) {
  v1::Command command = Cmd("c-" + id, id);
  auto* activity = command.mutable_plan_activity()->mutable_activity();
  activity->set_type(v1::ACTIVITY_TYPE_CALL);
  activity->set_subject("Call back about the quote");
  activity->set_owner("leads/lead-1");
  activity->set_responsible_id("alice");
  *activity->mutable_deadline() = At(1700086400);
  activity->set_state(v1::ACTIVITY_STATE_COMPLETED);  // output only: ignored
  activity->set_reschedule_count(5);                  // output only: ignored
  return command;
}

v1::Command Reschedule(const std::string& command_id, int64_t deadline) {
  v1::Command command = Cmd(command_id, "a-1");
  *command.mutable_reschedule_activity()->mutable_deadline() = At(deadline);
  command.mutable_reschedule_activity()->set_reason("asked to call later");
  return command;
}

TEST_CASE("planning an activity needs type, subject, owner, responsible and deadline") {
  auto events = Events(nullptr, Plan("a-1"));
  REQUIRE(events.size() == 1);
  CHECK(events[0].type() == "leadflow.v1.ActivityPlanned");
  CHECK(events[0].aggregate_type() == "activity");
  const v1::Activity activity = Fold(v1::AggregateState(), events).activity();
  CHECK(activity.activity_id() == "a-1");
  CHECK(activity.name() == "activities/a-1");
  CHECK(activity.state() == v1::ACTIVITY_STATE_PLANNED);
  CHECK(activity.reschedule_count() == 0);
  CHECK(activity.deadline().seconds() == 1700086400);
  CHECK(activity.owner() == "leads/lead-1");

  v1::Command on_deal = Plan("a-2");
  on_deal.mutable_plan_activity()->mutable_activity()->set_owner("deals/d-1");
  CHECK(Apply(nullptr, on_deal).activity().owner() == "deals/d-1");

  struct Case {
    const char* what;
    void (*spoil)(v1::Activity*);
    const char* field;
  };
  const Case cases[] = {
      {"no type", [](v1::Activity* a) { a->clear_type(); }, "activity.type"},
      {"no subject", [](v1::Activity* a) { a->set_subject(" "); }, "activity.subject"},
      {"no owner", [](v1::Activity* a) { a->clear_owner(); }, "activity.owner"},
      {"owner not a resource", [](v1::Activity* a) { a->set_owner("lead-1"); }, "activity.owner"},
      {"owner a contact", [](v1::Activity* a) { a->set_owner("contacts/anna"); }, "activity.owner"},
      {"owner without id", [](v1::Activity* a) { a->set_owner("deals/"); }, "activity.owner"},
      {"no responsible", [](v1::Activity* a) { a->clear_responsible_id(); },
       "activity.responsible_id"},
      {"no deadline", [](v1::Activity* a) { a->clear_deadline(); }, "activity.deadline"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    v1::Command command = Plan("a-3");
    c.spoil(command.mutable_plan_activity()->mutable_activity());
    CheckRefused(nullptr, command, absl::StatusCode::kInvalidArgument, c.field);
  }
}

TEST_CASE("an activity is completed once and rescheduled while planned") {
  const v1::AggregateState planned = Apply(nullptr, Plan("a-1"));

  CHECK(Events(&planned, Reschedule("r-0", 1700086400)).empty());  // the same deadline
  v1::Command no_deadline = Cmd("r-x", "a-1");
  no_deadline.mutable_reschedule_activity();
  CheckRefused(&planned, no_deadline, absl::StatusCode::kInvalidArgument, "deadline");
  auto events = Events(&planned, Reschedule("r-1", 1700172800));
  REQUIRE(events.size() == 1);
  CHECK(events[0].activity_rescheduled().from_deadline().seconds() == 1700086400);
  CHECK(events[0].activity_rescheduled().to_deadline().seconds() == 1700172800);
  CHECK(events[0].activity_rescheduled().reason() == "asked to call later");
  const v1::AggregateState once = Fold(planned, events);
  CHECK(once.activity().deadline().seconds() == 1700172800);
  CHECK(once.activity().reschedule_count() == 1);
  const v1::AggregateState twice = Apply(&once, Reschedule("r-2", 1700259200));
  CHECK(twice.activity().reschedule_count() == 2);
  CHECK(twice.activity().version() == 3);

  v1::Command complete = Cmd("done-1", "a-1");
  *complete.mutable_issue_time() = At(1700090000);
  complete.mutable_complete_activity()->set_result("agreed to a meeting");
  const v1::AggregateState done = Apply(&twice, complete);
  CHECK(done.activity().state() == v1::ACTIVITY_STATE_COMPLETED);
  CHECK(done.activity().result() == "agreed to a meeting");
  CHECK(done.activity().complete_time().seconds() == 1700090000);
  v1::Command again = complete;
  again.set_command_id("done-2");
  CheckRefused(&done, again, absl::StatusCode::kFailedPrecondition, "name");
  CheckRefused(&done, Reschedule("r-3", 1700345600), absl::StatusCode::kFailedPrecondition, "name");
}

// --- common rules --------------------------------------------------------------------

TEST_CASE("create refuses an existing id; other commands refuse a missing one") {
  const v1::AggregateState anna = Apply(nullptr, CreateContact("anna"));
  CheckRefused(&anna, CreateContact("anna"), absl::StatusCode::kAlreadyExists, "aggregate_id");
  v1::Command company = Cmd("c-acme", "acme");
  company.mutable_create_company()->mutable_company()->set_title("Acme");
  const v1::AggregateState acme = Apply(nullptr, company);
  CheckRefused(&acme, company, absl::StatusCode::kAlreadyExists, "aggregate_id");
  const v1::AggregateState deal = Apply(nullptr, CreateDeal("d-1"));
  CheckRefused(&deal, CreateDeal("d-1"), absl::StatusCode::kAlreadyExists, "aggregate_id");
  const v1::AggregateState activity = Apply(nullptr, Plan("a-1"));
  CheckRefused(&activity, Plan("a-1"), absl::StatusCode::kAlreadyExists, "aggregate_id");
  const v1::AggregateState lead = CreatedLead();
  CheckRefused(&lead, CreateLeadCommand("lead-1"), absl::StatusCode::kAlreadyExists,
               "aggregate_id");

  v1::Command update_contact = Cmd("u-c", "anna");
  update_contact.mutable_update_contact()->mutable_update_mask()->add_paths("comments");
  CheckRefused(nullptr, update_contact, absl::StatusCode::kNotFound, "name");
  v1::Command update_company = Cmd("u-co", "acme");
  update_company.mutable_update_company()->mutable_update_mask()->add_paths("comments");
  CheckRefused(nullptr, update_company, absl::StatusCode::kNotFound, "name");
  CheckRefused(nullptr, MoveDeal("m-1", "d-1", "INVOICE"), absl::StatusCode::kNotFound, "name");
  v1::Command complete = Cmd("done", "a-1");
  complete.mutable_complete_activity();
  CheckRefused(nullptr, complete, absl::StatusCode::kNotFound, "name");
  CheckRefused(nullptr, Reschedule("r-1", 1700172800), absl::StatusCode::kNotFound, "name");
  CheckRefused(nullptr, Convert(), absl::StatusCode::kNotFound, "name");
  CheckRefused(nullptr, MergeInto("m", "lead-1", "lead-2"), absl::StatusCode::kNotFound, "name");
}

TEST_CASE("a command at the wrong version is aborted") {
  const v1::AggregateState anna = Apply(nullptr, CreateContact("anna"));
  v1::Command update = Cmd("u-1", "anna");
  update.mutable_update_contact()->mutable_contact()->set_comments("x");
  update.mutable_update_contact()->mutable_update_mask()->add_paths("comments");
  update.set_expected_version(0);
  CheckRefused(&anna, update, absl::StatusCode::kAborted, "expected_version");
  update.set_expected_version(1);
  CHECK(Apply(&anna, update).contact().version() == 2);

  v1::Command create = CreateDeal("d-1");
  create.set_expected_version(3);
  CheckRefused(nullptr, create, absl::StatusCode::kAborted, "expected_version");
  create.set_expected_version(0);
  CHECK(Apply(nullptr, create).deal().version() == 1);

  const v1::AggregateState retail = Apply(nullptr, Configure("cfg", RetailPipeline()));
  v1::Command remove = Cmd("rm", "retail");
  remove.mutable_remove_pipeline();
  remove.set_expected_version(2);
  CheckRefused(&retail, remove, absl::StatusCode::kAborted, "expected_version");
}

TEST_CASE("a command for another aggregate type than the one held is refused") {
  const v1::AggregateState anna = Apply(nullptr, CreateContact("anna"));
  v1::Command lead_cmd = ChangeStatus("c-1", "anna", "IN_PROCESS");
  CheckRefused(&anna, lead_cmd, absl::StatusCode::kFailedPrecondition, "aggregate_id");
  CheckRefused(&anna, CreateLeadCommand("anna"), absl::StatusCode::kFailedPrecondition,
               "aggregate_id");
  CheckRefused(&anna, MoveDeal("m-1", "anna", "INVOICE"), absl::StatusCode::kFailedPrecondition,
               "aggregate_id");
  const v1::AggregateState deal = Apply(nullptr, CreateDeal("d-1"));
  v1::Command company = Cmd("c-co", "d-1");
  company.mutable_create_company()->mutable_company()->set_title("Acme");
  CheckRefused(&deal, company, absl::StatusCode::kFailedPrecondition, "aggregate_id");
}

TEST_CASE("commands name their aggregate; ids and resource names are checked") {
  v1::Command command = Cmd("c", "x");
  CHECK(AggregateTypeOf(command).empty());
  CheckRefused(nullptr, command, absl::StatusCode::kInvalidArgument, "command");
  command.mutable_absorb_lead();
  CHECK(AggregateTypeOf(command) == "lead");
  command.mutable_update_contact();
  CHECK(AggregateTypeOf(command) == "contact");
  command.mutable_update_company();
  CHECK(AggregateTypeOf(command) == "company");
  command.mutable_move_deal();
  CHECK(AggregateTypeOf(command) == "deal");
  command.mutable_reschedule_activity();
  CHECK(AggregateTypeOf(command) == "activity");
  command.mutable_remove_pipeline();
  CHECK(AggregateTypeOf(command) == "pipeline");

  v1::Command no_id = CreateContact("anna");
  no_id.clear_command_id();
  CheckRefused(nullptr, no_id, absl::StatusCode::kInvalidArgument, "command_id");
  CheckRefused(nullptr, CreateContact("Anna"), absl::StatusCode::kInvalidArgument, "aggregate_id");
  CheckRefused(nullptr, CreateContact(""), absl::StatusCode::kInvalidArgument, "aggregate_id");
  CHECK(Events(nullptr, CreateContact(std::string(80, 'a'))).size() == 1);
  CheckRefused(nullptr, CreateContact(std::string(81, 'a')), absl::StatusCode::kInvalidArgument,
               "aggregate_id");
  CheckRefused(nullptr, CreateLeadCommand(std::string(64, 'a')), absl::StatusCode::kInvalidArgument,
               "aggregate_id");

  CHECK(ResourceName("company", "acme") == "companies/acme");
  CHECK(ResourceName("activity", "a-1") == "activities/a-1");
  auto parsed = ParseResourceName("deals/d-1", "owner");
  REQUIRE(parsed.ok());
  CHECK(parsed->first == "deal");
  CHECK(parsed->second == "d-1");
  auto pipeline = ParseResourceName("pipelines/lead", "name");
  REQUIRE(pipeline.ok());
  CHECK(pipeline->first == "pipeline");
  CHECK(FieldOf(ParseResourceName("people/1", "owner").status()) == "owner");
  CHECK(FieldOf(ParseResourceName("leads/Bad", "owner").status()) == "owner");
}

TEST_CASE("events follow the aggregate's version and derive from the command") {
  const v1::AggregateState deal = Apply(nullptr, CreateDeal("d-1"));
  v1::Command move = MoveDeal("m-1", "d-1", "INVOICE");
  move.set_causation_id("cause-1");
  auto first = Events(&deal, move);
  auto second = Events(&deal, move);
  REQUIRE(first.size() == 1);
  CHECK(first[0].aggregate_version() == 2);
  CHECK(first[0].causation_id() == "cause-1");
  CHECK(first[0].correlation_id() == "m-1");
  CHECK(first[0].occur_time().seconds() == 1700000000);
  CHECK(EventTypeName(first[0]) == "leadflow.v1.DealStageChanged");
  CHECK(SerializeDeterministic(first[0]) == SerializeDeterministic(second[0]));
  const v1::AggregateState a = Fold(deal, first);
  const v1::AggregateState b = Fold(deal, second);
  CHECK(SerializeDeterministic(a) == SerializeDeterministic(b));
  CHECK(VersionOf(a) == 2);
  CHECK(AggregateTypeOf(a) == "deal");
  CHECK(a.deal().update_time().seconds() == 1700000000);
}

TEST_CASE("a junk lead is reopened into a status only with its required fields filled") {
  DomainConfig config = Configured({ServiceFirmPipeline()});
  config.supervisors = {"boss"};
  const v1::AggregateState created = CreatedLead("lead-1", config);
  v1::Command junk = Cmd("c-junk", "lead-1");
  junk.mutable_mark_lead_junk()->set_reason(v1::JUNK_REASON_UNREACHABLE);
  const v1::AggregateState junked = Apply(&created, junk, config);
  v1::Command reopen = Cmd("c-reopen", "lead-1");
  reopen.set_actor("boss");
  reopen.mutable_reopen_lead()->set_reason("answered at last");
  reopen.mutable_reopen_lead()->set_status_id("SEND_PROPOSAL");
  absl::Status status = Refusal(&junked, reopen, config);
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(FieldsOf(status) == Fields{"opportunity", "custom_fields.service"});
  reopen.mutable_reopen_lead()->set_status_id("QUALIFIED");
  CHECK(Apply(&junked, reopen, config).lead().status_id() == "QUALIFIED");
}

TEST_CASE("a lead merged away meanwhile passes what it absorbs on; opposite merges are refused") {
  const v1::AggregateState a = CreatedLead("lead-a");
  const v1::AggregateState b = CreatedLead("lead-b");
  // B is merged into C while A is being merged into B.
  const v1::AggregateState b_closed = Apply(&b, MergeInto("c-bc", "lead-b", "lead-c"));
  auto a_events = Events(&a, MergeInto("c-ab", "lead-a", "lead-b"));
  const auto absorb = FollowUpCommands(a_events[0]);
  REQUIRE(absorb.size() == 1);
  auto absorbed = Events(&b_closed, absorb[0]);
  REQUIRE(absorbed.size() == 1);
  CHECK(absorbed[0].lead_absorbed().forward_to_lead_id() == "lead-c");
  const auto forward = FollowUpCommands(absorbed[0]);
  REQUIRE(forward.size() == 1);
  CHECK(forward[0].aggregate_id() == "lead-c");
  CHECK(forward[0].command_id() == "merge:lead-a:absorb:lead-c");
  CHECK(forward[0].absorb_lead().source().lead_id() == "lead-a");

  // A into B and B into A at once: neither absorbs the other.
  const v1::AggregateState a_closed = Fold(a, a_events);
  auto b_events = Events(&b, MergeInto("c-ba", "lead-b", "lead-a"));
  const auto absorb_b = FollowUpCommands(b_events[0]);
  REQUIRE(absorb_b.size() == 1);
  CheckRefused(&a_closed, absorb_b[0], absl::StatusCode::kFailedPrecondition,
               "absorb_lead.source.lead_id");
}

TEST_CASE("a conversion's deal is made in its pipeline even if that was removed since") {
  const DomainConfig config = Configured({RetailPipeline()});
  const v1::AggregateState lead = CreatedLead("lead-1", config);
  v1::Command convert = Convert();
  convert.mutable_convert_lead()->set_deal_pipeline_id("retail");
  const Conversion c = Converted(lead, convert, config);
  DomainConfig removed = config;
  v1::Pipeline gone = RetailPipeline();
  gone.set_removed(true);
  removed.pipelines.Put(gone);
  auto states = Run(c.follow_ups, removed);
  CHECK(states["convert:lead-1:deal"].deal().pipeline_id() == "retail");
  CHECK(states["convert:lead-1:deal"].deal().stage_id() == "NEW");
  // Not known where it is decided (a lagging replica): made all the same.
  auto unknown = Run(c.follow_ups, DomainConfig());
  CHECK(unknown["convert:lead-1:deal"].deal().stage_semantic() == v1::STATUS_SEMANTIC_IN_PROGRESS);
  // Anyone else's deal is not made in a removed pipeline.
  v1::Command create = Cmd("c-deal", "deal-9");
  create.mutable_create_deal()->mutable_deal()->set_title("Late");
  create.mutable_create_deal()->mutable_deal()->set_pipeline_id("retail");
  CheckRefused(nullptr, create, absl::StatusCode::kInvalidArgument, "deal.pipeline_id", removed);
}

}  // namespace
}  // namespace leadflow::domain

namespace leadflow::domain {
namespace {

// A robot step's assignment waiting for the turn of `queue`.
v1::Command AssignWaitingForPick(const std::string& lead_id, const std::string& placeholder) {
  v1::Command assign = Cmd(absl::StrCat("robot-assign-", lead_id), lead_id);
  assign.mutable_assign_lead()->set_responsible_id(placeholder);
  return assign;
}

TEST_CASE("team turns: one queue's picks go round in order, the member put in place") {
  v1::AggregateState team;
  std::vector<std::string> picked;
  for (int i = 0; i < 7; ++i) {
    const std::string lead_id = absl::StrCat("l", i);
    v1::PendingTeamPick pick;
    pick.set_queue("lead/assign");
    for (const char* member : {"a", "b", "c"}) pick.add_members(member);
    pick.set_placeholder(TeamPickPlaceholder(1));
    v1::Command assign = AssignWaitingForPick(lead_id, pick.placeholder());
    std::vector<v1::Command> out = AwaitingTeamPicks({assign}, {pick});
    REQUIRE(out.size() == 1);
    REQUIRE(out[0].has_pick_team_member());
    CHECK(out[0].aggregate_id() == TeamId("lead/assign"));
    CHECK(AggregateTypeOf(out[0]) == "team");
    // The same step sends the same pick (a replay is answered once).
    CHECK(AwaitingTeamPicks({assign}, {pick})[0].command_id() == out[0].command_id());
    auto events = Events(i == 0 ? nullptr : &team, out[0]);
    REQUIRE(events.size() == 1);
    team = Evolve(team, events[0]);
    const auto& chosen = events[0].team_member_picked();
    CHECK(chosen.turn() == i);
    picked.push_back(chosen.member_id());
    auto then = FollowUpCommands(events[0]);
    REQUIRE(then.size() == 1);
    CHECK(then[0].command_id() == assign.command_id());
    CHECK(then[0].assign_lead().responsible_id() == chosen.member_id());
  }
  CHECK(picked == std::vector<std::string>{"a", "b", "c", "a", "b", "c", "a"});
  CHECK(team.team().picks() == 7);
  CHECK(team.team().version() == 7);
}

TEST_CASE("team turns: a step waiting for two queues picks from one, then the other") {
  v1::PendingTeamPick first;
  first.set_queue("lead/assign");
  first.add_members("a");
  first.set_placeholder(TeamPickPlaceholder(1));
  v1::PendingTeamPick second;
  second.set_queue("services/convert");
  second.add_members("svc");
  second.set_placeholder(TeamPickPlaceholder(2));
  v1::Command notify = Cmd("robot-notify-l1", "l1");
  notify.mutable_notify_about_lead()->set_user_id(first.placeholder());
  notify.mutable_notify_about_lead()->set_text(
      absl::StrCat("For ", first.placeholder(), " and ", second.placeholder()));
  std::vector<v1::Command> out = AwaitingTeamPicks({notify}, {first, second});
  REQUIRE(out.size() == 1);
  auto picked_first = Events(nullptr, out[0]);
  std::vector<v1::Command> next = FollowUpCommands(picked_first[0]);
  REQUIRE(next.size() == 1);
  REQUIRE(next[0].has_pick_team_member());
  CHECK(next[0].aggregate_id() == TeamId("services/convert"));
  auto picked_second = Events(nullptr, next[0]);
  std::vector<v1::Command> done = FollowUpCommands(picked_second[0]);
  REQUIRE(done.size() == 1);
  CHECK(done[0].notify_about_lead().user_id() == "a");
  CHECK(done[0].notify_about_lead().text() == "For a and svc");
  // Nothing to wait for: the commands go out as they are.
  CHECK(AwaitingTeamPicks({notify}, {}).front().command_id() == notify.command_id());
}

TEST_CASE("team turns: a pick with no members is refused naming the field") {
  v1::Command pick = Cmd("p1", TeamId("q"));
  pick.mutable_pick_team_member()->set_queue("q");
  pick.mutable_pick_team_member()->set_placeholder(TeamPickPlaceholder(1));
  auto refused = Decide(nullptr, pick, kConfig);
  REQUIRE_FALSE(refused.ok());
  CHECK(FieldOf(refused.status()) == "pick_team_member.members");
}

}  // namespace
}  // namespace leadflow::domain

namespace leadflow::domain {
namespace {

TEST_CASE("one person, one open lead: CreateLead carrying the person's open lead is refused") {
  v1::Command create = Cmd("c1", "new-lead");
  create.mutable_create_lead()->mutable_lead()->add_phones()->set_number("+79161234567");
  create.mutable_create_lead()->mutable_open_lead()->set_lead_id("open-one");
  create.mutable_create_lead()->mutable_open_lead()->set_identity_key("phone:+79161234567");
  absl::Status refused = Refusal(nullptr, create);
  CHECK(refused.code() == absl::StatusCode::kAlreadyExists);
  CHECK(FieldOf(refused) == "lead.phones");
  CHECK(absl::StrContains(refused.message(), "leads/open-one"));
  create.mutable_create_lead()->clear_open_lead();
  CHECK(Events(nullptr, create).size() == 1);
}

}  // namespace
}  // namespace leadflow::domain

namespace leadflow::domain {
namespace {

TEST_CASE("one person, one open lead: UpdateLead carrying another open lead is refused") {
  v1::Command create = Cmd("c1", "lead-b");
  create.mutable_create_lead()->mutable_lead()->add_phones()->set_number("+79161234500");
  v1::AggregateState state = Apply(nullptr, create);
  v1::Command update = Cmd("c2", "lead-b");
  update.mutable_update_lead()->mutable_lead()->add_phones()->set_number("+79161234567");
  update.mutable_update_lead()->mutable_update_mask()->add_paths("phones");
  update.mutable_update_lead()->mutable_open_lead()->set_lead_id("lead-a");
  update.mutable_update_lead()->mutable_open_lead()->set_identity_key("phone:+79161234567");
  absl::Status refused = Refusal(&state, update);
  CHECK(refused.code() == absl::StatusCode::kAlreadyExists);
  CHECK(FieldOf(refused) == "lead.phones");
  CHECK(absl::StrContains(refused.message(), "leads/lead-a"));
  update.mutable_update_lead()->clear_open_lead();
  CHECK(Events(&state, update).size() == 1);
}

TEST_CASE(
    "one person, one open lead: ReopenLead carrying the person's other open lead is refused") {
  DomainConfig config = kConfig;
  config.supervisors = {"sveta"};
  v1::Command create = Cmd("c1", "lead-a");
  create.mutable_create_lead()->mutable_lead()->add_phones()->set_number("+79161234567");
  v1::AggregateState state = Apply(nullptr, create, config);
  v1::Command junk = Cmd("c2", "lead-a");
  junk.mutable_mark_lead_junk()->set_reason(v1::JUNK_REASON_SPAM);
  state = Apply(&state, junk, config);
  v1::Command reopen = Cmd("c3", "lead-a");
  reopen.set_actor("sveta");
  reopen.mutable_reopen_lead()->set_reason("a buyer");
  reopen.mutable_reopen_lead()->mutable_open_lead()->set_lead_id("lead-b");
  reopen.mutable_reopen_lead()->mutable_open_lead()->set_identity_key("phone:+79161234567");
  absl::Status refused = Refusal(&state, reopen, config);
  CHECK(refused.code() == absl::StatusCode::kAlreadyExists);
  CHECK(FieldOf(refused) == "name");
  CHECK(absl::StrContains(refused.message(), "leads/lead-b"));
  reopen.mutable_reopen_lead()->clear_open_lead();
  CHECK(Events(&state, reopen, config).size() == 1);
}

// A least-loaded pick from members a, b and c with the loads the asker read.
v1::PendingTeamPick LeastLoadedPick(int64_t a, int64_t b, int64_t c) {
  v1::PendingTeamPick pick;
  pick.set_queue("lead/least");
  for (const char* member : {"a", "b", "c"}) pick.add_members(member);
  pick.set_placeholder(TeamPickPlaceholder(1));
  pick.set_rule(v1::TEAM_PICK_RULE_LEAST_LOADED);
  (*pick.mutable_loads())["a"] = a;
  (*pick.mutable_loads())["b"] = b;
  (*pick.mutable_loads())["c"] = c;
  return pick;
}

TEST_CASE("team turns: least loaded counts the team's own recent picks, so a burst spreads") {
  v1::AggregateState team;
  std::vector<std::string> picked;
  for (int i = 0; i < 7; ++i) {
    // Every ask of the burst read the same loads: none of its picks is
    // projected yet.
    const v1::PendingTeamPick pick = LeastLoadedPick(5, 2, 2);
    const std::string lead_id = absl::StrCat("l", i);
    std::vector<v1::Command> out =
        AwaitingTeamPicks({AssignWaitingForPick(lead_id, pick.placeholder())}, {pick});
    auto events = Events(i == 0 ? nullptr : &team, out[0]);
    team = Evolve(team, events[0]);
    picked.push_back(events[0].team_member_picked().member_id());
  }
  // b and c take turns until they carry a's five; then all three in turn.
  CHECK(picked == std::vector<std::string>{"b", "c", "c", "b", "b", "c", "a"});

  SECTION("picks older than the team's memory are no longer counted") {
    const v1::PendingTeamPick pick = LeastLoadedPick(1, 0, 0);
    v1::Command later = AssignWaitingForPick("later", pick.placeholder());
    *later.mutable_issue_time() = At(1700000000 + 60);
    auto events = Events(&team, AwaitingTeamPicks({later}, {pick})[0]);
    CHECK(events[0].team_member_picked().member_id() != "a");
    CHECK(Evolve(team, events[0]).team().recent_size() == 1);
  }
}

}  // namespace
}  // namespace leadflow::domain

namespace leadflow::domain {
namespace {

TEST_CASE("team turns: the team's memory is bounded, and round robin keeps none") {
  auto pick_event = [](v1::TeamPickRule rule, int64_t turn) {
    v1::EventEnvelope event;
    event.set_aggregate_type("team");
    event.set_aggregate_id(TeamId("q"));
    event.set_aggregate_version(turn + 1);
    *event.mutable_occur_time() = At(1700000000);
    auto* picked = event.mutable_team_member_picked();
    picked->set_queue("q");
    picked->set_member_id("a");
    picked->set_turn(turn);
    picked->set_rule(rule);
    return event;
  };
  v1::AggregateState least;
  v1::AggregateState round;
  for (int64_t turn = 0; turn < kTeamPickMemoryCap + 50; ++turn) {
    least = Evolve(least, pick_event(v1::TEAM_PICK_RULE_LEAST_LOADED, turn));
    round = Evolve(round, pick_event(v1::TEAM_PICK_RULE_ROUND_ROBIN, turn));
  }
  CHECK(least.team().recent_size() == kTeamPickMemoryCap);
  CHECK(least.team().picks() == kTeamPickMemoryCap + 50);
  CHECK(round.team().recent_size() == 0);
  CHECK(round.team().picks() == kTeamPickMemoryCap + 50);
}

}  // namespace
}  // namespace leadflow::domain

namespace leadflow::domain {
namespace {

TEST_CASE("a stage's required activities: of a type, planned by a robot, done") {
  v1::PipelineStage stage;
  stage.set_stage_id("SEND_PROPOSAL");
  auto* task = stage.add_required_activities();
  task->set_type(v1::ACTIVITY_TYPE_TASK);
  task->set_robot_id("proposal-task");
  stage.add_required_activities()->set_type(v1::ACTIVITY_TYPE_CALL);
  google::protobuf::RepeatedPtrField<v1::Activity> activities;
  auto status = CheckRequiredActivities(stage, activities, "status SEND_PROPOSAL");
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(FieldsOf(status) ==
        std::vector<std::string>{"required_activities[0]", "required_activities[1]"});
  CHECK(
      std::string(status.message())
          .find("status SEND_PROPOSAL needs a task planned by robot proposal-task and a call done "
                "first") != std::string::npos);
  // A call done by hand meets the second; a task by hand, or the robot's
  // task still planned, does not meet the first.
  v1::Activity call;
  call.set_type(v1::ACTIVITY_TYPE_CALL);
  call.set_state(v1::ACTIVITY_STATE_COMPLETED);
  *activities.Add() = call;
  v1::Activity by_hand;
  by_hand.set_type(v1::ACTIVITY_TYPE_TASK);
  by_hand.set_state(v1::ACTIVITY_STATE_COMPLETED);
  *activities.Add() = by_hand;
  v1::Activity robots = by_hand;
  robots.set_robot_id("proposal-task");
  robots.set_state(v1::ACTIVITY_STATE_PLANNED);
  *activities.Add() = robots;
  CHECK(FieldsOf(CheckRequiredActivities(stage, activities, "s")) ==
        std::vector<std::string>{"required_activities[0]"});
  activities.Mutable(2)->set_state(v1::ACTIVITY_STATE_COMPLETED);
  CHECK(CheckRequiredActivities(stage, activities, "s").ok());
}

TEST_CASE("a robot's planned activity records the robot; a client cannot claim one") {
  v1::Command plan;
  plan.set_command_id("c-1");
  plan.set_aggregate_id("act-1");
  auto* activity = plan.mutable_plan_activity()->mutable_activity();
  activity->set_type(v1::ACTIVITY_TYPE_TASK);
  activity->set_subject("Prepare the proposal");
  activity->set_owner("leads/ld-1");
  activity->set_responsible_id("boris");
  activity->set_robot_id("forged");
  *activity->mutable_deadline() = testing::At(1700000000);
  plan.mutable_robot()->set_robot_id("proposal-task");
  plan.mutable_robot()->set_pipeline_id("lead");
  auto events = Decide(nullptr, plan, DomainConfig());
  REQUIRE(events.ok());
  REQUIRE(events->size() == 1);
  CHECK(Fold(v1::AggregateState(), *events).activity().robot_id() == "proposal-task");
  plan.clear_robot();
  events = Decide(nullptr, plan, DomainConfig());
  REQUIRE(events.ok());
  CHECK(Fold(v1::AggregateState(), *events).activity().robot_id().empty());
}

}  // namespace
}  // namespace leadflow::domain

namespace leadflow::domain {
namespace {

TEST_CASE("list filters: text in any script and case, time ranges, repeat, junk reason, overdue") {
  v1::Lead lead;
  lead.set_first_name("Иван");
  lead.set_last_name("Петров");
  lead.set_company_title("ООО «Ромашка»");
  lead.set_title("Wants 40 units");
  *lead.mutable_create_time() = testing::At(1000);
  *lead.mutable_update_time() = testing::At(2000);
  lead.set_repeat(true);
  const auto never = [] { return false; };
  v1::ListFilter filter;
  filter.set_query("ПЕТР ромашка");
  CHECK(MatchesListFilter(filter, lead, never));
  filter.set_query("units ivan");
  CHECK_FALSE(MatchesListFilter(filter, lead, never));
  filter.set_query("иван UNITS");
  CHECK(MatchesListFilter(filter, lead, never));
  filter.Clear();
  *filter.mutable_create_time_from() = testing::At(1000);
  *filter.mutable_create_time_to() = testing::At(1001);
  CHECK(MatchesListFilter(filter, lead, never));
  *filter.mutable_create_time_from() = testing::At(1001);
  *filter.mutable_create_time_to() = testing::At(3000);
  CHECK_FALSE(MatchesListFilter(filter, lead, never));
  filter.Clear();
  filter.set_repeat(false);
  CHECK_FALSE(MatchesListFilter(filter, lead, never));
  filter.set_repeat(true);
  CHECK(MatchesListFilter(filter, lead, never));
  filter.Clear();
  filter.set_junk_reason(v1::JUNK_REASON_SPAM);
  CHECK_FALSE(MatchesListFilter(filter, lead, never));
  lead.set_status_semantic(v1::STATUS_SEMANTIC_FAILURE);
  lead.set_junk_reason(v1::JUNK_REASON_SPAM);
  CHECK(MatchesListFilter(filter, lead, never));
  filter.Clear();
  filter.set_has_overdue_activity(true);
  CHECK_FALSE(MatchesListFilter(filter, lead, never));
  CHECK(MatchesListFilter(filter, lead, [] { return true; }));

  // What a type has none of is refused, naming it; every violation at once.
  v1::ListFilter wrong;
  wrong.set_repeat(true);
  wrong.set_has_overdue_activity(true);
  CHECK(FieldsOf(CheckListFilter(wrong, "contact")) ==
        std::vector<std::string>{"filter.repeat", "filter.has_overdue_activity"});
  CHECK(CheckListFilter(wrong, "lead").ok());
  wrong.Clear();
  *wrong.mutable_update_time_from() = testing::At(5);
  *wrong.mutable_update_time_to() = testing::At(5);
  CHECK(FieldsOf(CheckListFilter(wrong, "deal")) ==
        std::vector<std::string>{"filter.update_time_to"});

  v1::AggregateState company;
  company.mutable_company()->set_title("Romashka LLC");
  v1::ListFilter search;
  search.set_query("romash");
  CHECK(MatchesListFilter(search, company, never));
  search.set_query("lilia");
  CHECK_FALSE(MatchesListFilter(search, company, never));

  v1::Activity activity;
  activity.set_state(v1::ACTIVITY_STATE_PLANNED);
  *activity.mutable_deadline() = testing::At(100);
  CHECK(IsOverdue(activity, 101));
  CHECK_FALSE(IsOverdue(activity, 100));
  activity.set_state(v1::ACTIVITY_STATE_COMPLETED);
  CHECK_FALSE(IsOverdue(activity, 101));
}

}  // namespace
}  // namespace leadflow::domain
