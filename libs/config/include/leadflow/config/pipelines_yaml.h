#pragma once

#include <google/protobuf/repeated_ptr_field.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "leadflow/v1/crm.pb.h"

namespace leadflow::config {

// Reads pipelines, their robots and triggers from YAML text
// ("pipelines: [...]", the format of examples/pipelines/default.yaml) into
// `pipelines`. INVALID_ARGUMENT naming the line and the key at fault as a
// path ("line 7: pipelines[0].stages[1].semantic: ..."); never throws.
// What the server checks of a pipeline (domain::ValidatePipeline) is not
// checked here.
absl::Status ReadPipelinesYaml(absl::string_view text,
                               google::protobuf::RepeatedPtrField<v1::Pipeline>* pipelines);

}  // namespace leadflow::config
