#include "support/pipeline_client.h"

#include <catch2/catch.hpp>

#include "support/server_process.h"

namespace leadflow::testing {

v1::ApplyPipelinesResponse ApplyPipelines(v1::PipelineService::Stub& stub,
                                          std::vector<v1::Pipeline> pipelines) {
  v1::ApplyPipelinesRequest request;
  for (auto& p : pipelines) *request.add_pipelines() = std::move(p);
  v1::ApplyPipelinesResponse response;
  auto status = stub.ApplyPipelines(Deadline().get(), request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return response;
}

}  // namespace leadflow::testing
