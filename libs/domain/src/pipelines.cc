#include "leadflow/domain/pipelines.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/robots.h"
#include "leadflow/v1/lead.pb.h"

namespace leadflow::domain {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

v1::PipelineStage Stage(absl::string_view id, absl::string_view title,
                        v1::StatusSemantic semantic) {
  v1::PipelineStage stage;
  stage.set_stage_id(std::string(id));
  stage.set_title(std::string(title));
  stage.set_semantic(semantic);
  return stage;
}

v1::Pipeline Make(absl::string_view id, v1::PipelineKind kind, absl::string_view title,
                  std::vector<v1::PipelineStage> stages) {
  v1::Pipeline pipeline;
  pipeline.set_pipeline_id(std::string(id));
  pipeline.set_kind(kind);
  pipeline.set_title(std::string(title));
  for (auto& stage : stages) *pipeline.add_stages() = std::move(stage);
  return pipeline;
}

bool IsStageId(absl::string_view id) {
  return !id.empty() && id.size() <= 63 && std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isupper(c) || absl::ascii_isdigit(c) || c == '_';
  });
}

bool IsPipelineId(absl::string_view id) {
  return !id.empty() && id.size() <= 63 && std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-';
  });
}

// Checks that `path` names a field of `type` that can be required.
absl::Status CheckRequiredFieldName(const google::protobuf::Descriptor* type,
                                    absl::string_view path, absl::string_view field) {
  absl::string_view key = path;
  if (absl::ConsumePrefix(&key, "custom_fields.")) {
    if (key.empty()) return InvalidField(field, "custom_fields.<key> needs a key");
    return absl::OkStatus();
  }
  const FieldDescriptor* found = type->FindFieldByName(std::string(path));
  static const std::set<std::string> kOutputOnly = {
      "name",           "version",       "status_id",   "status_semantic", "stage_id",
      "stage_semantic", "identity_keys", "create_time", "update_time",     "close_time"};
  if (found == nullptr || kOutputOnly.count(std::string(path)) > 0 || path == "lead_id" ||
      path == "deal_id") {
    return InvalidField(field, absl::StrCat("'", path, "' is not a field a ", type->name(),
                                            " can be required to have"));
  }
  return absl::OkStatus();
}

bool IsEmpty(const Message& item, absl::string_view path) {
  const auto* reflection = item.GetReflection();
  absl::string_view key = path;
  if (absl::ConsumePrefix(&key, "custom_fields.")) {
    const FieldDescriptor* map_field = item.GetDescriptor()->FindFieldByName("custom_fields");
    if (map_field == nullptr) return true;
    for (int i = 0; i < reflection->FieldSize(item, map_field); ++i) {
      const Message& entry = reflection->GetRepeatedMessage(item, map_field, i);
      const auto* entry_reflection = entry.GetReflection();
      const auto* descriptor = entry.GetDescriptor();
      if (entry_reflection->GetString(entry, descriptor->FindFieldByName("key")) == key) {
        return absl::StripAsciiWhitespace(
                   entry_reflection->GetString(entry, descriptor->FindFieldByName("value")))
            .empty();
      }
    }
    return true;
  }
  const FieldDescriptor* field = item.GetDescriptor()->FindFieldByName(std::string(path));
  if (field == nullptr) return true;
  if (field->is_repeated()) return reflection->FieldSize(item, field) == 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return absl::StripAsciiWhitespace(reflection->GetString(item, field)).empty();
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      if (!reflection->HasField(item, field)) return true;
      const Message& value = reflection->GetMessage(item, field);
      if (const auto* money = dynamic_cast<const v1::Money*>(&value)) {
        return money->amount_minor() == 0;
      }
      return value.ByteSizeLong() == 0;
    }
    case FieldDescriptor::CPPTYPE_ENUM:
      return reflection->GetEnumValue(item, field) == 0;
    case FieldDescriptor::CPPTYPE_BOOL:
      return !reflection->GetBool(item, field);
    default:
      return !reflection->HasField(item, field);
  }
}

std::string StageLine(const v1::PipelineStage& stage) {
  return absl::StrCat(stage.stage_id(), " '", stage.title(), "' ",
                      absl::AsciiStrToLower(absl::StripPrefix(
                          v1::StatusSemantic_Name(stage.semantic()), "STATUS_SEMANTIC_")));
}

}  // namespace

v1::Pipeline DefaultLeadPipeline() {
  return Make(kLeadPipelineId, v1::PIPELINE_KIND_LEAD, "Leads",
              {Stage("NEW", "New", v1::STATUS_SEMANTIC_IN_PROGRESS),
               Stage("IN_PROCESS", "In progress", v1::STATUS_SEMANTIC_IN_PROGRESS),
               Stage("PROCESSED", "Processed", v1::STATUS_SEMANTIC_IN_PROGRESS),
               Stage("CONVERTED", "Converted", v1::STATUS_SEMANTIC_SUCCESS),
               Stage("JUNK", "Junk", v1::STATUS_SEMANTIC_FAILURE)});
}

v1::Pipeline DefaultDealPipeline() {
  return Make(kDefaultDealPipelineId, v1::PIPELINE_KIND_DEAL, "Sales",
              {Stage("NEW", "New", v1::STATUS_SEMANTIC_IN_PROGRESS),
               Stage("PREPARATION", "Preparing documents", v1::STATUS_SEMANTIC_IN_PROGRESS),
               Stage("INVOICE", "Invoice", v1::STATUS_SEMANTIC_IN_PROGRESS),
               Stage("EXECUTING", "In progress", v1::STATUS_SEMANTIC_IN_PROGRESS),
               Stage("WON", "Won", v1::STATUS_SEMANTIC_SUCCESS),
               Stage("LOSE", "Lost", v1::STATUS_SEMANTIC_FAILURE)});
}

const v1::PipelineStage* FindStage(const v1::Pipeline& pipeline, absl::string_view stage_id) {
  for (const auto& stage : pipeline.stages()) {
    if (stage.stage_id() == stage_id) return &stage;
  }
  return nullptr;
}

const v1::PipelineStage* FirstStage(const v1::Pipeline& pipeline, v1::StatusSemantic semantic) {
  for (const auto& stage : pipeline.stages()) {
    if (stage.semantic() == semantic) return &stage;
  }
  return nullptr;
}

absl::Status ValidatePipeline(const v1::Pipeline& pipeline, absl::string_view prefix) {
  const bool lead = pipeline.kind() == v1::PIPELINE_KIND_LEAD;
  if (pipeline.kind() == v1::PIPELINE_KIND_UNSPECIFIED) {
    return InvalidField(absl::StrCat(prefix, ".kind"), "required: lead or deal");
  }
  if (lead && pipeline.pipeline_id() != kLeadPipelineId) {
    return InvalidField(absl::StrCat(prefix, ".pipeline_id"),
                        absl::StrCat("the lead pipeline's id is \"", kLeadPipelineId, "\""));
  }
  if (!lead &&
      (!IsPipelineId(pipeline.pipeline_id()) || pipeline.pipeline_id() == kLeadPipelineId)) {
    return InvalidField(absl::StrCat(prefix, ".pipeline_id"),
                        absl::StrCat("'", pipeline.pipeline_id(),
                                     "' is not a deal pipeline id: 1-63 of a-z, 0-9, '-', "
                                     "not \"lead\""));
  }
  if (pipeline.title().empty()) return InvalidField(absl::StrCat(prefix, ".title"), "required");
  if (pipeline.stages_size() == 0) return InvalidField(absl::StrCat(prefix, ".stages"), "required");
  const google::protobuf::Descriptor* item = lead ? v1::Lead::descriptor() : v1::Deal::descriptor();
  std::set<std::string> ids;
  for (int i = 0; i < pipeline.stages_size(); ++i) {
    const auto& stage = pipeline.stages(i);
    const std::string at = absl::StrCat(prefix, ".stages[", i, "]");
    if (!IsStageId(stage.stage_id())) {
      return InvalidField(absl::StrCat(at, ".stage_id"),
                          absl::StrCat("'", stage.stage_id(), "' is not 1-63 of A-Z, 0-9, '_'"));
    }
    if (!ids.insert(stage.stage_id()).second) {
      return InvalidField(absl::StrCat(at, ".stage_id"),
                          absl::StrCat("'", stage.stage_id(), "' appears twice"));
    }
    if (stage.title().empty()) return InvalidField(absl::StrCat(at, ".title"), "required");
    if (stage.semantic() == v1::STATUS_SEMANTIC_UNSPECIFIED) {
      return InvalidField(absl::StrCat(at, ".semantic"),
                          "required: in_progress, success or failure");
    }
    for (int j = 0; j < stage.required_fields_size(); ++j) {
      if (auto s = CheckRequiredFieldName(item, stage.required_fields(j),
                                          absl::StrCat(at, ".required_fields[", j, "]"));
          !s.ok()) {
        return s;
      }
    }
    for (int j = 0; j < stage.required_activities_size(); ++j) {
      const auto& need = stage.required_activities(j);
      const std::string field = absl::StrCat(at, ".required_activities[", j, "]");
      if (!v1::ActivityType_IsValid(need.type())) {
        return InvalidField(absl::StrCat(field, ".type"), "unknown activity type");
      }
      if (need.robot_id().empty()) continue;
      const auto robot =
          std::find_if(pipeline.robots().begin(), pipeline.robots().end(),
                       [&](const v1::Robot& r) { return r.robot_id() == need.robot_id(); });
      if (robot == pipeline.robots().end() || !robot->action().has_create_activity()) {
        return InvalidField(absl::StrCat(field, ".robot_id"),
                            absl::StrCat("no robot '", need.robot_id(),
                                         "' that plans an activity in this pipeline"));
      }
    }
  }
  if (pipeline.stages(0).semantic() != v1::STATUS_SEMANTIC_IN_PROGRESS) {
    return InvalidField(absl::StrCat(prefix, ".stages[0].semantic"),
                        "the first stage is where items start: it must be in progress");
  }
  if (FirstStage(pipeline, v1::STATUS_SEMANTIC_FAILURE) == nullptr) {
    return InvalidField(absl::StrCat(prefix, ".stages"), "needs a failure stage (junk / lost)");
  }
  if (FirstStage(pipeline, v1::STATUS_SEMANTIC_SUCCESS) == nullptr) {
    return InvalidField(absl::StrCat(prefix, ".stages"), "needs a success stage (converted / won)");
  }
  if (!lead && pipeline.conversion_required_fields_size() > 0) {
    return InvalidField(absl::StrCat(prefix, ".conversion_required_fields"),
                        "only the lead pipeline has them");
  }
  for (int j = 0; j < pipeline.conversion_required_fields_size(); ++j) {
    if (auto s =
            CheckRequiredFieldName(item, pipeline.conversion_required_fields(j),
                                   absl::StrCat(prefix, ".conversion_required_fields[", j, "]"));
        !s.ok()) {
      return s;
    }
  }
  return ValidateRobots(pipeline, prefix);
}

namespace {

// "robot call-back added", "robot call-back changed", "trigger x removed".
template <typename Rule>
void DiffRules(const google::protobuf::RepeatedPtrField<Rule>& before,
               const google::protobuf::RepeatedPtrField<Rule>& after, absl::string_view what,
               const std::string& (Rule::*id)() const, std::vector<std::string>& lines) {
  const auto find = [id](const auto& rules, const std::string& wanted) -> const Rule* {
    for (const auto& rule : rules) {
      if ((rule.*id)() == wanted) return &rule;
    }
    return nullptr;
  };
  for (const auto& rule : before) {
    if (find(after, (rule.*id)()) == nullptr)
      lines.push_back(absl::StrCat(what, " ", (rule.*id)(), " removed"));
  }
  for (const auto& rule : after) {
    const Rule* old = find(before, (rule.*id)());
    if (old == nullptr) {
      lines.push_back(absl::StrCat(what, " ", (rule.*id)(), " added"));
    } else if (SerializeDeterministic(*old) != SerializeDeterministic(rule)) {
      lines.push_back(absl::StrCat(what, " ", (rule.*id)(), " changed"));
    }
  }
}

}  // namespace

std::vector<std::string> DiffPipeline(const v1::Pipeline& before, const v1::Pipeline& after) {
  std::vector<std::string> lines;
  if (before.title() != after.title()) {
    lines.push_back(absl::StrCat("title '", before.title(), "' → '", after.title(), "'"));
  }
  if (before.removed() && !after.removed()) lines.push_back("restored");
  for (const auto& stage : before.stages()) {
    if (FindStage(after, stage.stage_id()) == nullptr) {
      lines.push_back(absl::StrCat("stage ", stage.stage_id(), " removed"));
    }
  }
  std::vector<std::string> old_order;
  std::vector<std::string> new_order;
  for (const auto& stage : after.stages()) {
    const v1::PipelineStage* old = FindStage(before, stage.stage_id());
    if (old == nullptr) {
      lines.push_back(absl::StrCat(
          "stage ", StageLine(stage), " added",
          stage.required_fields().empty()
              ? ""
              : absl::StrCat(" (requires ", absl::StrJoin(stage.required_fields(), ", "), ")")));
      continue;
    }
    new_order.push_back(stage.stage_id());
    if (old->title() != stage.title()) {
      lines.push_back(absl::StrCat("stage ", stage.stage_id(), ": title '", old->title(), "' → '",
                                   stage.title(), "'"));
    }
    if (old->semantic() != stage.semantic()) {
      lines.push_back(
          absl::StrCat("stage ", stage.stage_id(), ": ", StageLine(*old), " → ", StageLine(stage)));
    }
    const auto joined = [](const auto& fields) {
      return fields.empty() ? std::string("none") : absl::StrJoin(fields, ", ");
    };
    if (!std::equal(old->required_fields().begin(), old->required_fields().end(),
                    stage.required_fields().begin(), stage.required_fields().end())) {
      lines.push_back(absl::StrCat("stage ", stage.stage_id(), ": required fields ",
                                   joined(old->required_fields()), " → ",
                                   joined(stage.required_fields())));
    }
    auto activities = [](const v1::PipelineStage& s) {
      std::vector<std::string> out;
      for (const auto& need : s.required_activities()) {
        out.push_back(absl::StrCat(
            need.type() == v1::ACTIVITY_TYPE_UNSPECIFIED
                ? std::string("any")
                : absl::AsciiStrToLower(
                      absl::StripPrefix(v1::ActivityType_Name(need.type()), "ACTIVITY_TYPE_")),
            need.robot_id().empty() ? "" : absl::StrCat(" by robot ", need.robot_id())));
      }
      return out;
    };
    if (activities(*old) != activities(stage)) {
      lines.push_back(absl::StrCat("stage ", stage.stage_id(), ": required activities ",
                                   joined(activities(*old)), " → ", joined(activities(stage))));
    }
  }
  for (const auto& stage : before.stages()) {
    if (FindStage(after, stage.stage_id()) != nullptr) old_order.push_back(stage.stage_id());
  }
  if (old_order != new_order) {
    lines.push_back(absl::StrCat("stage order ", absl::StrJoin(old_order, ", "), " → ",
                                 absl::StrJoin(new_order, ", ")));
  }
  if (!std::equal(
          before.conversion_required_fields().begin(), before.conversion_required_fields().end(),
          after.conversion_required_fields().begin(), after.conversion_required_fields().end())) {
    lines.push_back(absl::StrCat("conversion required fields ",
                                 before.conversion_required_fields().empty()
                                     ? std::string("none")
                                     : absl::StrJoin(before.conversion_required_fields(), ", "),
                                 " → ",
                                 after.conversion_required_fields().empty()
                                     ? std::string("none")
                                     : absl::StrJoin(after.conversion_required_fields(), ", ")));
  }
  DiffRules(before.robots(), after.robots(), "robot", &v1::Robot::robot_id, lines);
  DiffRules(before.triggers(), after.triggers(), "trigger", &v1::Trigger::trigger_id, lines);
  return lines;
}

std::vector<std::string> MissingFields(
    const google::protobuf::Message& item,
    const google::protobuf::RepeatedPtrField<std::string>& required) {
  std::vector<std::string> missing;
  for (const auto& path : required) {
    if (IsEmpty(item, path)) missing.push_back(path);
  }
  return missing;
}

absl::Status CheckRequiredFields(const google::protobuf::Message& item,
                                 const google::protobuf::RepeatedPtrField<std::string>& required,
                                 absl::string_view what) {
  std::vector<std::string> missing = MissingFields(item, required);
  if (missing.empty()) return absl::OkStatus();
  return FieldErrors(absl::StatusCode::kFailedPrecondition, missing,
                     absl::StrCat("required for ", what, " but empty"));
}

absl::Status CheckRequiredActivities(
    const v1::PipelineStage& stage,
    const google::protobuf::RepeatedPtrField<v1::Activity>& activities, absl::string_view what) {
  std::vector<std::string> fields;
  std::vector<std::string> missing;
  for (int i = 0; i < stage.required_activities_size(); ++i) {
    const auto& need = stage.required_activities(i);
    const bool done = std::any_of(activities.begin(), activities.end(), [&](const auto& a) {
      return a.state() == v1::ACTIVITY_STATE_COMPLETED &&
             (need.type() == v1::ACTIVITY_TYPE_UNSPECIFIED || a.type() == need.type()) &&
             (need.robot_id().empty() || a.robot_id() == need.robot_id());
    });
    if (done) continue;
    fields.push_back(absl::StrCat("required_activities[", i, "]"));
    std::string type =
        need.type() == v1::ACTIVITY_TYPE_UNSPECIFIED
            ? std::string("an activity")
            : absl::StrCat("a ", absl::AsciiStrToLower(absl::StripPrefix(
                                     v1::ActivityType_Name(need.type()), "ACTIVITY_TYPE_")));
    missing.push_back(absl::StrCat(
        type, need.robot_id().empty() ? "" : absl::StrCat(" planned by robot ", need.robot_id())));
  }
  if (fields.empty()) return absl::OkStatus();
  return FieldErrors(absl::StatusCode::kFailedPrecondition, fields,
                     absl::StrCat(what, " needs ", absl::StrJoin(missing, " and "), " done first"));
}

PipelineSet::PipelineSet() {
  Put(DefaultLeadPipeline());
  Put(DefaultDealPipeline());
}

void PipelineSet::Put(v1::Pipeline pipeline) {
  std::string id = pipeline.pipeline_id();
  pipelines_[std::move(id)] = std::move(pipeline);
}

const v1::Pipeline& PipelineSet::lead() const {
  return pipelines_.find(std::string(kLeadPipelineId))->second;
}

const v1::Pipeline* PipelineSet::Find(absl::string_view pipeline_id) const {
  auto it = pipelines_.find(std::string(pipeline_id));
  return it == pipelines_.end() ? nullptr : &it->second;
}

const v1::Pipeline* PipelineSet::FindDeal(absl::string_view pipeline_id) const {
  const v1::Pipeline* found = Find(pipeline_id);
  return found != nullptr && found->kind() == v1::PIPELINE_KIND_DEAL ? found : nullptr;
}

}  // namespace leadflow::domain
