#pragma once

// The parts of robots that read an item: conditions, templates, field values.

#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "leadflow/v1/crm.pb.h"

namespace leadflow::domain {

// The value of a condition field of a lead or deal as text: scalars as
// written, bools "true"/"false", enums by their short name ("CALL"),
// "opportunity" in major units ("1500.5"), "currency", map entries
// ("custom_fields.<key>", "source_details.<key>"). "" when unset.
std::string FieldText(const v1::AggregateState& state, absl::string_view field);

bool ConditionsHold(const v1::AggregateState& state,
                    const google::protobuf::RepeatedPtrField<v1::RobotCondition>& conditions);

// Whether `field` names something a condition can read on `item`
// (a Lead or Deal descriptor).
bool IsConditionField(const google::protobuf::Descriptor* item, absl::string_view field);

using TemplateValues = std::map<std::string, std::string>;
// {{title}}, {{name}}, {{phone}}, {{email}}, {{item}}, {{responsible}},
// {{stage}}, {{custom_fields.<key>}}; for an activity also {{activity}}.
TemplateValues ItemValues(const v1::AggregateState& state, absl::string_view responsible);
// Replaces each {{key}} of `text` with its value ("" for unknown keys).
std::string Render(absl::string_view text, const TemplateValues& values);

}  // namespace leadflow::domain
