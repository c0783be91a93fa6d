// Pipeline files as people write them: the YAML reader, then the server's
// validation of what it read (stages, required fields, robots, triggers).
// Errors are values; nothing may throw, crash, hang or leak.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "leadflow/config/pipelines_yaml.h"
#include "leadflow/domain/pipelines.h"
#include "leadflow/domain/robots.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  google::protobuf::RepeatedPtrField<leadflow::v1::Pipeline> pipelines;
  if (!leadflow::config::ReadPipelinesYaml(text, &pipelines).ok()) return 0;
  for (const auto& pipeline : pipelines) {
    if (!leadflow::domain::ValidatePipeline(pipeline).ok()) continue;
    (void)leadflow::domain::ValidateRobots(pipeline, "pipeline");
  }
  return 0;
}
