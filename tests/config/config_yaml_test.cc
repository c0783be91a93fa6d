// The YAML readers of libs/config: what they read, and every way they
// refuse, with the line and the key named.
#include <catch2/catch.hpp>

#include "leadflow/config/access_yaml.h"
#include "leadflow/config/flag_file.h"
#include "leadflow/config/pipelines_yaml.h"

namespace leadflow::config {
namespace {

std::string PipelinesRefusal(const std::string& text) {
  google::protobuf::RepeatedPtrField<v1::Pipeline> pipelines;
  const absl::Status status = ReadPipelinesYaml(text, &pipelines);
  REQUIRE(!status.ok());
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

constexpr const char* kStages = R"(pipelines:
  - id: lead
    kind: lead
    title: Leads
    stages:
      - {id: NEW, title: New, semantic: in_progress}
      - {id: WON, title: Won, semantic: success}
)";

TEST_CASE("pipelines YAML: a pipeline with stages is read") {
  google::protobuf::RepeatedPtrField<v1::Pipeline> pipelines;
  REQUIRE(ReadPipelinesYaml(kStages, &pipelines).ok());
  REQUIRE(pipelines.size() == 1);
  CHECK(pipelines[0].pipeline_id() == "lead");
  REQUIRE(pipelines[0].stages_size() == 2);
  CHECK(pipelines[0].stages(1).semantic() == v1::STATUS_SEMANTIC_SUCCESS);
}

TEST_CASE("pipelines YAML: every refusal names the line and the key") {
  CHECK(PipelinesRefusal("pipelines: [").find("line 1: ") == 0);  // not YAML
  CHECK(PipelinesRefusal("- a\n- b\n") == "line 1: expected keys (pipelines)");
  CHECK(PipelinesRefusal("pipelines: []\n") == "line 1: pipelines: needs at least one pipeline");
  CHECK(PipelinesRefusal("pipelines: x\n") == "line 1: pipelines: expected a list");
  CHECK(PipelinesRefusal("pipelines:\n").find("pipelines: needs a value") != std::string::npos);
  CHECK(PipelinesRefusal("colour: red\n") == "line 1: colour: unknown key (known: pipelines)");
  CHECK(PipelinesRefusal(std::string(kStages) + "pipelines: []\n").find("pipelines: given twice") !=
        std::string::npos);
  const std::string bad_semantic = PipelinesRefusal(
      "pipelines:\n  - id: lead\n    kind: lead\n    stages:\n      - {id: NEW, "
      "semantic: sideways}\n");
  CHECK(bad_semantic.find("line 5: pipelines[0].stages[0].semantic: 'sideways'") == 0);
  const std::string bad_key =
      PipelinesRefusal("pipelines:\n  - id: lead\n    kind: lead\n    colour: red\n");
  CHECK(bad_key.find("line 4: pipelines[0].colour: unknown key") == 0);
  const std::string not_string = PipelinesRefusal("pipelines:\n  - id: [a, b]\n    kind: lead\n");
  CHECK(not_string.find("line 2: pipelines[0].id: expected a string") == 0);
}

TEST_CASE("access YAML: refusals name the line and the key") {
  v1::AccessPolicy policy;
  const absl::Status unknown = ReadAccessYaml("access:\n  colour: red\n", &policy);
  REQUIRE(!unknown.ok());
  CHECK(unknown.message().find("line 2: access.colour: unknown key") == 0);
  const absl::Status broken = ReadAccessYaml("access: {roles: [\n", &policy);
  REQUIRE(!broken.ok());
  CHECK(broken.message().find("line ") == 0);
  const absl::Status not_list = ReadAccessYaml("access:\n  roles: admin\n", &policy);
  REQUIRE(!not_list.ok());
  CHECK(not_list.message() == "line 2: access.roles: expected a list");
}

TEST_CASE("flag file: settings in file order, lists, '_' for '-'") {
  auto settings = ParseFlagFile(
      "# comment\ndata-dir: /var/lib/leadflow\ndefault_region: KZ\nsupervisors: [olga, ivan]\n"
      "sync-writes: false\n");
  REQUIRE(settings.ok());
  REQUIRE(settings->size() == 4);
  CHECK((*settings)[0].name == "data-dir");
  CHECK((*settings)[0].values == std::vector<std::string>{"/var/lib/leadflow"});
  CHECK((*settings)[0].line == 2);
  CHECK((*settings)[1].name == "default-region");
  CHECK((*settings)[2].values == std::vector<std::string>{"olga", "ivan"});
  CHECK((*settings)[3].values == std::vector<std::string>{"false"});
  auto empty = ParseFlagFile("# nothing set\n");
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("flag file: every refusal names the line and the key") {
  auto message = [](const std::string& text) {
    auto settings = ParseFlagFile(text);
    REQUIRE(!settings.ok());
    CHECK(settings.status().code() == absl::StatusCode::kInvalidArgument);
    return std::string(settings.status().message());
  };
  CHECK(message("- a\n- b\n") == "line 1: expected a map of flag: value");
  CHECK(message("just text\n") == "line 1: expected a map of flag: value");
  CHECK(message("a: 1\na: 2\n") == "line 2: a: given twice");
  CHECK(message("a: 1\ndata_dir: x\ndata-dir: y\n") == "line 3: data-dir: given twice");
  CHECK(message("listen:\n") == "line 1: listen: needs a value");
  CHECK(message("listen:\n  host: a\n") ==
        "line 2: listen: expected a value or a list of values, not a map");
  CHECK(message("supervisors: [a, [b]]\n") == "line 1: supervisors: a list of plain values only");
  CHECK(message("[a]: 1\n") == "line 1: a key must be a flag's name");
  CHECK(message("a: [1\n").find("line ") == 0);
}

}  // namespace
}  // namespace leadflow::config
