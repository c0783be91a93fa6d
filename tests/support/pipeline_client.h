#pragma once

#include <vector>

#include "leadflow/v1/service.grpc.pb.h"

namespace leadflow::testing {

// ApplyPipelines with `pipelines`; REQUIREs that it succeeds.
v1::ApplyPipelinesResponse ApplyPipelines(v1::PipelineService::Stub& stub,
                                          std::vector<v1::Pipeline> pipelines);

}  // namespace leadflow::testing
